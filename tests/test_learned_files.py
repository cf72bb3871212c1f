"""The learned-refusal cache and its lock against what their paths can turn
out to be (issue 9, defect 5, the cache's part): a FIFO (an open or a read
would block the host: every auto-mode request hung), a symlink, a file
another user owns, a directory, a path that cannot exist. At the cache
path and at the lock path alike: never a hang (every run has a timeout),
never an error for the program, learning in memory only (the second
request of the same process goes out non-streaming at once), the path left
as it was, and `streamshim models` saying what stands against the cache
(exit 1), as does `--forget`. The tests run as root, so "another user" is
65534 (nobody), and "cannot exist" is a path under a regular file."""

import os
import stat

import pytest

from conftest import BUILD_DIR, chat_body, run, shim_env
from shimtest import curl

pytestmark = pytest.mark.needs_lib

TIMEOUT = 15  # a hang fails the test instead of blocking the suite
NOBODY = 65534
CTL = BUILD_DIR / "streamshim-ctl"
ENTRY = "h\tm\t-\t1\t99999999999\tbuilt-in\n"


def make(path, kind, tmp_path):
    """Put a `kind` at path; returns a function that checks it is as it was."""
    if kind == "fifo":
        os.mkfifo(path)
        return lambda: stat.S_ISFIFO(os.lstat(path).st_mode)
    if kind == "symlink":
        target = tmp_path / "target"
        target.write_text(ENTRY)
        path.symlink_to(target)
        return lambda: path.is_symlink() and target.read_text() == ENTRY
    if kind == "other-owner":
        path.write_text(ENTRY)
        os.chown(path, NOBODY, NOBODY)
        return lambda: os.lstat(path).st_uid == NOBODY and path.read_text() == ENTRY
    if kind == "directory":
        path.mkdir()
        return lambda: path.is_dir() and not any(path.iterdir())
    raise ValueError(kind)


WHY = {
    "fifo": "a FIFO, not a regular file",
    "symlink": "a symlink (never followed)",
    "other-owner": f"owned by uid {NOBODY}, not by this user",
    "directory": "a directory",
}


def two_requests(server, cache):
    """Two refused streams in one curl process: the first is retried and
    learned, the second goes out non-streaming at once (3 requests)."""
    server.clear()
    url = server.openai_url()
    r = curl(url, chat_body("o3-mini", "files"), url, env=shim_env(cache=cache),
             timeout=TIMEOUT)
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    assert r.stdout.count(b"data: [DONE]\n\n") == 2, r.stdout[-300:]
    assert len(server.requests()) == 3


def ctl(*args, cache):
    r = run([CTL, *args], env=shim_env(cache=cache, LD_PRELOAD=None), timeout=TIMEOUT)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


@pytest.mark.parametrize("kind", list(WHY))
def test_at_the_cache_path(server, tmp_path, kind):
    cache = tmp_path / "refusals"
    unchanged = make(cache, kind, tmp_path)
    two_requests(server, cache)
    assert unchanged()
    rc, out, _ = ctl("models", cache=cache)
    assert rc == 1 and f"CANNOT BE READ ({WHY[kind]}): processes keep what they " \
                       "learn in memory only" in out, out
    assert "learned refusals: unknown (the cache cannot be read)" in out
    rc, _, err = ctl("models", "--forget", "--wait", "1", cache=cache)
    assert rc == 1 and f"cannot be rewritten ({WHY[kind]})" in err, err
    assert unchanged()


@pytest.mark.parametrize("kind", list(WHY))
def test_at_the_lock_path(server, tmp_path, kind):
    cache = tmp_path / "refusals"
    unchanged = make(tmp_path / "refusals.lock", kind, tmp_path)
    two_requests(server, cache)
    assert unchanged() and not cache.exists()
    rc, out, _ = ctl("models", cache=cache)
    assert rc == 1 and f"CANNOT BE WRITTEN (its lock file is {WHY[kind]})" in out, out
    assert "learned refusals: none" in out
    rc, _, err = ctl("models", "--forget", "--wait", "1", cache=cache)
    assert rc == 1 and f"cannot be rewritten (its lock file is {WHY[kind]})" in err, err
    assert unchanged() and not cache.exists()


def test_a_path_that_cannot_exist(server, tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("a file, not a directory\n")
    cache = plain / "sub" / "refusals"
    two_requests(server, cache)
    rc, out, _ = ctl("models", cache=cache)
    assert rc == 1 and f"CANNOT BE WRITTEN ({plain} is not a directory)" in out, out
    rc, _, err = ctl("models", "--forget", cache=cache)
    assert rc == 1 and f"cannot be rewritten ({plain} is not a directory)" in err, err
    assert plain.read_text() == "a file, not a directory\n"


def test_json_says_it_too(tmp_path):
    cache = tmp_path / "refusals"
    os.mkfifo(cache)
    import json
    rc, out, _ = ctl("models", "--json", cache=cache)
    assert rc == 1
    assert json.loads(out)["cache"] == {"path": str(cache), "ttl": 7 * 86400,
                                        "readable": False, "writable": False,
                                        "problem": WHY["fifo"]}
