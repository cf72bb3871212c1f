"""The learned-refusal cache file shared by many processes at once
(shim/learned_file.c: flock on <file>.lock, write a temporary file, rename):
every process's entries survive, the file is always well formed, and a
concurrent `streamshim models --forget` removes only what it matches.

The writers are `streamshim-ctl learn HOST MODEL...` (a hidden subcommand
that calls learned_add for each MODEL, one locked rewrite each)."""

import os
import stat
import subprocess
import time

import pytest

from conftest import BUILD_DIR, plain_env

CTL = BUILD_DIR / "streamshim-ctl"
FP_CHARS = set("0123456789abcdef")


@pytest.fixture
def ctl():
    if not CTL.is_file():
        pytest.fail(f"{CTL} is not built (make BUILD=... all)", pytrace=False)
    return CTL


def parse_cache(path):
    """The entries of a cache file as (host, model, fp, learned, expires,
    rule) tuples; fails on any line that is not a comment or an entry."""
    entries = []
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    for line in raw.decode("utf-8").split("\n")[:-1]:
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        assert len(fields) == 6, line
        host, model, fp, learned, expires, rule = fields
        assert fp == "-" or (len(fp) == 16 and set(fp) <= FP_CHARS), line
        assert learned.isdigit() and expires.isdigit() and rule, line
        entries.append((host, model, fp, int(learned), int(expires), rule))
    return entries


def start_learners(ctl, env, n_procs, per_proc, prefix):
    """n_procs processes, each learning per_proc models at once."""
    procs = []
    for p in range(n_procs):
        models = [f"{prefix}{p}-m{i}" for i in range(per_proc)]
        procs.append(subprocess.Popen([str(ctl), "learn", "--secret", f"key-{p}",
                                       f"host{p % 3}.example", *models],
                                      env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE))
    return procs


def wait_all(procs):
    for pr in procs:
        out, err = pr.communicate(timeout=120)
        assert pr.returncode == 0, err


def test_many_processes_lose_nothing(ctl, tmp_path):
    cache = tmp_path / "cache" / "refusals"
    env = plain_env(STREAMSHIM_CACHE=cache)
    n_procs, per_proc = 16, 12
    procs = start_learners(ctl, env, n_procs, per_proc, "p")
    wait_all(procs)
    entries = parse_cache(cache)
    models = [e[1] for e in entries]
    assert len(models) == len(set(models)) == n_procs * per_proc
    assert set(models) == {f"p{p}-m{i}" for p in range(n_procs) for i in range(per_proc)}
    # Each process's credential fingerprint is its own.
    fps = {e[1].split("-")[0]: e[2] for e in entries}
    assert len(set(fps.values())) == n_procs
    # Modes, and no temporary file left behind.
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in cache.parent.iterdir()) == ["refusals", "refusals.lock"]


def test_readers_never_see_a_torn_file(ctl, tmp_path):
    """While writers rewrite the file, every read of it parses whole."""
    cache = tmp_path / "refusals"
    env = plain_env(STREAMSHIM_CACHE=cache)
    procs = start_learners(ctl, env, 8, 25, "r")
    reads = 0
    while any(p.poll() is None for p in procs):
        if cache.exists():
            try:
                parse_cache(cache)
            except FileNotFoundError:
                continue
            reads += 1
        time.sleep(0.001)
    wait_all(procs)
    assert len(parse_cache(cache)) == 8 * 25
    assert reads > 0


def test_forget_while_others_learn(ctl, tmp_path):
    cache = tmp_path / "refusals"
    env = plain_env(STREAMSHIM_CACHE=cache)
    seed = subprocess.run([str(ctl), "learn", "old.example"] + [f"old-{i}" for i in range(30)],
                          env=env, capture_output=True)
    assert seed.returncode == 0, seed.stderr
    assert len(parse_cache(cache)) == 30
    procs = start_learners(ctl, env, 10, 10, "n")
    forget = subprocess.run([str(ctl), "models", "--forget", "old-*"], env=env,
                            capture_output=True, text=True)
    wait_all(procs)
    assert forget.returncode == 0, forget.stderr
    assert forget.stdout.strip() == "forgot 30 learned refusals matching 'old-*'"
    models = {e[1] for e in parse_cache(cache)}
    assert models == {f"n{p}-m{i}" for p in range(10) for i in range(10)}


def test_a_held_lock_degrades_to_memory(ctl, tmp_path):
    """A writer that holds the lock too long makes others give up after
    a quarter of a second (memory only), never hang."""
    import fcntl
    cache = tmp_path / "refusals"
    env = plain_env(STREAMSHIM_CACHE=cache)
    fd = os.open(str(cache) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        t0 = time.monotonic()
        r = subprocess.run([str(ctl), "learn", "h", "m"], env=env, capture_output=True,
                           timeout=30)
        took = time.monotonic() - t0
    finally:
        os.close(fd)
    assert r.returncode == 0
    assert 0.2 < took < 10
    assert not cache.exists()
