"""A burst of refusals in one process (issue 9, defects 10 and 11): the
curl CLI runs many transfers at once on a multi handle (`curl -Z`), all
refused for the same host, model and credential. The refusal is learned
once and the cache is rewritten once (counted with inotify: each rewrite
renames a new file in), outside libcurl's callbacks; and when another
writer holds the cache's lock for the whole run, nothing is lost: the
transfers finish, the entry waits in memory and is written once the lock
is free (the library used to wait a quarter of a second inside each write
callback, then drop the entry)."""

import ctypes
import os
import struct
import subprocess

import pytest

from conftest import CURL, chat_body, shim_env

pytestmark = pytest.mark.needs_lib

N = 60  # transfers at once
IN_MOVED_FROM, IN_MOVED_TO = 0x40, 0x80
IN_NONBLOCK = os.O_NONBLOCK


class Renames:
    """Counts the files renamed into a directory (inotify IN_MOVED_TO).
    IN_MOVED_FROM is watched too: inotify merges identical consecutive
    events, and a rewrite's two events alternate."""

    def __init__(self, directory):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(IN_NONBLOCK)
        assert self.fd >= 0
        assert self.libc.inotify_add_watch(self.fd, str(directory).encode(),
                                             IN_MOVED_FROM | IN_MOVED_TO) >= 0

    def count(self, name):
        n = 0
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return n
            off = 0
            while off < len(data):
                _wd, mask, _cookie, ln = struct.unpack_from("iIII", data, off)
                fname = data[off + 16:off + 16 + ln].rstrip(b"\0").decode()
                n += bool(mask & IN_MOVED_TO) and fname == name
                off += 16 + ln

    def close(self):
        os.close(self.fd)


def parallel_curl(server, tmp_path, env):
    """curl -Z posting the same refused stream to N URLs; a Popen."""
    body = tmp_path / "body.json"
    body.write_bytes(chat_body("o3-mini", "burst"))
    cmd = [CURL, "-sS", "-N", "-Z", "--parallel-immediate", "--parallel-max", str(N),
           "-H", "Content-Type: application/json", "--data-binary", f"@{body}"]
    cmd += [server.openai_url()] * N
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def entries(cache):
    return [l.split("\t") for l in cache.read_text().splitlines() if not l.startswith("#")]


def test_a_burst_of_refusals_is_learned_once(server, tmp_path):
    cache = tmp_path / "cache" / "refusals"
    cache.parent.mkdir(mode=0o700)
    renames = Renames(cache.parent)
    try:
        server.clear()
        p = parallel_curl(server, tmp_path, shim_env(cache=cache))
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.count(b"data: [DONE]\n\n") == N
        assert len(server.requests()) == 2 * N  # each refused once, retried once
        assert [(e[0], e[1]) for e in entries(cache)] == [(f"127.0.0.1:{server.port}", "o3-mini")]
        assert renames.count("refusals") == 1  # one rewrite, not one per refusal
    finally:
        renames.close()


def test_a_held_lock_loses_nothing(server, tmp_path):
    import fcntl
    cache = tmp_path / "refusals"
    lock = os.open(str(cache) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        p = parallel_curl(server, tmp_path, shim_env(cache=cache))
        # Every answer arrives while the lock is held: no callback waits
        # for it. Read until the last one is in.
        got = b""
        while got.count(b"data: [DONE]\n\n") < N:
            chunk = p.stdout.read1(1 << 16)
            if not chunk:
                break
            got += chunk
        assert got.count(b"data: [DONE]\n\n") == N, p.stderr.read()
        assert not cache.exists()  # the learned refusal waits in memory
    finally:
        os.close(lock)  # the writer lets go: the exit writes it
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert [(e[0], e[1]) for e in entries(cache)] == [(f"127.0.0.1:{server.port}", "o3-mini")]
