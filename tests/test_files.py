"""The files the shim opens on the user's behalf, the configuration
(STREAMSHIM_CONFIG) and the log (STREAMSHIM_LOG=level:file), against what a
path can turn out to be: a FIFO (an open or a read would block the host), a
symlink (the log's usual place is /tmp), a file another user owns (or, for
the config, may write), a directory, a hard link, a path that cannot
exist. Never a hang (every run has a timeout), never an error for the
host, never output it did not ask for: a refused config is ignored (with
a warning when logging is on), a refused log falls back to stderr with one
line saying why. The tests run as root, so "another user" is 65534
(nobody)."""

import os
import stat

import pytest

from conftest import CURL, PYTHON, chat_body, run, shim_env
from shimtest import curl

pytestmark = pytest.mark.needs_lib

TIMEOUT = 15  # a hang fails the test instead of blocking the suite
NOBODY = 65534
CONFIG = b"models = o3-mini\n"


def request(server, env):
    """A streaming request for o3-mini, which the test server refuses to
    stream: with the config's `models` applied it goes out once,
    de-streamed; without, auto mode tries streaming and retries (two)."""
    server.clear()
    r = curl(server.openai_url(), chat_body("o3-mini", "files"), env=env, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(b"data: [DONE]\n\n"), r.stdout[-200:]
    return len(server.requests())


def config_at(tmp_path, kind):
    """A config path of the given kind (its content would configure o3-mini)."""
    good = tmp_path / "good.conf"
    good.write_bytes(CONFIG)
    path = tmp_path / "streamshim.conf"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":          # accepted: dotfile managers link configs
        path.symlink_to(good)
    elif kind == "symlink-to-other":
        os.chown(good, NOBODY, NOBODY)
        path.symlink_to(good)
    elif kind == "other-owner":
        path.write_bytes(CONFIG)
        os.chown(path, NOBODY, NOBODY)
    elif kind in ("group-writable", "world-writable"):  # as ssh refuses them
        path.write_bytes(CONFIG)
        path.chmod(0o664 if kind == "group-writable" else 0o646)
    elif kind == "symlink-to-writable":
        good.chmod(0o666)
        path.symlink_to(good)
    elif kind == "directory":
        path.mkdir()
    elif kind == "unreadable":       # ENOTDIR: root reads any mode bits
        path = good / "streamshim.conf"
    elif kind == "regular":
        path.write_bytes(CONFIG)
    return path


CONFIG_REFUSED = {
    "fifo": "is not a regular file",
    "symlink-to-other": "is owned by another user",
    "other-owner": "is owned by another user",
    "directory": "is a directory",
    "group-writable": "is writable by group or others",
    "world-writable": "is writable by group or others",
    "symlink-to-writable": "is writable by group or others",
    "unreadable": "cannot be opened",
}


@pytest.mark.parametrize("kind", ["regular", "symlink"])
def test_config_regular_or_symlinked_applies(server, tmp_path, kind):
    path = config_at(tmp_path, kind)
    env = shim_env(config=path)
    assert request(server, env) == 1


@pytest.mark.parametrize("kind", sorted(CONFIG_REFUSED))
def test_config_refused_is_ignored_silently(server, tmp_path, kind):
    """Without a log: the request works (auto mode, as if no config), the
    host's stderr stays empty, nothing blocks."""
    path = config_at(tmp_path, kind)
    env = shim_env(config=path)
    r = curl(server.openai_url(), chat_body("o3-mini"), env=env, timeout=TIMEOUT)
    assert (r.returncode, r.stderr) == (0, b"")
    assert r.stdout.endswith(b"data: [DONE]\n\n")


@pytest.mark.parametrize("kind", sorted(CONFIG_REFUSED))
def test_config_refused_is_logged(server, tmp_path, kind):
    path = config_at(tmp_path, kind)
    log = tmp_path / "log"
    env = shim_env(config=path, log=f"info:{log}")
    assert request(server, env) == 2  # the config's models were not applied
    text = log.read_text()
    assert f"config {path} {CONFIG_REFUSED[kind]}: ignored" in text, text


def test_config_fifo_never_blocks_exit(tmp_path):
    """The exit diagnosis used to load the settings in every process: a
    FIFO config hung even /bin/true. A program with libcurl loaded (but no
    call, ctypes) still loads them at exit to warn: no hang either."""
    path = config_at(tmp_path, "fifo")
    log = tmp_path / "log"
    env = shim_env(config=path, log=f"info:{log}")
    r = run(["/bin/true"], env=env, timeout=TIMEOUT)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
    r = run([PYTHON, "-c", "import ctypes; ctypes.CDLL('libcurl.so.4')"], env=env,
            timeout=TIMEOUT)
    assert (r.returncode, r.stderr) == (0, b"")
    text = log.read_text()
    assert "is not a regular file: ignored" in text and "no libcurl call reached" in text


# ---------------------------------------------------------------------------
# The log file

def log_at(tmp_path, kind):
    """A log path of the given kind, and a file that must stay untouched."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious\n")
    path = tmp_path / "streamshim.log"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":
        path.symlink_to(victim)
    elif kind == "dangling-symlink":
        path.symlink_to(tmp_path / "created-through-the-link")
    elif kind == "other-owner":
        path.write_bytes(b"precious\n")
        os.chown(path, NOBODY, NOBODY)
        victim = path
    elif kind == "hard-link":
        os.link(victim, path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "unwritable":
        path = tmp_path / "no-such-dir" / "streamshim.log"
    return path, victim


LOG_REFUSED = {
    "fifo": "is not a regular file",
    "symlink": "is a symbolic link",
    "dangling-symlink": "is a symbolic link",
    "other-owner": "is owned by another user",
    "hard-link": "has other hard links",
    "directory": "is a directory",
    "unwritable": "does not exist",
}


@pytest.mark.parametrize("kind", sorted(LOG_REFUSED))
def test_log_file_refused_falls_back_to_stderr(server, tmp_path, kind):
    """The user asked for a log: one warning line on stderr says why the
    file is not used, info lines stay out of the host's stderr, the file
    (or what a link points to) is untouched, the request works."""
    path, victim = log_at(tmp_path, kind)
    env = shim_env(log=f"info:{path}")
    r = curl(server.openai_url(), chat_body("o3-mini", "log"), env=env, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(b"data: [DONE]\n\n")
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("streamshim[") and ": warn: log file " in lines[0]
    assert LOG_REFUSED[kind] in lines[0]
    assert victim.read_bytes() == b"precious\n"
    assert not (tmp_path / "created-through-the-link").exists()


def test_log_fifo_with_a_reader_is_refused(tmp_path):
    """Even with a reader, a FIFO is refused: a stalled reader would block
    the host in write(2)."""
    path = tmp_path / "fifo"
    os.mkfifo(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        r = run([PYTHON, "-c", "import ctypes; ctypes.CDLL('libcurl.so.4')"],
                env=shim_env(log=f"warn:{path}"), timeout=TIMEOUT)
        assert r.returncode == 0
        assert b"is not a regular file: not used" in r.stderr
        try:
            written = os.read(fd, 100)
        except BlockingIOError:
            written = b""
        assert written == b""
    finally:
        os.close(fd)


def test_log_file_created_0600_and_appended(server, tmp_path):
    path = tmp_path / "new.log"
    env = shim_env(log=f"info:{path}")
    env_umask = ["/bin/sh", "-c", 'umask 0; exec "$@"', "sh"]
    body = chat_body("o3-mini")
    for _ in range(2):
        r = run(env_umask + ["curl", "-sS", "-N", server.openai_url(), "-H",
                             "Content-Type: application/json", "--data-binary", "@-"],
                env=env, input=body, timeout=TIMEOUT)
        assert (r.returncode, r.stderr) == (0, b"")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert text.count("mode auto") == 2  # two processes, appended


def test_log_file_of_my_own_is_used(server, tmp_path):
    path = tmp_path / "mine.log"
    path.write_text("earlier\n")
    os.chmod(path, 0o644)
    env = shim_env(log=f"info:{path}")
    assert request(server, env) == 2
    text = path.read_text()
    assert text.startswith("earlier\n") and "the server refused to stream" in text


@pytest.mark.parametrize("name", ["/dev/stderr", "/dev/fd/2", "/dev/stdout"])
def test_log_to_a_standard_stream_by_name(server, name):
    """/dev/stderr is a symlink to a pipe or terminal: the log goes to the
    process's own stream, as users who name it mean, at the level asked."""
    body = chat_body("o3-mini")
    r = curl(server.openai_url(), body, "-o", "/dev/null",
             env=shim_env(log=f"info:{name}"), timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    out = r.stdout if name == "/dev/stdout" else r.stderr
    assert b"the server refused to stream" in out, out
    assert b"not used" not in r.stderr + r.stdout


def test_log_to_dev_null_is_silence(server):
    r = curl(server.openai_url(), chat_body("o3-mini"), "-o", "/dev/null",
             env=shim_env(log="info:/dev/null"), timeout=TIMEOUT)
    assert r.returncode == 0 and r.stderr == b"", r.stderr


def test_a_log_nobody_reads_does_not_kill_the_host(server, tmp_path):
    """The log on stderr, a pipe whose reader is gone: the shim's write
    fails with EPIPE instead of SIGPIPE killing a program that did not ask
    to ignore it (a C client that writes nothing to stderr itself; curl and
    Python ignore SIGPIPE)."""
    import subprocess
    from conftest import BUILD_DIR
    from test_multi import own_client_env
    prog = BUILD_DIR / "clients" / "multi_refusals"
    rfd, wfd = os.pipe()
    os.close(rfd)
    try:
        r = subprocess.run([prog, "-n", "2", server.openai_url()],
                           env=own_client_env(shim_env(models=None, log="debug"), prog),
                           stdout=subprocess.PIPE, stderr=wfd, timeout=TIMEOUT)
    finally:
        os.close(wfd)
    assert r.returncode == 0, (r.returncode, r.stdout)
    assert b"2/2 transfers ok" in r.stdout


def test_a_file_size_limit_does_not_kill_the_host(server, tmp_path):
    """Under `ulimit -f 0` the cache write fails with EFBIG (learning stays
    in memory) instead of SIGXFSZ killing the program."""
    import resource
    import subprocess
    cache = tmp_path / "cache" / "refusals"
    def no_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    r = subprocess.run([CURL, "-sS", "-N", server.openai_url(), "-H",
                        "Content-Type: application/json", "--data-binary", "@-",
                        "-o", "/dev/null"],
                       input=chat_body("o3-mini", "fsize"), env=shim_env(cache=cache),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       preexec_fn=no_files, timeout=TIMEOUT)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert not list(cache.parent.glob("refusals.tmp.*")), "a temporary file was left"
