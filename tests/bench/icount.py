#!/usr/bin/python3
"""Instructions the shim adds per transfer, by callgrind slope.

    tests/bench/icount.py [--env NAME=VALUE]... [--n1 200] [--n2 2000]
                          [--lib build/libstreamshim.so] -- CLIENT-ARGS...

Starts the benchmark server (serve.py) in a temporary directory, replaces
{base} in CLIENT-ARGS with its http://127.0.0.1:PORT, and runs
build/bench/bench_client under callgrind four times: -n N1 and -n N2, without
and with the library in LD_PRELOAD. The slope (N2 - N1 transfers) drops
start-up and exit out; the difference of the two slopes is what the shim
adds per transfer. Prints one line of figures. Instruction counts are
deterministic: the machine's load does not change them.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import serve  # noqa: E402


def callgrind_total(cmd, env, out):
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + cmd,
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    text = Path(out).read_text()
    m = re.search(r"^(?:summary|totals): *(\d+)", text, re.M)
    return int(m.group(1))


def base_env(tmp):
    home = Path(tmp) / "home"
    (home / ".config").mkdir(parents=True, exist_ok=True)
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "STREAMSHIM_CONFIG": "",
            "XDG_CONFIG_HOME": str(home / ".config")}


def measure(client_args, extra_env, lib, n1, n2, tmp, port):
    base = "http://127.0.0.1:%d" % port
    args = [a.replace("{base}", base) for a in client_args]
    client = str(ROOT / "build" / "bench" / "bench_client")
    res = {}
    for label, preload in (("plain", None), ("shim", lib)):
        env = base_env(tmp)
        env.update(extra_env)
        if preload:
            env["LD_PRELOAD"] = str(Path(preload).resolve())
        counts = []
        for n in (n1, n2):
            out = os.path.join(tmp, "cg.%s.%d" % (label, n))
            counts.append(callgrind_total([client, "-n", str(n)] + args, env, out))
        res[label] = (counts[1] - counts[0]) / (n2 - n1)
    return res["plain"], res["shim"], res["shim"] - res["plain"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--n1", type=int, default=200)
    ap.add_argument("--n2", type=int, default=2000)
    ap.add_argument("--lib", default=str(ROOT / "build" / "libstreamshim.so"))
    ap.add_argument("client_args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    args = a.client_args[1:] if a.client_args[:1] == ["--"] else a.client_args
    extra = dict(e.split("=", 1) for e in a.env)
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = serve.start(Path(tmp) / "srv")
        try:
            plain, shim, added = measure(args, extra, a.lib, a.n1, a.n2, tmp, port)
        finally:
            proc.terminate()
            proc.wait()
    print("libcurl %.0f  with shim %.0f  added %.0f instructions per transfer" % (plain, shim, added))


if __name__ == "__main__":
    main()
