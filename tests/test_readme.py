"""The README as a newcomer reads it: its configuration example, copied as
it stands, is a file `streamshim check-config` accepts; it names no file
outside the repository; every repository path it names exists; it names
the two commands, `make demo` and `make test`."""

import glob
import re

import pytest

from conftest import BUILD_DIR, ROOT, plain_env, run

README = ROOT / "README.md"
WRAPPER = ROOT / "scripts" / "streamshim"
# Prose in backticks that looks like a path: a slash, and a file extension
# or a trailing slash.
PATHLIKE = re.compile(r"^[\w.*-]+(?:/[\w.*-]+)*(?:/|\.[A-Za-z0-9]+)$")
# Paths that are not in the repository by design: the installed layout,
# systemd's and Debian's files, the user's, URL paths, and what make builds.
ELSEWHERE = ("/", "~", "$", "...", "PREFIX/", "build/")
# A span starting with one of the tree's folders is a repository path even
# without an extension (scripts/streamshim, .ci/run).
TREE = ("shim/", "hooks/", "scripts/", "tests/", ".ci/")


def readme():
    return README.read_text(encoding="utf-8")


def config_example(text):
    """The indented block under "### The configuration file": the lines
    indented four spaces (and the blank lines between them), from the first
    to the first line of prose, without the indent."""
    start = text.index("\n", text.index("\n### The configuration file\n") + 1)
    lines, started = [], False
    for line in text[start:].splitlines():
        if line.startswith("    "):
            started = True
            lines.append(line[4:])
        elif not line.strip():
            if started:
                lines.append("")
        elif started:
            break
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def test_the_configuration_example_is_accepted(tmp_path):
    """check-config (the library's own parser) finds no problem in the
    example as it stands, trailing comments and all."""
    example = config_example(readme())
    assert example.startswith("# Comments are whole lines starting with"), example
    assert '[refusal "' in example and "mode = auto" in example
    conf = tmp_path / "config"
    conf.write_text(example, encoding="utf-8")
    env = plain_env(HOME=tmp_path, XDG_CONFIG_HOME=None,
                    STREAMSHIM_LIBRARY=BUILD_DIR / "libstreamshim.so")
    r = run([WRAPPER, "check-config", conf], env=env)
    out = (r.stdout + r.stderr).decode("utf-8", "replace")
    assert r.returncode == 0, out
    assert f"{conf}:" not in out, out  # no FILE:LINE: problem lines


def backticked(text):
    """Every `...` span of the README's prose (code blocks left out)."""
    prose = "\n".join(l for l in text.splitlines() if not l.startswith("    "))
    return re.findall(r"`([^`\n]+)`", prose)


def test_names_no_file_outside_the_repository():
    """No ../ (but the .deb dpkg-buildpackage writes beside the tree, and
    the "..." of URL paths like .../chat/completions), no specs/."""
    text = readme()
    for bad in ("../shared", "specs/", "sse-formats"):
        assert bad not in text, bad
    up = [text[max(0, m.start() - 30):m.end() + 30]
          for m in re.finditer(r"(?<!\.)\.\./(?!streamshim_)", text)]
    assert not up, up


def test_every_repository_path_named_exists():
    missing = []
    for span in {w.strip("()[],;:'\"") for s in backticked(readme()) for w in s.split()}:
        if "/" not in span:
            continue
        if not PATHLIKE.match(span) and not span.startswith(TREE):
            continue
        if span.startswith(ELSEWHERE):
            continue
        found = glob.glob(str(ROOT / span)) if "*" in span else [
            p for p in [ROOT / span] if p.exists()]
        if not found:
            missing.append(span)
    assert not missing, missing


@pytest.mark.parametrize("command", ["make demo", "make test"])
def test_names_the_two_commands(command):
    text = readme()
    two = text[text.index("## Two commands\n"):text.index("\n## Install\n")]
    assert re.search(rf"^    {command} ", two, re.M), command
