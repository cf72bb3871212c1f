"""The learned-refusal cache file shared by many processes at once
(hooks/learned_file.c: flock on <file>.lock, write a temporary file, rename):
every process's entries survive, the file is always well formed, a
concurrent `streamshim models --forget` removes only what it matches, a
writer waits for a held lock instead of dropping its entries, and a forget
is never undone by a writer that learned before it and writes after it.

The writers are `streamshim-ctl learn HOST MODEL...` (a hidden subcommand
that calls learned_add for each MODEL, then writes them as the library's
flush does, in one locked rewrite, waiting for the lock: it prints
"learned N refusals in memory" once they are noted). No test depends on
timing: waits are bounded and generous, and every race has one outcome."""

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
    rule) tuples; fails on any line that is not a comment or an entry (a
    no-stream entry, what `learn` adds, is six fields: no direction)."""
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


class HeldLock:
    """The cache's lock, held by the test as another writer would."""

    def __init__(self, cache):
        import fcntl
        self.fd = os.open(str(cache) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def wait_noted(procs):
    """Wait until each learner says its entries are in memory."""
    for pr in procs:
        line = pr.stdout.readline()
        assert line.startswith(b"learned "), (line, pr.stderr.read() if pr.poll() is not None else b"")


def test_a_held_lock_is_waited_for(ctl, tmp_path):
    """A writer that finds the lock held keeps its entries and waits (it
    used to give up after a quarter of a second, exit 0, and lose them)."""
    cache = tmp_path / "refusals"
    env = plain_env(STREAMSHIM_CACHE=cache)
    lock = HeldLock(cache)
    try:
        procs = start_learners(ctl, env, 4, 3, "w")
        wait_noted(procs)
        time.sleep(0.5)  # let them find the lock held (not a timing check)
        assert all(p.poll() is None for p in procs)  # waiting, not gone
        assert not cache.exists()
    finally:
        lock.release()
    wait_all(procs)
    models = {e[1] for e in parse_cache(cache)}
    assert models == {f"w{p}-m{i}" for p in range(4) for i in range(3)}


def test_a_lock_held_too_long_is_an_error(ctl, tmp_path):
    """When the lock stays held past --wait, the ctl says so and exits 1:
    learn and forget alike."""
    cache = tmp_path / "refusals"
    env = plain_env(STREAMSHIM_CACHE=cache)
    lock = HeldLock(cache)
    try:
        r = subprocess.run([str(ctl), "learn", "--wait", "1", "h", "m"], env=env,
                           capture_output=True, text=True, timeout=60)
        f = subprocess.run([str(ctl), "models", "--wait", "1", "--forget"], env=env,
                           capture_output=True, text=True, timeout=60)
    finally:
        lock.release()
    assert r.returncode == 1 and "held its lock too long" in r.stderr, r
    assert f.returncode == 1 and "held its lock too long" in f.stderr, f
    assert not cache.exists()


def test_forget_is_not_undone_by_a_pending_writer(ctl, tmp_path):
    """Entries learned before a forget but written after it stay
    forgotten; entries the forget does not match, and entries learned after
    it, are written. The lock is held while the learners note their entries
    and the forget starts; once it is released, learners and the forget
    take it in any order, and the outcome is the same."""
    cache = tmp_path / "refusals"
    env = plain_env(STREAMSHIM_CACHE=cache)
    lock = HeldLock(cache)
    try:
        doomed = start_learners(ctl, env, 6, 4, "late")
        kept = start_learners(ctl, env, 6, 4, "keep")
        wait_noted(doomed + kept)
        forget = subprocess.Popen([str(ctl), "models", "--forget", "late*"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.2)  # the forget usually waits too (either way is right)
    finally:
        lock.release()
    wait_all(doomed + kept)
    out, err = forget.communicate(timeout=120)
    assert forget.returncode == 0, err
    assert out.startswith(b"forgot ")
    models = {e[1] for e in parse_cache(cache)}
    assert not any(m.startswith("late") for m in models), sorted(models)
    assert models == {f"keep{p}-m{i}" for p in range(6) for i in range(4)}
    # After the forget, the same models are learned again.
    wait_all(start_learners(ctl, env, 2, 2, "late"))
    models = {e[1] for e in parse_cache(cache)}
    assert {"late0-m0", "late0-m1", "late1-m0", "late1-m1"} <= models
    assert "#!forget\t" in cache.read_text()  # the record that did it
