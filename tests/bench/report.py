"""The benchmark's output: the table, the check against the committed
baseline (tests/bench/baseline.json), and BENCHMARKS.md with the notes of
tests/bench/notes.md merged in. Pure: figures in, text out (tested by
tests/test_bench.py without running anything).

A result is a dict: name, value (None when the case failed), own (the
shim's own instructions, harness.profile_own, for instruction figures;
else None), detail, limit (the case's, or the one the run computed), met
(True, False or None: no target), error (text, when it failed). The
baseline keeps gate(result): own where there is one, else value; both
are deterministic.
"""
import json
import re

TOLERANCE = 0.10


def gate(r):
    """The figure bench-quick compares with the baseline."""
    return r.get("own") if r.get("own") is not None else r.get("value")


def fmt(value):
    if value is None:
        return "-"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return "{:,.0f}".format(value)
    if abs(value) >= 10:
        return "%.1f" % value
    if abs(value) >= 0.1:
        return "%.2f" % value
    return "%.4f" % value


def met_text(met):
    return {True: "met", False: "NOT MET", None: "-"}[met]


def table(rows, headers):
    """Plain text table, left aligned, two spaces between columns."""
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def figure_text(r):
    if r.get("error"):
        err = r["error"].splitlines()[0] if r["error"] else ""
        return "FAILED: " + (err if len(err) <= 60 else err[:57] + "...")
    return fmt(r["value"])


def result_rows(cases, results, comparison=None):
    by = {r["name"]: r for r in results}
    cmp_by = {c["name"]: c for c in comparison or []}
    rows = []
    for case in cases:
        r = by.get(case.name)
        if r is None:
            continue
        row = [case.name, figure_text(r), fmt(r.get("own")), case.unit, case.target,
               met_text(r.get("met"))]
        if comparison is not None:
            c = cmp_by.get(case.name, {})
            row += [fmt(c.get("baseline")), c.get("change", "-"),
                    "REGRESSED" if c.get("regressed") else ""]
        row.append(r.get("detail") or "")
        rows.append(row)
    return rows


def text_table(cases, results, comparison=None):
    headers = ["case", "figure", "own", "unit", "target", "met"]
    if comparison is not None:
        headers += ["baseline", "change", ""]
    headers.append("detail")
    return table(result_rows(cases, results, comparison), headers)


# -- the baseline ---------------------------------------------------------

def compare(cases, results, baseline, tolerance=TOLERANCE):
    """Each quick result against baseline {name: value}: a regression is a
    figure worse than the baseline by more than tolerance (relative) plus
    the case's slack (absolute). Returns one dict per result: name,
    baseline, change (text), regressed."""
    slack = {c.name: c.slack for c in cases}
    higher = {c.name: c.higher for c in cases}
    out = []
    for r in results:
        name, value = r["name"], gate(r)
        base = baseline.get(name)
        entry = {"name": name, "baseline": base, "change": "-", "regressed": False}
        if value is None:
            entry["regressed"] = True
            entry["change"] = "failed"
        elif base is None:
            entry["change"] = "new"
        else:
            entry["change"] = ("%+.1f%%" % ((value - base) / abs(base) * 100) if base
                               else "%+g" % (value - base))
            if higher.get(name):
                entry["regressed"] = value < base * (1 - tolerance) - slack.get(name, 0)
            else:
                entry["regressed"] = value > base * (1 + tolerance) + slack.get(name, 0)
        out.append(entry)
    return out


def load_baseline(path):
    try:
        with open(path) as f:
            return json.load(f).get("figures", {})
    except FileNotFoundError:
        return {}


def baseline_json(results, machine):
    return json.dumps({
        "about": "make bench-quick's reference figures (instructions, deterministic); "
                 "refresh with `make bench-baseline` after a change that makes the shim "
                 "cheaper (or dearer, on purpose), and commit this file",
        "machine": machine,
        "figures": {r["name"]: round(gate(r), 4) for r in results if gate(r) is not None},
    }, indent=2, sort_keys=False) + "\n"


# -- BENCHMARKS.md ---------------------------------------------------------

def parse_notes(text):
    """tests/bench/notes.md: "## case_name" headings, each followed by the
    hand-written why / what would meet it. Returns {name: text}."""
    notes, name, lines = {}, None, []
    for line in text.splitlines():
        m = re.match(r"^## +(\S+)\s*$", line)
        if m:
            if name:
                notes[name] = "\n".join(lines).strip()
            name, lines = m.group(1), []
        elif name:
            lines.append(line)
    if name:
        notes[name] = "\n".join(lines).strip()
    return notes


def md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


COMMANDS = """\
    make bench            # every case (installs valgrind, nginx, mitmproxy first); this file
    make bench-quick      # the instruction counts only, against tests/bench/baseline.json
                          # (fails on a regression over 10%); CI runs it
    make bench-baseline   # rewrite tests/bench/baseline.json from this build's counts
    tests/bench/run.py --case pass_auto --case replay_1k   # some cases, the table only
    tests/bench/icount.py --env STREAMSHIM_MODE=off -- -d BODY '{base}/sse/v1/chat/completions'
    callgrind_annotate --inclusive=yes callgrind.out.N      # where one run's instructions go
"""


def markdown(cases, results, machine, notes, when):
    by = {r["name"]: r for r in results}
    out = ["# Benchmarks", "",
           "What streamshim costs the programs it is loaded into, against the targets of "
           "the performance issue. Written by `make bench` (tests/bench/run.py) on %s: "
           "do not edit by hand; the notes on missed targets come from "
           "tests/bench/notes.md." % when, "",
           "Instruction counts are callgrind counts of the transfers between two marks "
           "of one run of tests/bench/bench_client.c (after N1 transfers and after N2: "
           "start-up, warm-up and exit drop out) per transfer, with the library minus "
           "without; the machine's load does not change them. Wall times are only compared as "
           "ratios measured side by side in one run, alternating, several rounds, the least "
           "of each. The total of an instruction figure varies by a few hundred "
           "instructions per transfer from run to run (how often libcurl's loop polls "
           "before an answer arrives); the `own` column, the instructions of the shim's "
           "own code and of what it calls (libc, the loader, libcurl outside the calls "
           "that run transfers), does not, and is what `make bench-quick` compares with "
           "its baseline. A target with both columns is met when both meet it.", "",
           "## Figures", "",
           "| case | what | figure | own | unit | target | met | detail |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for c in cases:
        r = by.get(c.name)
        if r is None:
            continue
        out.append("| %s |" % " | ".join(md_cell(x) for x in (
            c.name, c.what, figure_text(r), fmt(r.get("own")), c.unit, c.target,
            met_text(r.get("met")),
            r.get("detail") or "")))
    out += ["", "## Machine", ""]
    out += ["- %s: %s" % (k, v) for k, v in machine.items()]
    out += ["", "## Commands", "", COMMANDS, "## How each figure is measured", ""]
    for c in cases:
        if c.name in by:
            out.append("- `%s`: %s." % (c.name, c.how.rstrip(".")))
    missed = [c for c in cases if c.name in by and by[c.name].get("met") is not True
              and (by[c.name].get("met") is False or by[c.name].get("error"))]
    out += ["", "## Targets missed", ""]
    if not missed:
        out.append("None.")
    for c in missed:
        out += ["### %s" % c.name, "",
                notes.get(c.name) or "No note yet: add one under `## %s` in "
                "tests/bench/notes.md." % c.name, ""]
    return "\n".join(out).rstrip() + "\n"
