#!/usr/bin/python3
"""make soak and make valgrind: tests/soak/soak_client under the shim.

  run.py soak     [-n 100000] [--build build]   RSS flat, every transfer
                                                accounted for
  run.py valgrind [-n 10000]  [--build build]   memcheck: no errors, no
                                                definite leaks

Both start tests/server.py on a free loopback port (never under the shim)
and run the client in auto mode (the default) with capture on (a record per
transfer, bodies cut at 256 bytes to keep the file small) and the learned
refusals in memory only (STREAMSHIM_CACHE=off: no cache file rewritten per
learned refusal). soak_client.c says what the transfers are.

soak: --iface mixed (batches of 100 on multi and easy, alternately). Prints
the RSS table (every 10,000 transfers) and the outcome counts. Fails on a
failed or lost transfer, a capture file without one record per finished
transfer (removed ones may or may not leave one), or RSS growth: the
last sample more than --rss-slack KiB (default 4096: allocator noise, the
learned cache filling to its 4,096 entries) over the first sample after
the warm-up (the 20,000th transfer's, or the first one's on shorter runs);
not judged with a sanitizer runtime preloaded ($SS_PRELOAD_FIRST, as under
make check-asan: ASan's quarantine holds freed memory).

valgrind: --iface multi under valgrind memcheck (--leak-check=full
--errors-for-leak-kinds=definite --error-exitcode=99, suppressions in
tests/soak/valgrind.supp). Prints transfers, errors and definitely lost
bytes. Fails on any error, a definite leak, or a failed transfer.
Exit status 0 or 1; the logs stay in the printed work directory on failure.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = "/usr/bin/python3"


def start_server(work):
    err = open(work / "server.stderr", "wb")
    proc = subprocess.Popen([PYTHON, str(ROOT / "tests" / "server.py"), "--port", "0"],
                            cwd=str(ROOT), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=err,
                            env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
    line = proc.stdout.readline().decode()
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"tests/server.py did not start: {line!r}")
    return proc, int(line.split()[1])


def shim_env(work, build):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMSHIM_")}
    env.update({
        # a sanitizer runtime first, as under make check-asan (tests/conftest.py)
        "LD_PRELOAD": " ".join(filter(None, [os.environ.get("SS_PRELOAD_FIRST", "").strip(),
                                             str(ROOT / build / "libstreamshim.so")])),
        "STREAMSHIM_CAPTURE": str(work / "capture.jsonl"),
        "STREAMSHIM_CAPTURE_MAX_BODY": "256",
        "STREAMSHIM_CACHE": "off",
        "STREAMSHIM_CONFIG": "",
        "HOME": str(work),
        "XDG_CONFIG_HOME": str(work / "config"),
        "XDG_CACHE_HOME": str(work / "cache"),
        "NO_PROXY": "*",
    })
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    return env


def counts(out):
    m = re.search(r"^transfers=(\d+) sse=(\d+) json=(\d+) removed=(\d+) failed=(\d+) lost=(\d+)$",
                  out, re.M)
    if not m:
        return None
    return dict(zip(("transfers", "sse", "json", "removed", "failed", "lost"),
                    map(int, m.groups())))


def capture_records(path):
    if not path.exists():
        return 0, 0
    good = bad = 0
    import json
    with open(path, "rb") as f:
        for line in f:
            try:
                json.loads(line)
                good += 1
            except ValueError:
                bad += 1
    return good, bad


def run(args):
    work = Path(tempfile.mkdtemp(prefix=f"ss-{args.what}-"))
    client = ROOT / args.build / "soak" / "soak_client"
    server, port = start_server(work)
    problems = []
    try:
        cmd = [str(client), "-n", str(args.n), "-c", str(args.c),
               "--iface", "multi" if args.what == "valgrind" else "mixed",
               "--rss-every", str(args.rss_every), f"http://127.0.0.1:{port}"]
        if args.what == "valgrind":
            vlog = work / "valgrind.log"
            cmd = ["valgrind", "--tool=memcheck", "--leak-check=full",
                   "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                   "--error-exitcode=99", "--num-callers=30",
                   f"--suppressions={ROOT / 'tests' / 'soak' / 'valgrind.supp'}",
                   f"--log-file={vlog}", *cmd]
        t0 = time.monotonic()
        p = subprocess.run(cmd, cwd=str(work), env=shim_env(work, args.build),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        secs = time.monotonic() - t0
        (work / "client.stdout").write_text(p.stdout)
        (work / "client.stderr").write_text(p.stderr)
        c = counts(p.stdout)
        if c is None:
            problems.append(f"no summary line (exit {p.returncode})")
        else:
            finished = c["sse"] + c["json"]
            if c["transfers"] != args.n or c["transfers"] != finished + c["removed"]:
                problems.append("transfers not accounted for")
            if c["failed"] or c["lost"]:
                problems.append(f"{c['failed']} failed, {c['lost']} lost")
            good, bad = capture_records(work / "capture.jsonl")
            print(f"capture: {good} records, {bad} not JSON")
            if bad or not finished <= good <= finished + c["removed"]:
                problems.append(f"capture has {good} records ({bad} bad) for {finished} finished")
        rss = [(int(a), int(b)) for a, b in re.findall(r"^rss after=(\d+) kib=(-?\d+)$",
                                                       p.stdout, re.M)]
        if args.what == "soak":
            print(f"{'transfers':>10} {'RSS KiB':>10}")
            for after, kib in rss:
                print(f"{after:>10} {kib:>10}")
            warm = [kib for after, kib in rss if after >= args.warmup] or [kib for _, kib in rss]
            if os.environ.get("SS_PRELOAD_FIRST"):
                # ASan keeps freed memory in quarantine (256 MiB): RSS grows
                print("RSS not judged: a sanitizer runtime is preloaded")
            elif warm and rss[-1][1] - warm[0] > args.rss_slack:
                problems.append(f"RSS grew {rss[-1][1] - warm[0]} KiB after the warm-up"
                                f" (slack {args.rss_slack})")
        else:
            log = vlog.read_text(errors="replace") if vlog.exists() else ""
            m = re.search(r"ERROR SUMMARY: (\d+) errors", log)
            errors = int(m.group(1)) if m else -1
            m = re.search(r"definitely lost: ([\d,]+) bytes in ([\d,]+) blocks", log)
            lost = m.group(1).replace(",", "") if m else "0"
            print(f"valgrind: errors={errors} definitely-lost-bytes={lost}"
                  f" exit={p.returncode}")
            if errors != 0 or lost != "0" or p.returncode == 99:
                problems.append("valgrind reported errors or definite leaks (valgrind.log)")
        if c:
            print(" ".join(f"{k}={v}" for k, v in c.items()) + f" seconds={secs:.0f}")
        if p.returncode not in (0, 99) or (p.returncode and not problems):
            problems.append(f"client exit {p.returncode}")
        sys.stdout.write("".join(p.stderr.splitlines(True)[:20]))
    finally:
        server.kill()
        server.wait()
    if problems:
        print(f"{args.what}: FAILED: {'; '.join(problems)} (logs: {work})")
        return 1
    print(f"{args.what}: OK")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=("soak", "valgrind"))
    ap.add_argument("-n", type=int, default=None, help="transfers")
    ap.add_argument("-c", type=int, default=8, help="transfers in flight on multi")
    ap.add_argument("--build", default="build")
    ap.add_argument("--rss-every", type=int, default=10000)
    ap.add_argument("--warmup", type=int, default=20000)
    ap.add_argument("--rss-slack", type=int, default=4096, help="KiB")
    args = ap.parse_args()
    if args.n is None:
        args.n = 100000 if args.what == "soak" else 10000
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
