"""`make install` and `make uninstall`, and the Debian package (debian/).

Install: exactly these files with these modes, under DESTDIR and PREFIX
(default /usr/local); it builds what it installs and nothing else; the
flags of the environment or the command line (dpkg-buildflags' hardening)
reach the build. The installed command, run from a clean environment (no
STREAMSHIM_LIBRARY, no LD_PRELOAD, a standard PATH), finds its library,
companion and helpers next to itself: the curl CLI and PHP de-streamed,
auto mode's refusal learned and shown by `streamshim models`, `stats`.
Uninstall takes away what install put there, nothing else.

The package: built once per session from a copy of the tree
(dpkg-buildpackage writes into the parent directory), its contents,
lintian, the companion's dlopen still a tail call with Debian's flags; as
root, when streamshim is not installed on the machine, dpkg -i, a run,
dpkg -r and dpkg -P."""

import fnmatch
import glob
import json
import os
import platform
import re
import shutil
import time
from pathlib import Path

import pytest

from conftest import BUILD_DIR, ROOT, chat_body, plain_env, run
from shimtest import drop_stream_members, plain_answer
from sse import check_chat_stream

VERSION = re.search(r"^VERSION=(\S+)$", (ROOT / "scripts" / "streamshim").read_text(),
                    re.M).group(1)

# What `make install` puts under PREFIX, with its mode, and where it comes
# from in the tree (build/ for what is built).
INSTALLED = {
    "bin/streamshim": (0o755, "scripts/streamshim"),
    "lib/streamshim/libstreamshim.so": (0o644, "build/libstreamshim.so"),
    "lib/streamshim/libstreamshim-deepbind.so": (0o644, "build/libstreamshim-deepbind.so"),
    "lib/streamshim/streamshim-ctl": (0o755, "build/streamshim-ctl"),
    "lib/streamshim/streamshim-capture": (0o755, "build/streamshim-capture"),
    "share/man/man1/streamshim.1": (0o644, "scripts/man/streamshim.1"),
    "share/man/man5/streamshim.conf.5": (0o644, "scripts/man/streamshim.conf.5"),
    "share/man/man5/streamshim-capture.5": (0o644, "scripts/man/streamshim-capture.5"),
    "share/doc/streamshim/README.md": (0o644, "README.md"),
    "share/doc/streamshim/LICENSE": (0o644, "LICENSE"),
}
PHP = "/usr/bin/php"


def make_env(**extra):
    """A user's shell: no MAKEFLAGS of an enclosing make (`make test`)."""
    return plain_env(MAKEFLAGS=None, MFLAGS=None, MAKELEVEL=None, **extra)


def make(*args, env=None, timeout=600):
    r = run(["make", "-C", ROOT, *args], env=make_env() if env is None else env,
            timeout=timeout)
    assert r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace")[-3000:]
    return r


def clean_env(home):
    """What a new user's login shell has: a standard PATH and a HOME (where
    auto mode keeps its cache); nothing of the test suite's."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home)}


def tree(top):
    """{relative path: mode} of the files under top, and the set of its
    directories."""
    files, dirs = {}, set()
    for d, subdirs, names in os.walk(top):
        for s in subdirs:
            dirs.add(os.path.relpath(os.path.join(d, s), top))
        for n in names:
            p = os.path.join(d, n)
            files[os.path.relpath(p, top)] = os.lstat(p).st_mode & 0o7777
    return files, dirs


def same_bytes(a, b):
    return Path(a).read_bytes() == Path(b).read_bytes()


def joined_commands(text):
    """`make -n` output as one command per line (continuations joined)."""
    return text.replace("\\\n", " ").splitlines()


@pytest.fixture(scope="module")
def destdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("destdir")
    make("install", f"DESTDIR={d}")
    return d


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    """The tree installed with PREFIX= a directory (no DESTDIR)."""
    p = tmp_path_factory.mktemp("prefix") / "usr-local"
    make("install", f"PREFIX={p}")
    return p


# --- make install ------------------------------------------------------------

def test_install_into_destdir_puts_exactly_these_files(destdir):
    files, dirs = tree(destdir)
    want = {f"usr/local/{k}": mode for k, (mode, _) in INSTALLED.items()}
    assert {k: oct(v) for k, v in files.items()} == {k: oct(v) for k, v in want.items()}
    # no directory without a file in it
    assert dirs == {str(Path(f).parents[i]) for f in files
                    for i in range(len(Path(f).parents) - 1)}
    for k, (_, src) in INSTALLED.items():
        assert same_bytes(destdir / "usr/local" / k, ROOT / src), k


def test_install_builds_only_what_it_installs(tmp_path):
    """No scripts/install-deps, no tests, no test programs: only `all`."""
    r = make("-n", "-B", "install", f"BUILD={tmp_path}/build", f"DESTDIR={tmp_path}/d")
    out = r.stdout.decode()
    assert "scripts/install-deps" not in out and "-m pytest" not in out
    assert not re.search(r"\btests/", out), [l for l in joined_commands(out) if "tests/" in l]
    assert f"{tmp_path}/build/libstreamshim.so" in out


@pytest.mark.parametrize("given", ["environment", "command line"])
def test_build_flags_from_outside_are_added(tmp_path, given):
    """CPPFLAGS, CFLAGS and LDFLAGS as dh passes them (the environment) or
    on make's command line: after the project's flags on every compile
    line, LDFLAGS on the links of what is installed; the companion keeps
    -O2 after them (its dlopen must stay a tail call)."""
    flags = {"CPPFLAGS": "-DSS_FROM_CPPFLAGS", "CFLAGS": "-DSS_FROM_CFLAGS -O0",
             "LDFLAGS": "-Wl,--ss-given-ld"}
    args = ["-n", "-B", "all", f"BUILD={tmp_path}"]
    if given == "environment":
        r = make(*args, env=make_env(**flags))
    else:
        r = make(*args, *(f"{k}={v}" for k, v in flags.items()))
    lines = [l for l in joined_commands(r.stdout.decode()) if f" -o {tmp_path}/" in l]
    assert lines
    for l in lines:
        assert "-DSS_FROM_CPPFLAGS" in l and "-DSS_FROM_CFLAGS" in l, l
        assert "-Werror" in l and "-std=c11" in l, l
        if "deepbind" in l:
            assert l.rindex("-O2") > l.index("-O0"), l
        else:
            assert l.index("-O0") > l.index("-O2"), l
    for product in ("libstreamshim.so", "libstreamshim-deepbind.so", "streamshim-ctl",
                    "streamshim-capture"):
        link = [l for l in lines if f"-o {tmp_path}/{product} " in l]
        assert len(link) == 1 and "-Wl,--ss-given-ld" in link[0], product


def test_installed_command_destreams_curl(prefix, server, tmp_path):
    body = chat_body("o3-mini", "from the installed command")
    url = server.openai_url()
    curl = ["curl", "-sS", "-N", url, "-H", "Content-Type: application/json",
            "--data-binary", "@-"]
    plain = run(curl, env=clean_env(tmp_path), input=body)
    assert b"unsupported_value" in plain.stdout  # what the shim is for
    server.clear()
    r = run([prefix / "bin/streamshim", "--models", "o3-mini", "--", *curl],
            env=clean_env(tmp_path), input=body)
    assert (r.returncode, r.stderr) == (0, b"")
    sent = server.requests()
    assert len(sent) == 1 and sent[0].json() == drop_stream_members(body)
    check_chat_stream(r.stdout, plain_answer(url, body))


def test_installed_auto_mode_learns_and_models_shows_it(prefix, server, tmp_path):
    """Nothing configured: refused, retried, replayed; the refusal lands
    in the cache under HOME, where the installed streamshim-ctl finds it."""
    body = chat_body("o3-mini", "auto mode, installed")
    url = server.openai_url()
    server.clear()
    r = run([prefix / "bin/streamshim", "--", "curl", "-sS", "-N", url,
             "-H", "Content-Type: application/json", "--data-binary", "@-"],
            env=clean_env(tmp_path), input=body)
    assert r.returncode == 0, r.stderr
    first, retry = server.requests()
    assert first["body"] == body and retry.json() == drop_stream_members(body)
    check_chat_stream(r.stdout, plain_answer(url, body))
    r = run([prefix / "bin/streamshim", "models", "--json"], env=clean_env(tmp_path))
    assert r.returncode == 0, r.stderr
    known = json.loads(r.stdout)
    assert known["mode"] == "auto"
    assert known["cache"]["path"] == f"{tmp_path}/.cache/streamshim/refusals"
    assert [(e["host"], e["model"]) for e in known["learned"]] == \
        [(f"{server.host}:{server.port}", "o3-mini")]


@pytest.mark.skipif(not os.access(PHP, os.X_OK), reason=f"{PHP} is not installed (php-cli)")
def test_installed_command_runs_php_with_the_companion(prefix, server, tmp_path):
    """PHP's curl extension is reached only through the companion, which
    the installed command adds from lib/streamshim."""
    bodyfile = tmp_path / "b.json"
    bodyfile.write_bytes(chat_body("o3-mini", "from PHP, installed"))
    r = run([prefix / "bin/streamshim", "--models", "o3-mini", "--", "php",
             ROOT / "tests/php/stream.php", server.openai_url(), bodyfile],
            env=clean_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert b"ct=text/event-stream; charset=utf-8" in r.stderr
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), bodyfile.read_bytes()))


def test_installed_version_and_stats(prefix, tmp_path):
    r = run([prefix / "bin/streamshim", "--version"], env=clean_env(tmp_path))
    assert (r.returncode, r.stdout) == (0, f"streamshim {VERSION}\n".encode())
    r = run([prefix / "bin/streamshim", "stats", ROOT / "tests/fixtures/capture/destreamed-chat.jsonl"],
            env=clean_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert b"destreamed" in r.stdout


@pytest.mark.parametrize("args", [["PREFIX={d}/with blank"], ["PREFIX={d}/with:colon"],
                                  ["PREFIX={d}/with\ttab"],
                                  ["DESTDIR={d}/stage here", "PREFIX=/usr"]])
def test_install_refuses_a_path_ld_preload_cannot_hold(tmp_path, args):
    """ld.so splits LD_PRELOAD at blanks and colons: refused before
    anything is built or copied."""
    r = run(["make", "-C", ROOT, "install", *(a.format(d=tmp_path) for a in args)],
            env=make_env())
    assert r.returncode != 0
    assert b"a path with a blank or a colon, which LD_PRELOAD cannot hold" in r.stderr, r.stderr
    assert os.listdir(tmp_path) == []


def test_the_wrapper_refuses_a_library_path_ld_preload_cannot_hold(tmp_path):
    """The same from the wrapper's side (a tree moved there, or
    STREAMSHIM_LIBRARY): it says so and exits 1 rather than run the
    program without the shim."""
    for name in ("with blank", "with:colon"):
        d = tmp_path / name
        d.mkdir()
        shutil.copy(BUILD_DIR / "libstreamshim.so", d / "libstreamshim.so")
        env = dict(clean_env(tmp_path), STREAMSHIM_LIBRARY=str(d / "libstreamshim.so"))
        r = run([ROOT / "scripts/streamshim", "sh", "-c", "echo ran"], env=env)
        assert (r.returncode, r.stdout) == (1, b""), r.stderr
        assert (f"the library's path '{d}/libstreamshim.so' has a blank or a colon, which "
                "LD_PRELOAD cannot hold").encode() in r.stderr


# --- make uninstall ----------------------------------------------------------

def test_uninstall_leaves_the_prefix_as_it_was(tmp_path):
    """A PREFIX laid out like /usr/local, with a file of someone else's:
    after install and uninstall (twice: the second finds nothing to do)
    exactly the same tree."""
    p = tmp_path / "usr-local"
    for d in ("bin", "lib", "share/man/man1", "share/man/man5", "share/doc"):
        (p / d).mkdir(parents=True)
    (p / "bin/other").write_text("#!/bin/sh\n")
    before = tree(p)
    make("install", f"PREFIX={p}")
    assert set(tree(p)[0]) == set(before[0]) | set(INSTALLED)
    make("uninstall", f"PREFIX={p}")
    assert tree(p) == before
    make("uninstall", f"PREFIX={p}")
    assert tree(p) == before


def test_uninstall_from_a_new_prefix_leaves_no_file(tmp_path):
    """install -d made every directory here; the two of streamshim's own
    go, those a prefix shares with other programs (bin/, share/man/man1/,
    ...) stay, empty."""
    p = tmp_path / "new"
    make("install", f"PREFIX={p}")
    make("uninstall", f"PREFIX={p}")
    files, dirs = tree(p)
    assert files == {}
    assert dirs == {"bin", "lib", "share", "share/man", "share/man/man1", "share/man/man5",
                    "share/doc"}


# --- the Debian package --------------------------------------------------------

def tree_files():
    """The files of the tree under test, as they are in the working tree:
    git's tracked and new (not ignored) files, deleted ones left out; all
    but .git, builds and node_modules when this is not a git checkout."""
    r = run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    if r.returncode == 0:
        names = [n for n in r.stdout.decode().split("\0") if n]
        return [n for n in names if os.path.lexists(ROOT / n)]
    out = []
    for d, subdirs, names in os.walk(ROOT):
        subdirs[:] = [s for s in subdirs if not (s == ".git" or s.startswith("build")
                                                 or s in ("node_modules", "__pycache__"))]
        out += [os.path.relpath(os.path.join(d, n), ROOT) for n in names]
    return out


class Built:
    """The outputs of one dpkg-buildpackage run."""

    def __init__(self, work, arch, seconds):
        self.work, self.seconds = work, seconds
        self.deb = work / f"streamshim_{VERSION}_{arch}.deb"
        self.changes = work / f"streamshim_{VERSION}_{arch}.changes"


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    for tool, pkg in (("dpkg-buildpackage", "dpkg-dev"), ("dh", "debhelper")):
        if not shutil.which(tool):
            pytest.skip(f"{tool} not found: the package needs {pkg} (scripts/install-deps)")
    work = tmp_path_factory.mktemp("deb")
    src = work / f"streamshim-{VERSION}"
    for name in tree_files():
        dst = src / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dst, follow_symlinks=False)
    arch = run(["dpkg", "--print-architecture"]).stdout.decode().strip()
    start = time.monotonic()
    r = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=make_env(), timeout=1200)
    built = Built(work, arch, time.monotonic() - start)
    assert r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace")[-4000:]
    assert built.deb.is_file() and built.changes.is_file(), sorted(os.listdir(work))
    return built


# The package's files (after dh_compress, which gzips the man pages and the
# larger docs: compared without .gz) and their modes.
PACKAGED = {
    "/usr/bin/streamshim": "-rwxr-xr-x",
    "/usr/lib/streamshim/libstreamshim.so": "-rw-r--r--",
    "/usr/lib/streamshim/libstreamshim-deepbind.so": "-rw-r--r--",
    "/usr/lib/streamshim/streamshim-ctl": "-rwxr-xr-x",
    "/usr/lib/streamshim/streamshim-capture": "-rwxr-xr-x",
    "/usr/share/man/man1/streamshim.1": "-rw-r--r--",
    "/usr/share/man/man5/streamshim.conf.5": "-rw-r--r--",
    "/usr/share/man/man5/streamshim-capture.5": "-rw-r--r--",
    "/usr/share/doc/streamshim/README.md": "-rw-r--r--",
    "/usr/share/doc/streamshim/changelog": "-rw-r--r--",
    "/usr/share/doc/streamshim/copyright": "-rw-r--r--",
}


def deb_files(deb_path):
    """{path: (mode string, real name)} of the regular files of a .deb."""
    r = run(["dpkg-deb", "-c", deb_path])
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.decode().splitlines():
        mode, owner, _size, _date, _time, name = line.split(None, 5)
        assert owner == "root/root", line
        if mode.startswith("-"):
            real = name[1:]  # "./usr/..." -> "/usr/..."
            out[real[:-3] if real.endswith(".gz") else real] = (mode, real)
    return out


def test_deb_holds_the_command_library_helpers_and_man_pages(deb):
    files = deb_files(deb.deb)
    assert {k: m for k, (m, _) in files.items()} == PACKAGED
    assert all(real.endswith(".gz") for k, (_, real) in files.items() if "/man/" in k)
    r = run(["dpkg-deb", "-f", deb.deb, "Package", "Version", "Depends"])
    fields = dict(l.split(": ", 1) for l in r.stdout.decode().splitlines())
    assert fields["Package"] == "streamshim" and fields["Version"] == VERSION
    assert "libc6" in fields["Depends"] and "libcjson1" in fields["Depends"]


def test_lintian_finds_no_errors(deb):
    if not shutil.which("lintian"):
        pytest.skip("lintian not found (scripts/install-deps installs it)")
    r = run(["lintian", "--fail-on", "error", deb.changes], timeout=600)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0 and not re.search(r"^E: ", out, re.M), out + r.stderr.decode()


@pytest.mark.skipif(platform.machine() != "x86_64", reason="reads x86-64 disassembly")
def test_packaged_companion_dlopen_is_a_tail_call(deb, tmp_path):
    """Built with dpkg-buildflags' hardening (stack protector, fortify,
    relro, bindnow), the companion's dlopen still leaves through a jump to
    glibc's (the caller's return address stays), never a call to it."""
    run(["dpkg-deb", "-x", deb.deb, tmp_path], env=plain_env())
    so = tmp_path / "usr/lib/streamshim/libstreamshim-deepbind.so"
    # The exported dlopen's bounds from the dynamic symbol table (the
    # packaged library is stripped).
    syms = run(["objdump", "-T", so]).stdout.decode()
    m = re.search(r"^([0-9a-f]+) g\s+DF \.text\s+([0-9a-f]+)\s+\S+\s+dlopen$", syms, re.M)
    assert m, syms
    start, size = int(m.group(1), 16), int(m.group(2), 16)
    asm = run(["objdump", "-d", "--no-show-raw-insn", so]).stdout.decode()
    body = [ins.strip() for addr, ins in re.findall(r"^\s*([0-9a-f]+):\t(.*)$", asm, re.M)
            if start <= int(addr, 16) < start + size]
    assert body, asm
    calls = [i for i in body if i.split()[0] in ("call", "callq")]
    assert all(re.search(r"<(strrchr|strcmp|dlvsym)@plt>", c) for c in calls), calls
    assert [i for i in body if re.match(r"(notrack )?jmpq? +\*%r", i)], body


def dpkg_status():
    """streamshim's status on this machine (`ii`, `rc`, ...), "" if unknown."""
    r = run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "streamshim"])
    return r.stdout.decode().strip() if r.returncode == 0 else ""


def dpkg_excludes(path):
    """Does dpkg's configuration leave path out (path-exclude, as slim
    container images do for man pages and docs)?"""
    patterns = []
    for conf in ["/etc/dpkg/dpkg.cfg", *glob.glob("/etc/dpkg/dpkg.cfg.d/*")]:
        try:
            text = Path(conf).read_text(errors="replace")
        except OSError:
            continue
        patterns += re.findall(r"^\s*path-(exclude|include)[=\s]+(\S+)", text, re.M)
    excluded = False
    for kind, pat in patterns:  # the last matching line decides
        if fnmatch.fnmatch(path, pat):
            excluded = kind == "exclude"
    return excluded


def test_deb_installs_runs_and_purges(deb, server, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("dpkg -i needs root")
    if dpkg_status() not in ("", "un", "pn"):
        pytest.skip(f"streamshim is installed on this machine ({dpkg_status()}): left alone")
    expected = [p for p in PACKAGED if not dpkg_excludes(p)]
    stray = (glob.glob("/usr/bin/streamshim") + glob.glob("/usr/lib/streamshim/*")
             + glob.glob("/usr/share/man/man?/streamshim*") + glob.glob("/usr/share/doc/streamshim/*"))
    if stray:
        pytest.skip(f"streamshim files on this machine without the package: {stray}: left alone")
    try:
        r = run(["dpkg", "-i", deb.deb], timeout=300)
        assert r.returncode == 0, (r.stdout + r.stderr).decode()
        assert dpkg_status() == "ii"
        for p in expected:
            assert os.path.exists(p) or os.path.exists(p + ".gz"), p
        env = clean_env(tmp_path)
        r = run(["streamshim", "--version"], env=env)  # on the standard PATH
        assert (r.returncode, r.stdout) == (0, f"streamshim {VERSION}\n".encode())
        body = chat_body("o3-mini", "from the package")
        server.clear()
        r = run(["/usr/bin/streamshim", "--models", "o3-mini", "--", "curl", "-sS", "-N",
                 server.openai_url(), "-H", "Content-Type: application/json",
                 "--data-binary", "@-"], env=env, input=body)
        assert r.returncode == 0, r.stderr
        assert server.requests()[0].json() == drop_stream_members(body)
        check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))
        if os.access(PHP, os.X_OK):
            bodyfile = tmp_path / "b.json"
            bodyfile.write_bytes(chat_body("o3-mini", "PHP, from the package"))
            r = run(["/usr/bin/streamshim", "--models", "o3-mini", "--", "php",
                     ROOT / "tests/php/stream.php", server.openai_url(), bodyfile], env=env)
            assert r.returncode == 0, r.stderr
            check_chat_stream(r.stdout, plain_answer(server.openai_url(), bodyfile.read_bytes()))

        r = run(["dpkg", "-r", "streamshim"], timeout=300)
        assert r.returncode == 0, (r.stdout + r.stderr).decode()
        # no conffiles: nothing stays after a removal
        assert [p for p in PACKAGED if os.path.lexists(p) or os.path.lexists(p + ".gz")] == []
        assert not os.path.lexists("/usr/lib/streamshim")
        assert not os.path.lexists("/usr/share/doc/streamshim")
        r = run(["dpkg", "-P", "streamshim"], timeout=300)
        assert r.returncode == 0, (r.stdout + r.stderr).decode()
        assert dpkg_status() in ("", "un", "pn")
    finally:
        if dpkg_status() not in ("", "un", "pn"):
            run(["dpkg", "-P", "streamshim"], timeout=300)
