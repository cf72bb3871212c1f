"""The drivers of `make soak` and `make valgrind` (tests/soak/) work: each
run at a tiny size (the valgrind one under memcheck), their summaries
parsed, and the client's accounting fails a run where transfers go wrong
(the same transfers without the shim: the refused ones fail). No timing
assertion; the long runs are the make targets, not part of the suite."""

import os
import re
import shutil
import subprocess

import pytest

from conftest import BUILD_DIR, PYTHON, ROOT, plain_env, require_lib

RUN = ROOT / "tests" / "soak" / "run.py"
CLIENT = BUILD_DIR / "soak" / "soak_client"


def drive(*args):
    require_lib()
    if not CLIENT.exists():
        pytest.fail(f"{CLIENT} is missing: make clients")
    return subprocess.run([PYTHON, str(RUN), *args, "--build", BUILD_DIR.name],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600)


def test_soak_driver_accounts_for_every_transfer_and_prints_the_rss_table():
    p = drive("soak", "-n", "210", "--rss-every", "70")
    assert p.returncode == 0, p.stdout
    assert re.search(r"^\s+210\s+\d+$", p.stdout, re.M), p.stdout
    assert len(re.findall(r"^\s+(70|140|210)\s+\d+$", p.stdout, re.M)) == 3, p.stdout
    m = re.search(r"transfers=210 sse=(\d+) json=(\d+) removed=(\d+) failed=0 lost=0", p.stdout)
    assert m, p.stdout
    sse, json_, removed = map(int, m.groups())
    # 7 kinds; removals happen on the multi batches only (the first 100, the last 10)
    assert sse + json_ + removed == 210 and removed > 0 and json_ >= 60, p.stdout
    assert "capture: " in p.stdout and " 0 not JSON" in p.stdout
    assert p.stdout.rstrip().endswith("soak: OK"), p.stdout


@pytest.mark.skipif(bool(os.environ.get("SS_PRELOAD_FIRST")),
                    reason="a sanitizer runtime does not run under valgrind")
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")
def test_valgrind_driver_runs_the_multi_client_under_memcheck():
    p = drive("valgrind", "-n", "50")
    assert p.returncode == 0, p.stdout
    assert "valgrind: errors=0 definitely-lost-bytes=0" in p.stdout, p.stdout
    assert re.search(r"transfers=50 sse=\d+ json=\d+ removed=\d+ failed=0 lost=0", p.stdout)
    assert p.stdout.rstrip().endswith("valgrind: OK"), p.stdout


def test_the_client_fails_when_transfers_go_wrong(server):
    # without the shim the refused requests get their 400s: counted failed
    p = subprocess.run([str(CLIENT), "-n", "14", "--iface", "easy", server.url],
                       env=plain_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    assert p.returncode == 1, p.stdout + p.stderr
    assert re.search(r"transfers=14 .* failed=[1-9]", p.stdout), p.stdout
    assert "FAIL #" in p.stderr
