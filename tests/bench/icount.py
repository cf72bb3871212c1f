#!/usr/bin/python3
"""Instructions the shim adds per transfer, by callgrind slope: one ad hoc
case, outside the table of tests/bench/cases.py (tests/bench/run.py).

    tests/bench/icount.py [--env NAME=VALUE]... [--n1 200] [--n2 2000]
                          [--lib build/libstreamshim.so] -- CLIENT-ARGS...

Starts the benchmark's servers (serve.py) in a temporary directory,
replaces {base} in CLIENT-ARGS with nginx's http://127.0.0.1:PORT ({chunked}
with the chunked stream server's), and runs build/bench/bench_client under
callgrind four times: -n N1 and -n N2, without and with the library in
LD_PRELOAD (harness.Bench.added). The slope (N2 - N1 transfers) drops
start-up and exit out; the difference of the two slopes is what the shim
adds per transfer; "own" is the shim's own code and what it calls outside
libcurl and the program (harness.profile_own), the figure that does not
vary from run to run. Prints one line of figures.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--n1", type=int, default=200)
    ap.add_argument("--n2", type=int, default=2000)
    ap.add_argument("--lib", default=str(harness.ROOT / "build" / "libstreamshim.so"))
    ap.add_argument("client_args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    args = a.client_args[1:] if a.client_args[:1] == ["--"] else a.client_args
    extra = dict(e.split("=", 1) for e in a.env)
    with harness.Bench(lib=a.lib) as b:
        plain = b.plain_slope(args, a.n1, a.n2)
        added = b.added(args, extra, a.n1, a.n2)
    print("libcurl %.0f  with shim %.0f  added %.0f (own %.0f) instructions per transfer"
          % (plain, plain + added.total, added.total, added.own))


if __name__ == "__main__":
    main()
