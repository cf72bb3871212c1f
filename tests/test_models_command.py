"""`streamshim models`: what auto mode knows (scripts/streamshim-ctl.c via
the wrapper scripts/streamshim), `--forget`, `--json`, absent and
unreadable caches; and the wrapper still runs programs, one literally
named `models` included, with its new options --mode auto, --cache, --pace."""

import json
import os
import re
import stat
import subprocess

import pytest

from conftest import BUILD_DIR, ROOT, plain_env, run, shim_env

WRAPPER = ROOT / "scripts" / "streamshim"
CTL = BUILD_DIR / "streamshim-ctl"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"

CONFIG = """\
mode = auto
models = o3-mini*, o1*
cache_ttl = 7d
[refusal "relay"]
status = 500
field error.type = server_error
message = *Cannot use tools with stream*
[refusal "broken"]
status = 99
[refusal "gate"]
body = *verified to stream*
"""


def wrapper_env(**extra):
    """The environment for the wrapper: the library (and the ctl next to
    it) from this build; a sanitizer runtime stays in LD_PRELOAD."""
    env = shim_env()
    first = env.pop("LD_PRELOAD").split()[:-1]
    if first:
        env["LD_PRELOAD"] = " ".join(first)
    env["STREAMSHIM_LIBRARY"] = str(BUILD_DIR / "libstreamshim.so")
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def models(*args, env):
    r = run([WRAPPER, "models", *args], env=env)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def learn(env, host, *models_, at=None, secret=None, rule=None):
    cmd = [CTL, "learn"]
    if at is not None:
        cmd += ["--at", str(at)]
    if secret is not None:
        cmd += ["--secret", secret]
    if rule is not None:
        cmd += ["--rule", rule]
    r = run(cmd + [host, *models_], env=env)
    assert r.returncode == 0, r.stderr


@pytest.fixture
def setup(tmp_path):
    if not CTL.is_file():
        pytest.fail(f"{CTL} is not built (make BUILD=... all)", pytrace=False)
    conf = tmp_path / "streamshim.conf"
    conf.write_text(CONFIG)
    cache = tmp_path / "cache" / "refusals"
    env = wrapper_env(STREAMSHIM_CONFIG=conf, STREAMSHIM_CACHE=cache,
                      STREAMSHIM_MODELS=None, STREAMSHIM_MODE=None)
    return conf, cache, env


def table_rows(out):
    """The learned-refusals table: header and rows as lists of lines."""
    lines = out.split("\n")
    i = next(k for k, l in enumerate(lines) if l.lstrip().startswith("SOURCE"))
    rows = []
    for l in lines[i + 1:]:
        if not l.strip():
            break
        rows.append(l)
    return lines[i], rows


def test_models_shows_everything(setup):
    conf, cache, env = setup
    learn(env, "api.openai.com", "o1-mini", "o3", secret="sk-abc")
    learn(env, "relay.local", "gpt-5\twith tab", rule="relay")
    learn(env, "old.example", "o1-preview", at=1700000000)
    rc, out, err = models(env=env)
    assert rc == 0, err
    # The broken rule is reported like the library would log it, and dropped.
    assert f"config {conf}:9: refusal \"broken\"" in err
    lines = out.split("\n")
    assert lines[0] == "mode      auto"
    assert lines[1] == f"config    {conf}"
    assert lines[2] == "models    o3-mini*, o1*  (de-streamed up front)"
    assert lines[3] == f"cache     {cache}  (entries hold 7d)"
    assert "refusal rules (tried in order):" in out
    assert re.search(r"\n  NAME +MATCHES\n  built-in  status 400, field error.param = "
                     r"\"stream\", field error.code = \"unsupported_value\"\n"
                     r"  relay     status 500, field error.type = \"server_error\", "
                     r"message \"\*Cannot use tools with stream\*\"\n"
                     r"  gate      status 400, body \"\*verified to stream\*\"\n", out), out
    assert "broken" not in out
    assert "learned refusals (4):" in out
    head, rows = table_rows(out)
    assert head.split() == ["SOURCE", "HOST", "MODEL", "CREDENTIAL", "LEARNED", "EXPIRES"]
    assert len(rows) == 4
    cols = [head.index(c) for c in ("HOST", "MODEL", "CREDENTIAL", "LEARNED", "EXPIRES")]
    for row in rows:  # aligned: every cell starts under its heading
        for c in cols:
            assert row[c - 2:c] == "  " and row[c] != " ", (row, c)
    # The oldest first; the expired one marked; a tab shown escaped.
    assert rows[0].split() == ["built-in", "old.example", "o1-preview", "-",
                               "2023-11-14T22:13:20Z", "2023-11-21T22:13:20Z", "(expired)"]
    fp = "1460db1b6902f8b1"  # sha256("sk-abc")[:16]
    byhost = {r.split()[2]: r.split() for r in rows}
    assert byhost["o1-mini"][:4] == ["built-in", "api.openai.com", "o1-mini", fp]
    assert re.fullmatch(ISO, byhost["o3"][4]) and re.fullmatch(ISO, byhost["o3"][5])
    assert len(byhost["o3"]) == 6  # not expired
    assert "gpt-5\\twith tab" in out and "gpt-5\twith" not in out
    assert next(r for r in rows if "relay.local" in r).split()[0] == "relay"


def test_models_json(setup):
    conf, cache, env = setup
    learn(env, "api.openai.com", "o1-mini", secret="sk-abc")
    learn(env, "old.example", "o1-preview", at=1700000000)
    rc, out, err = models("--json", env=env)
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["mode"] == "auto" and doc["config"] == str(conf)
    assert doc["models"] == ["o3-mini*", "o1*"]
    assert doc["cache"] == {"path": str(cache), "ttl": 7 * 86400, "readable": True,
                            "writable": True, "problem": None}
    assert [r["name"] for r in doc["rules"]] == ["built-in", "relay", "gate"]
    assert doc["rules"][0]["builtin"] and doc["rules"][1]["status"] == 500
    old, new = doc["learned"]
    assert old == {"source": "built-in", "host": "old.example", "model": "o1-preview",
                   "fingerprint": "-", "learned": "2023-11-14T22:13:20Z",
                   "learned_unix": 1700000000, "expires": "2023-11-21T22:13:20Z",
                   "expires_unix": 1700604800, "expired": True}
    assert new["fingerprint"] == "1460db1b6902f8b1" and not new["expired"]


def test_environment_overrides_the_file(setup):
    conf, cache, env = setup
    env.update(STREAMSHIM_MODE="force", STREAMSHIM_MODELS="gpt-x", STREAMSHIM_CACHE_TTL="90m")
    rc, out, err = models(env=env)
    assert rc == 0, err
    assert "mode      force\n" in out and "models    gpt-x  (de-streamed" in out
    assert "(entries hold 90m)" in out
    # --config and --cache given to the command win.
    other = cache.parent.parent / "other.conf"
    other.write_text("mode = off\n")
    env.pop("STREAMSHIM_MODE")
    rc, out, err = models("--config", other, "--cache", "off", env=env)
    assert rc == 0, err
    assert "mode      off\n" in out and "cache     off" in out
    assert "relay" not in out
    assert "learned refusals: none in a file (cache off)" in out


def test_forget_pattern_and_all(setup):
    conf, cache, env = setup
    learn(env, "api.openai.com", "o1-mini", "o1-preview", "o3")
    learn(env, "o1-proxy.local", "gpt-5")  # matched by its host
    learn(env, "other.local", "gpt-4o")
    rc, out, err = models("--forget", "o1*", env=env)
    assert rc == 0, err
    assert out == "forgot 3 learned refusals matching 'o1*'\n"
    text = cache.read_text()
    assert "o1-mini" not in text and "o1-proxy" not in text and "\to3\t" in text
    rc, out, _ = models("--forget=gpt-4?", env=env)
    assert out == "forgot 1 learned refusal matching 'gpt-4?'\n"
    rc, out, _ = models("--forget", "nothing*", env=env)
    assert rc == 0 and out == "forgot 0 learned refusals matching 'nothing*'\n"
    rc, out, _ = models("--forget", env=env)
    assert rc == 0 and out == "forgot 1 learned refusal\n"
    assert [l for l in cache.read_text().splitlines() if not l.startswith("#")] == []
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    rc, out, _ = models(env=env)
    assert "learned refusals: none\n" in out


def test_absent_cache(setup, tmp_path):
    conf, cache, env = setup
    rc, out, err = models(env=env)
    assert rc == 0, err
    assert "learned refusals: none\n" in out
    rc, out, err = models("--forget", env=env)
    assert rc == 0 and out == "forgot 0 learned refusals\n"
    # The file is started for its forget record: a process that learned
    # before the forget and writes only now must find it.
    assert "#!forget\t" in cache.read_text()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    rc, out, err = models(env=env)
    assert rc == 0 and "learned refusals: none\n" in out
    # No HOME, no XDG_CACHE_HOME, no cache setting: no file at all.
    env2 = dict(env)
    for k in ("HOME", "XDG_CACHE_HOME", "STREAMSHIM_CACHE"):
        env2.pop(k, None)
    rc, out, err = models(env=env2)
    assert rc == 0, err
    assert "cache     off" in out
    # The default path.
    env2["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    rc, out, _ = models(env=env2)
    assert f"cache     {tmp_path}/xdg/streamshim/refusals  (entries hold 7d)" in out
    learn(env2, "h", "m")
    assert stat.S_IMODE((tmp_path / "xdg" / "streamshim").stat().st_mode) == 0o700
    rc, out, _ = models(env=env2)
    assert "learned refusals (1):" in out


def test_unreadable_or_unwritable_cache(setup, tmp_path):
    conf, cache, env = setup
    # A directory where the file should be: cannot be read nor rewritten.
    cache.mkdir(parents=True)
    rc, out, err = models(env=env)
    assert rc == 1
    assert "CANNOT BE READ (a directory)" in out and "learned refusals: unknown" in out
    rc, out, err = models("--forget", env=env)
    assert rc == 1 and "cannot be rewritten (a directory)" in err
    assert cache.is_dir()
    # Learning there stays in memory: nothing written, and the ctl says so.
    r = run([CTL, "learn", "h", "m"], env=env)
    assert r.returncode == 1 and b"not written, kept in memory only (a directory)" in r.stderr
    assert cache.is_dir() and list(cache.iterdir()) == []
    # A symlink is not followed.
    target = tmp_path / "target"
    target.write_text("h\tm\t-\t1\t99999999999\tbuilt-in\n")
    link = tmp_path / "link"
    link.symlink_to(target)
    env["STREAMSHIM_CACHE"] = str(link)
    rc, out, _ = models(env=env)
    assert rc == 1 and "CANNOT BE READ (a symlink (never followed))" in out
    r = run([CTL, "learn", "h", "m2"], env=env)
    assert r.returncode == 1 and b"kept in memory only" in r.stderr
    assert target.read_text() == "h\tm\t-\t1\t99999999999\tbuilt-in\n"
    # Under a regular file: absent, and it cannot be created.
    env["STREAMSHIM_CACHE"] = str(target / "sub" / "refusals")
    rc, out, _ = models(env=env)
    assert rc == 1 and "learned refusals: none" in out
    assert f"CANNOT BE WRITTEN ({target} is not a directory)" in out
    r = run([CTL, "learn", "h", "m3"], env=env)
    assert r.returncode == 1 and b"is not a directory" in r.stderr


def test_models_usage_errors(setup):
    conf, cache, env = setup
    for args in (["--bogus"], ["--config"], ["--cache"], ["extra"]):
        rc, out, err = models(*args, env=env)
        assert rc == 2 and "Usage:" in err, args
    rc, out, err = models("--help", env=env)
    assert rc == 0 and "--forget" in err


def test_ctl_missing(tmp_path):
    fake = tmp_path / "libstreamshim.so"
    fake.write_bytes(b"")
    r = run([WRAPPER, "models"], env=wrapper_env(STREAMSHIM_LIBRARY=fake))
    assert r.returncode == 1 and b"streamshim-ctl not found" in r.stderr


@pytest.fixture
def models_program(tmp_path):
    """A program literally named `models` on PATH."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    prog = bindir / "models"
    prog.write_text("#!/bin/sh\necho \"I am models: $*\"\n")
    prog.chmod(0o755)
    return bindir


def test_programs_still_run(setup, models_program):
    conf, cache, env = setup
    env["PATH"] = f"{models_program}:{env['PATH']}"
    r = run([WRAPPER, "--", "models", "a"], env=env)
    assert r.returncode == 0 and r.stdout == b"I am models: a\n", r.stderr
    r = run([WRAPPER, "--mode", "auto", "models", "b"], env=env)
    assert r.returncode == 0 and r.stdout == b"I am models: b\n", r.stderr
    r = run([WRAPPER, "--models", "x", "--", "models"], env=env)
    assert r.returncode == 0 and r.stdout == b"I am models: \n", r.stderr
    # As the first argument, the subcommand wins over the program.
    r = run([WRAPPER, "models"], env=env)
    assert r.returncode == 0 and r.stdout.startswith(b"mode      auto\n"), r.stderr
    r = run([WRAPPER, "--", "echo", "hello"], env=env)
    assert r.returncode == 0 and r.stdout == b"hello\n"


def test_wrapper_options(setup, tmp_path):
    conf, cache, env = setup
    r = run([WRAPPER, "--mode", "auto", "--cache", "rel/refusals", "--pace", "250",
             "--", "env"], env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    got = dict(l.split("=", 1) for l in r.stdout.decode().splitlines() if "=" in l)
    assert got["STREAMSHIM_MODE"] == "auto"
    assert got["STREAMSHIM_CACHE"] == f"{tmp_path}/rel/refusals"
    assert got["STREAMSHIM_PACE"] == "250"
    r = run([WRAPPER, "--cache=off", "--pace=0", "--mode=force", "env"], env=env)
    got = dict(l.split("=", 1) for l in r.stdout.decode().splitlines() if "=" in l)
    assert (got["STREAMSHIM_CACHE"], got["STREAMSHIM_PACE"], got["STREAMSHIM_MODE"]) == \
        ("off", "0", "force")
    for bad in (["--mode", "sometimes"], ["--pace", "60001"], ["--pace", "-1"],
                ["--pace", "1e3"], ["--pace", "123456"], ["--cache", ""], ["--pace"]):
        r = run([WRAPPER, *bad, "--", "true"], env=env)
        assert r.returncode == 2, bad
    r = run([WRAPPER, "--help"], env=env)
    help_text = r.stdout.decode()
    assert "auto, force or off" in help_text and "--cache PATH|off" in help_text
    assert "--pace MS" in help_text and "streamshim -- models" in help_text


def test_the_readme_configuration_example_parses_as_it_reads(setup, tmp_path):
    """The README's example file, copied as it stands, gives what its
    comments say: no warning, every value exactly as written."""
    text = (ROOT / "README.md").read_text()
    start = text.index("    # Comments are whole lines starting with")
    block = text[start:text.index("\n\n", text.index("[refusal", start))]
    conf = tmp_path / "readme.conf"
    conf.write_text("\n".join(line[4:] for line in block.splitlines()) + "\n")
    env = wrapper_env(STREAMSHIM_CONFIG=conf, STREAMSHIM_CACHE="off", STREAMSHIM_MODELS=None)
    rc, out, err = models("--json", env=env)
    assert rc == 0 and "config" not in err.lower(), err
    doc = json.loads(out)
    assert doc["mode"] == "auto"
    assert doc["models"] == ["o3-mini*", "o1*", "my deployment"]
    assert [r["name"] for r in doc["rules"]] == ["built-in", "llama.cpp with tools"]
    assert doc["rules"][1]["status"] == 500


def test_names_are_shown_escaped(setup):
    """A name with control bytes, a C1 control and bytes that are not UTF-8
    is shown as the log shows it: escaped, never raw."""
    conf, cache, env = setup
    cache.parent.mkdir(mode=0o700, exist_ok=True)
    cache.write_bytes(b"h\tbad\xff\x1b[31m\xc2\x85x\t-\t1\t99999999999\tbuilt-in\n")
    os.chmod(cache, 0o600)
    rc, out, err = models(env=env)
    raw = out.encode("utf-8", "surrogateescape")
    assert b"bad\\xff\\x1b[31m\\xc2\\x85x" in raw, out
    assert b"\x1b" not in raw and b"\xc2\x85" not in raw and b"\xff" not in raw
