#!/usr/bin/python3
"""The benchmark's driver: runs the cases of tests/bench/cases.py and prints
one table (figure, target, met or not).

    tests/bench/run.py --quick [--update-baseline]   # make bench-quick / bench-baseline
    tests/bench/run.py --full --write BENCHMARKS.md  # make bench
    tests/bench/run.py --case NAME [--case NAME]...  # some cases, the table only

--quick runs the instruction-count cases (deterministic) and compares them
with tests/bench/baseline.json: exit status 1 when a figure is more than
10% worse (or a case failed). --update-baseline writes that file from this
run instead. --full runs every case; --write regenerates BENCHMARKS.md
with tests/bench/notes.md's paragraphs for the targets missed, from this
run's results merged over those of earlier runs (kept in
build/bench/results.json: `--case NAME --write BENCHMARKS.md` updates one
case). Needs the build of `make bench` (build/libstreamshim.so,
build/bench/*).
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import cases as case_table  # noqa: E402
import harness  # noqa: E402
import report  # noqa: E402

BASELINE = HERE / "baseline.json"
NOTES = HERE / "notes.md"


def run_case(bench, case):
    """One case: its result dict (report.py's shape)."""
    try:
        got = case.fn(bench)
    except Exception as e:  # a failed case is a row of the table, not a crash
        traceback.print_exc(file=sys.stderr)
        return {"name": case.name, "value": None, "own": None, "detail": "", "limit": case.limit,
                "met": None, "error": "%s: %s" % (type(e).__name__, e)}
    if not isinstance(got, tuple):
        got = (got,)
    value, own = got[0], None
    if isinstance(value, harness.Pair):
        value, own = value.total, value.own
    detail = got[1] if len(got) > 1 else ""
    limit = got[2] if len(got) > 2 else case.limit
    # Met when the total meets the target and so does the shim's own count:
    # the total alone carries libcurl's run-to-run noise.
    met = case.met(value, limit)
    if met and own is not None:
        met = case.met(own, limit)
    return {"name": case.name, "value": value, "own": own, "detail": detail, "limit": limit,
            "met": met, "error": None}


def run_cases(bench, selected, jobs, log):
    """The instruction-count cases in parallel (callgrind is CPU-bound and
    its counts do not care), then the wall-time, memory and proxy cases
    one at a time, so that they never share the machine with callgrind."""
    counts = [c for c in selected if c.quick or c.name.startswith("scale_")
              or c.name == "replay_per_byte_1m"]
    timed = [c for c in selected if c not in counts]
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        for case, res in zip(counts, pool.map(lambda c: timed_run(bench, c, log), counts)):
            results[case.name] = res
    for case in timed:
        results[case.name] = timed_run(bench, case, log)
    return [results[c.name] for c in selected]


def timed_run(bench, case, log):
    t0 = time.monotonic()
    res = run_case(bench, case)
    log("%-22s %s (%.0f s)" % (case.name, report.figure_text(res), time.monotonic() - t0))
    return res


def first_line(cmd):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=60)
        return (r.stdout.strip().splitlines() or ["?"])[0]
    except (OSError, subprocess.SubprocessError):
        return "not installed"


def machine():
    cpu = "?"
    try:
        cpu = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(),
                        re.M).group(1)
    except (OSError, AttributeError):
        pass
    commit = first_line(["git", "-C", str(HERE), "describe", "--always", "--dirty"])
    return {
        "nproc": str(os.cpu_count()),
        "CPU": cpu,
        "kernel": platform.release(),
        "libcurl": first_line(["curl-config", "--version"]),
        "nginx": first_line(["/usr/sbin/nginx", "-v"]),
        "valgrind": first_line(["valgrind", "--version"]),
        "mitmproxy": first_line(["dpkg-query", "-W", "-f", "${Version}", "mitmproxy"]),
        "commit": commit,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the instruction counts only")
    ap.add_argument("--full", action="store_true", help="every case")
    ap.add_argument("--case", action="append", default=[], help="a case by name")
    ap.add_argument("--update-baseline", action="store_true")
    ap.add_argument("--baseline", default=str(BASELINE))
    ap.add_argument("--write", help="write BENCHMARKS.md here")
    ap.add_argument("--notes", default=str(NOTES))
    ap.add_argument("--build", default=os.environ.get("BENCH_BUILD", str(harness.ROOT / "build")))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--list", action="store_true", help="the cases, and stop")
    a = ap.parse_args(argv)

    if a.list:
        for c in case_table.CASES:
            print("%-22s %-6s %s" % (c.name, "quick" if c.quick else "full", c.what))
        return 0
    if a.case:
        selected = [case_table.by_name(n) for n in a.case]
    elif a.full:
        selected = list(case_table.CASES)
    else:
        selected = [c for c in case_table.CASES if c.quick]
    quick_only = all(c.quick for c in selected)
    log = lambda msg: print("bench: " + msg, file=sys.stderr, flush=True)
    t0 = time.monotonic()
    needs_tls = any(c.name.startswith("mitm_") for c in selected)
    with harness.Bench(build=a.build, tls=needs_tls) as bench:
        results = run_cases(bench, selected, a.jobs, log)
    log("%d cases in %.0f s" % (len(selected), time.monotonic() - t0))

    status = 0
    if a.update_baseline:
        Path(a.baseline).write_text(report.baseline_json(
            [r for r, c in zip(results, selected) if c.quick], machine()))
        print(report.text_table(selected, results))
        print("bench: wrote %s" % a.baseline)
        status = 1 if any(r.get("error") for r in results) else 0
    elif a.quick or (quick_only and not a.case):
        comparison = report.compare(selected, results, report.load_baseline(a.baseline))
        print(report.text_table(selected, results, comparison))
        bad = [c["name"] for c in comparison if c["regressed"]]
        if bad:
            print("bench-quick: REGRESSED over %d%% of %s: %s" % (
                report.TOLERANCE * 100, os.path.relpath(a.baseline), ", ".join(bad)))
            status = 1
        else:
            print("bench-quick: no figure regressed over %d%% of the baseline "
                  "(make bench-baseline refreshes it)" % (report.TOLERANCE * 100))
    else:
        print(report.text_table(selected, results))
        status = 1 if any(r.get("error") for r in results) else 0
    # Every run keeps its results; --write merges them over the last ones
    # kept, so that a case rerun alone (--case NAME --write) updates
    # BENCHMARKS.md without running the others again.
    saved = Path(a.build) / "bench" / "results.json"
    kept = json.loads(saved.read_text()) if saved.exists() else {}
    kept.update({r["name"]: r for r in results})
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(kept, indent=1))
    if a.write:
        known = [c for c in case_table.CASES if c.name in kept]
        selected, results = known, [kept[c.name] for c in known]
        notes = report.parse_notes(Path(a.notes).read_text()) if Path(a.notes).exists() else {}
        when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        Path(a.write).write_text(report.markdown(selected, results, machine(), notes, when))
        print("bench: wrote %s" % a.write)
    return status


if __name__ == "__main__":
    sys.exit(main())
