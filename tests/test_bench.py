"""The benchmark harness (tests/bench/, `make bench`, `make bench-quick`)
works: its table, its baseline check (a fake regression fails it), the
BENCHMARKS.md it writes with the notes merged in, the callgrind profile
readers on a small profile, and one tiny instruction-count case end to end
against the benchmark's nginx. No timing assertion: the figures are only
checked to be figures."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import LIB, ROOT

sys.path.insert(0, str(ROOT / "tests" / "bench"))
import cases  # noqa: E402
import harness  # noqa: E402
import report  # noqa: E402
import run as bench_run  # noqa: E402


def fake_cases():
    return [cases.Case("alpha", "the alpha", "by hand", "<= 100 instructions", 100,
                       "instr/transfer", True, None),
            cases.Case("beta", "the beta", "by hand", ">= 200 MB/s", 200, "MB/s", False,
                       None, higher=True),
            cases.Case("gamma", "the gamma", "by hand", "0 added", 0, "instr/transfer",
                       True, None, slack=1)]


def result(name, value, own=None, met=None, detail=""):
    return {"name": name, "value": value, "own": own, "detail": detail, "limit": None,
            "met": met, "error": None}


def test_every_case_has_a_unique_name_a_target_and_a_function():
    names = [c.name for c in cases.CASES]
    assert len(names) == len(set(names))
    for c in cases.CASES:
        assert c.what and c.how and c.target and callable(c.fn), c.name
    # every figure of the first point has a case
    for name in ("pass_auto", "pass_auto_auth", "pass_force", "pass_force_auth", "pass_off",
                 "pass_off_auth", "get_auto", "body_per_byte", "stream_per_chunk",
                 "replay_1k", "replay_per_byte", "replay_mbs_16m", "replay_us_1k",
                 "mem_concurrent", "mem_growth", "bintrue_instr", "wall_bintrue",
                 "capture_on", "capture_off", "mitm_latency_http", "mitm_latency_tls",
                 "mitm_rps_http", "mitm_rps_tls", "scale_1", "scale_100", "scale_1000",
                 "scale_10000", "wall_pass_auto"):
        assert cases.by_name(name)


def test_met_follows_the_direction_of_the_target():
    alpha, beta, _ = fake_cases()
    assert alpha.met(100) is True and alpha.met(101) is False
    assert beta.met(250) is True and beta.met(150) is False
    assert alpha.met(150, limit=200) is True       # a limit the run computed
    assert cases.Case("x", "", "", "reported", None, "", True, None).met(5) is None


def test_the_table_shows_figure_own_target_and_met():
    cs = fake_cases()
    text = report.text_table(cs, [result("alpha", 1234.5, own=1200, met=False),
                                  result("beta", 250.25, met=True, detail="+4 us")])
    lines = text.splitlines()
    assert lines[0].split() == ["case", "figure", "own", "unit", "target", "met", "detail"]
    assert "1,234" in lines[2] or "1,235" in lines[2]
    assert "1,200" in lines[2] and "NOT MET" in lines[2]
    assert "250" in lines[3] and " met " in lines[3] + " " and "+4 us" in lines[3]
    assert "gamma" not in text                     # not run, not shown


def test_the_baseline_check_fails_a_regression_over_ten_percent():
    cs = fake_cases()
    baseline = {"alpha": 1000, "gamma": 0}
    results = [result("alpha", 5000, own=1101), result("gamma", 0.5, own=None),
               result("beta", 10)]
    cmp = {c["name"]: c for c in report.compare(cs, results, baseline)}
    assert cmp["alpha"]["regressed"] is True       # own 1101 > 1000 * 1.1
    assert cmp["alpha"]["change"] == "+10.1%"
    assert cmp["gamma"]["regressed"] is False      # 0.5 within the slack of 1
    assert cmp["beta"]["regressed"] is False and cmp["beta"]["change"] == "new"
    ok = report.compare(cs, [result("alpha", 1, own=1099), result("gamma", 2)], baseline)
    assert [c["regressed"] for c in ok] == [False, True]
    failed = dict(result("alpha", None), error="RuntimeError: x")
    assert report.compare(cs, [failed], baseline)[0]["regressed"] is True
    text = report.text_table(cs, results, report.compare(cs, results, baseline))
    assert "REGRESSED" in text and "baseline" in text.splitlines()[0]


def test_the_baseline_file_round_trips(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text(report.baseline_json([result("alpha", 5000, own=1101.23456),
                                          result("gamma", 3)], {"nproc": "2"}))
    data = json.loads(path.read_text())
    assert "make bench-baseline" in data["about"]
    assert report.load_baseline(path) == {"alpha": 1101.2346, "gamma": 3}
    assert report.load_baseline(tmp_path / "none.json") == {}


def test_benchmarks_md_has_the_table_the_machine_and_the_notes_of_missed_targets():
    cs = fake_cases()
    notes = report.parse_notes("intro\n## alpha\nWhy alpha misses.\n\nMore.\n## beta\nunused\n")
    assert notes == {"alpha": "Why alpha misses.\n\nMore.", "beta": "unused"}
    md = report.markdown(cs, [result("alpha", 150, met=False), result("beta", 300, met=True),
                              dict(result("gamma", None), error="boom")],
                         {"nproc": "2", "kernel": "6.1"}, notes, "2026-01-01 00:00 UTC")
    assert "| alpha | the alpha | 150 |" in md
    assert "- nproc: 2" in md and "make bench-quick" in md
    missed = md.split("## Targets missed", 1)[1]
    assert "### alpha" in missed and "Why alpha misses." in missed
    assert "### gamma" in missed and "tests/bench/notes.md" in missed   # no note yet
    assert "### beta" not in missed


def test_the_committed_notes_and_baseline_name_only_existing_cases():
    names = {c.name for c in cases.CASES}
    text = (ROOT / "tests" / "bench" / "notes.md").read_text()
    notes = report.parse_notes(text)
    assert set(notes) <= names, set(notes) - names
    headings = [l for l in text.splitlines() if l.startswith("## ")]
    assert len(headings) == len(set(headings)), "a case's note twice"
    baseline = report.load_baseline(ROOT / "tests" / "bench" / "baseline.json")
    quick = {c.name for c in cases.CASES if c.quick}
    assert baseline and set(baseline) <= quick, set(baseline) - quick


PROFILE = """\
version: 1
creator: by hand
events: Ir
summary: 1000

ob=(1) /x/libstreamshim.so
fl=(1) /src/hooks/capture.c
fn=(1) cap_start
3 10
cob=(2) /usr/lib/libc.so.6
cfi=(2) malloc.c
cfn=(2) malloc
calls=1 0
3 40
cob=(3) /usr/lib/x86_64-linux-gnu/libcurl.so.4
cfn=(3) curl_easy_perform
calls=1 0
4 500
fi=(4) /src/hooks/pure/buf.h
5 7
fn=(5) cap_end
6 3
fl=(6) /src/shim/xfer.c
fn=(7) xfer_start
7 20
cob=(8) /x/bench_client
cfn=(8) on_write
calls=1 0
8 90
ob=(2)
fl=(2)
fn=(2)
0 40
"""


def test_the_profile_readers():
    assert harness.profile_total(PROFILE) == 1000
    # capture.c's own lines: 10 + 3 (buf.h's inlined 7 is not capture.c's)
    assert harness.profile_files_self(PROFILE, r"hooks/capture[^/]*\.c$") == 13
    # the shim's own: 10 + 7 + 3 + 20 self, 40 in malloc; not libcurl's 500
    # nor the program's 90
    assert harness.profile_own(PROFILE, r"libstreamshim\.so$", r"bench_client$") == 80
    p = harness.Pair(10, 4)
    q = (p * 3 - harness.Pair(2, 2)) / 2
    assert (q.total, q.own) == (14, 5)


def test_run_lists_the_cases(capsys):
    assert bench_run.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "pass_auto" in out and "mitm_latency_tls" in out


@pytest.mark.needs_lib
@pytest.mark.skipif(bool(os.environ.get("SS_PRELOAD_FIRST")),
                    reason="instruction counts of a sanitized library mean nothing")
def test_one_tiny_case_end_to_end(tmp_path):
    """pass_off's request, 2 vs 4 transfers, under callgrind against the
    benchmark's nginx: a figure comes out, and the shim's own count is a
    positive number of instructions."""
    for tool in ("valgrind", "/usr/sbin/nginx"):
        assert shutil.which(tool), tool + " missing: scripts/install-deps installs it"
    client = tmp_path / "bench_client"
    subprocess.run(["cc", "-O2", "-o", str(client), str(ROOT / "tests/bench/bench_client.c"),
                    "-lcurl"], check=True)
    with harness.Bench(lib=LIB, client=client) as b:
        got = b.added(cases.post(b) + [cases.SSE], {"STREAMSHIM_MODE": "off"}, 2, 4)
        assert isinstance(got.total, float) and got.own > 0
        assert b.plain_slope(cases.post(b) + [cases.SSE], 2, 4) > 1000
        res = bench_run.run_case(b, cases.Case(
            "tiny", "tiny", "by hand", "<= 1e9", 1e9, "instr/transfer", True,
            lambda bench: bench.added(["{base}/get/100k"], None, 2, 4)))
    assert res["error"] is None and res["met"] is True and res["own"] > 0
