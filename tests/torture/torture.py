#!/usr/bin/python3
"""Allocation-failure torture (make torture), as curl's runtests.pl -t.

The library of the torture build (make torture-build: ASan + UBSan, every
allocation of its own through tests/torture/failalloc.c) is preloaded into
tests/clients/llmclient, which runs one scenario against tests/server.py:
first without the shim (what the program sees of the server itself), then
under the shim counting its allocations (K, and the right answer), then
once for each N = 1, 2, ... failing the Nth allocation, until a run makes
fewer than N (nothing was failed). Every run must

  - end by itself (a generous timeout, 60 s: a hang, not a timing check),
  - not crash, and report no sanitizer error and no leak (LeakSanitizer is
    on: the client frees what it allocates),
  - hand the program either the right answer (what the shim gives without
    a failure) or the server's own answer unchanged (the pass-through),
    compared by the body and the summary line of libcurl's getinfo,
  - with capture on, leave a capture file of whole JSON lines.

The scenarios (--list): de-streamed, stream-only, auto retries both ways,
captured (configured and auto), a refusal learned by an earlier process
(read from the cache file), a retry under CURLOPT_FAILONERROR,
pass-through (a native stream watched in auto mode, a non-LLM POST), each
on the easy and the multi interface. --quick: the few CI runs.
Prints one line per scenario: the allocations counted and the iterations.
Exit status 1 when any run failed; its command line is printed so that it
can be run again by hand (with the failing allocation's place, from
addr2line).
"""

import argparse
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = "/usr/bin/python3"
TIMEOUT = 60

HELLO = {"role": "user", "content": "Say hello"}


def body(model, stream):
    b = {"model": model, "messages": [HELLO]}
    if stream:
        b["stream"] = True
        b["stream_options"] = {"include_usage": True}
    return json.dumps(b, separators=(",", ":")).encode()


AUTH = "Authorization: Bearer sk-torture-SECRET-0123456789"
CHAT = "/v1/chat/completions"

O3, QWQ = body("o3-mini", True), body("qwq-plus", False)
# The request the shim sends instead (de-streamed, or streaming): its
# answer unchanged is a pass-through too (README: what the encoder or the
# assembler cannot turn into the answer asked for reaches the program as
# the server sent it; a failed retry's answer likewise).
O3_OUT, QWQ_OUT = body("o3-mini", False), body("qwq-plus", True)

# name: (route, body, the body the shim sends instead, settings
#        (STREAMSHIM_*), extra client options, quick)
SCENARIOS = {
    "destream": (CHAT, O3, O3_OUT, {"models": "o3-mini*"}, [], True),
    "stream-only": (CHAT, QWQ, QWQ_OUT, {"stream_only": "qwq*"}, [], False),
    "auto-destream": (CHAT, O3, O3_OUT, {}, ["--header", AUTH], True),
    "auto-stream-only": (CHAT, QWQ, QWQ_OUT, {}, ["--header", AUTH], True),
    "capture": (CHAT, O3, O3_OUT, {"models": "o3-mini*", "capture": "@cap"},
                ["--header", AUTH], True),
    "capture-auto": (CHAT, QWQ, QWQ_OUT, {"capture": "@cap"}, [], False),
    # the refusal learned by an earlier process, read from the cache file
    "learned": (CHAT, O3, O3_OUT, {"@warm": "1"}, ["--header", AUTH], False),
    "fail-on-error": (CHAT, O3, O3_OUT, {}, ["--fail"], False),
    "native-stream": (CHAT, body("gpt-4o", True), None, {}, ["--header", AUTH], True),
    "non-llm": ("/echo", O3, None, {}, [], False),
}


def all_scenarios():
    """(name, route, body, sent body, settings, options, quick) on easy and multi."""
    out = []
    for name, (route, b, sent, settings, opts, quick) in SCENARIOS.items():
        out.append((name + "/easy", route, b, sent, settings, opts, quick))
        out.append((name + "/multi", route, b, sent, settings, ["--multi", *opts],
                    quick and name in ("destream", "auto-destream")))
    return out


class Server:
    """tests/server.py on a free loopback port (never under the shim)."""

    def __init__(self, work):
        self.log = work / "server.log"
        self.err = open(work / "server.stderr", "wb")
        self.proc = subprocess.Popen(
            [PYTHON, str(ROOT / "tests" / "server.py"), "--host", "127.0.0.1",
             "--port", "0", "--log", str(self.log)],
            cwd=str(ROOT), env=base_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=self.err)
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        line = b""
        deadline = time.monotonic() + 15
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            if sel.select(1):
                c = self.proc.stdout.read1(64) if hasattr(self.proc.stdout, "read1") else os.read(
                    self.proc.stdout.fileno(), 64)
                if not c:
                    break
                line += c
        sel.close()
        if not line.startswith(b"PORT "):
            raise SystemExit(f"tests/server.py did not start: {line!r}")
        self.url = "http://127.0.0.1:%d" % int(line.split()[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.err.close()


def base_env():
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith(("STREAMSHIM_", "SS_FAILALLOC"))
           and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["XDG_CONFIG_HOME"] = str(ROOT / "tests" / "no-user-config")
    env["STREAMSHIM_CONFIG"] = ""
    return env


# the server's fresh ids (stream-only refusals): not part of the answer
VOLATILE = re.compile(rb'"(id|request_id)":"[^"]*"')


def normal(stdout, stderr):
    """What the program saw: its body and libcurl's getinfo summary."""
    summary = [l for l in stderr.decode(errors="replace").splitlines() if l.startswith("result=")]
    summary = [re.sub(r" hsize=\d+", "", l) for l in summary]
    return VOLATILE.sub(b'"\\1":"-"', stdout), summary


class Runner:
    def __init__(self, args, server, work):
        self.build = (ROOT / args.build).resolve()
        self.lib = self.build / "libstreamshim.so"
        self.client = (ROOT / args.clients / "clients" / "llmclient").resolve()
        asan = subprocess.run([os.environ.get("CC", "cc"), "-print-file-name=libasan.so"],
                              capture_output=True, text=True).stdout.strip()
        self.preload_first = [asan, str(self.build / "swift_demangle_stub.so")]
        self.server = server
        self.work = work
        self.verbose = args.verbose

    def command(self, route, opts, bodyfile):
        return [str(self.client), "--header", "Content-Type: application/json", *opts,
                self.server.url + route, str(bodyfile)]

    def env(self, settings, shim, fail_at=0):
        env = base_env()
        env["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=86:abort_on_error=0"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=86"
        env["LSAN_OPTIONS"] = "exitcode=86"
        if not shim:
            return env
        env["LD_PRELOAD"] = " ".join(self.preload_first + [str(self.lib)])
        env["STREAMSHIM_CACHE"] = str(self.work / "refusals")
        env["STREAMSHIM_LOG"] = "info:" + str(self.work / "shim.log")
        for k, v in settings.items():
            if not k.startswith("@"):
                env["STREAMSHIM_" + k.upper()] = str(self.work / "cap.jsonl") if v == "@cap" else v
        env["SS_FAILALLOC"] = str(fail_at)
        env["SS_FAILALLOC_REPORT"] = str(self.work / "report")
        return env

    def run(self, route, b, settings, opts, shim, fail_at=0):
        """One run: (returncode, stdout, stderr, report, capture lines)."""
        for f in ("refusals", "shim.log", "cap.jsonl", "report"):
            (self.work / f).unlink(missing_ok=True)
        bodyfile = self.work / "body.json"
        bodyfile.write_bytes(b)
        cmd = self.command(route, opts, bodyfile)
        env = self.env(settings, shim, fail_at)
        if shim and "@warm" in settings:  # an earlier process learns first
            subprocess.run(cmd, env=self.env(settings, True, 0), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=TIMEOUT)
            for f in ("shim.log", "report"):
                (self.work / f).unlink(missing_ok=True)
        try:
            r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, timeout=TIMEOUT)
            rc, out, err = r.returncode, r.stdout, r.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = "timeout", e.stdout or b"", e.stderr or b""
        report = None
        rp = self.work / "report"
        if rp.exists():
            fields = rp.read_text().split()
            if len(fields) >= 3:
                report = (int(fields[0]), fields[1] == "1", [int(f, 16) for f in fields[2:]])
        cap = self.work / "cap.jsonl"
        capture = cap.read_bytes() if cap.exists() else None
        return rc, out, err, report, capture, cmd, env


def check_capture(data):
    """A capture file is whole JSON lines: None when it is, else why not."""
    if data is None or data == b"":
        return None
    if not data.endswith(b"\n"):
        return "capture file ends inside a line"
    for i, line in enumerate(data.split(b"\n")[:-1]):
        try:
            json.loads(line)
        except ValueError as e:
            return f"capture line {i + 1} is not JSON: {e}"
    return None


def where(lib, offsets):
    """The failed allocation's stack, innermost first (addr2line)."""
    offsets = [o for o in offsets if o][:6]
    if not offsets or not shutil.which("addr2line"):
        return ""
    r = subprocess.run(["addr2line", "-f", "-C", "-e", str(lib),
                        *["%#x" % (o - 1) for o in offsets]], capture_output=True, text=True)
    lines = r.stdout.splitlines()
    return " <- ".join(f"{f.strip()} {l.strip().replace(str(ROOT) + '/', '').split(' ')[0]}"
                       for f, l in zip(lines[::2], lines[1::2]))


def torture(runner, scenario, max_runs):
    name, route, b, sent, settings, opts, _ = scenario
    failures = []
    rc, out, err, _, _, _, _ = runner.run(route, b, settings, opts, shim=False)
    plain = normal(out, err)
    plain_sent = plain
    if sent is not None:
        rc, out, err, _, _, _, _ = runner.run(route, sent, settings, opts, shim=False)
        plain_sent = normal(out, err)
    rc, out, err, report, capture, cmd, env = runner.run(route, b, settings, opts, shim=True)
    if rc != 0 and rc != 1 or report is None or b"Sanitizer" in err or b"runtime error" in err:
        return 0, 0, [f"{name}: the run without a failure went wrong (rc={rc}): "
                      f"{err.decode(errors='replace')[-2000:]}"]
    right = normal(out, err)
    problem = check_capture(capture)
    if problem:
        failures.append(f"{name}: without a failure: {problem}")
    if settings and right == plain and name.split("/")[0] not in ("native-stream", "non-llm"):
        failures.append(f"{name}: the shim changed nothing: the scenario tests nothing")
    counted = report[0]
    n, outcomes = 0, {"right": 0, "pass-through": 0, "error": 0}
    while True:
        n += 1
        if max_runs and n > max_runs:
            break
        rc, out, err, report, capture, cmd, env = runner.run(route, b, settings, opts, True, n)
        seen = normal(out, err)
        bad = None
        if rc == "timeout":
            bad = "hang (no end within %d s)" % TIMEOUT
        elif rc not in (0, 1) or b"Sanitizer" in err or b"runtime error" in err:
            bad = f"crash or sanitizer report (rc={rc})"
        elif report is None:
            bad = "no report (the process did not exit normally)"
        elif seen == right:
            outcomes["right"] += 1
        elif seen in (plain, plain_sent):
            outcomes["pass-through"] += 1
        elif seen[1] and (not seen[1][-1].startswith("result=0 ") or
                          "getinfo=failed" in seen[1][-1] or "(out of memory)" in seen[1][-1]):
            # a clean error: the transfer failed, or a getinfo or header
            # call said it was out of memory; the program was told
            outcomes["error"] += 1
            code = seen[1][-1].split()[0] if not seen[1][-1].startswith("result=0 ") \
                else "getinfo-oom"
            outcomes[code] = outcomes.get(code, 0) + 1
        else:
            bad = "the program saw neither the right answer nor the pass-through"
        if not bad:
            bad = check_capture(capture)
        if runner.verbose and not bad and seen != right:
            print(f"  {name} #{n}: {'pass-through' if seen in (plain, plain_sent) else 'error'}"
                  f" {seen[1]} at {where(runner.lib, report[2]) if report else '?'}", flush=True)
        if bad:
            at = where(runner.lib, report[2]) if report else ""
            envs = " ".join(f"{k}={v!r}" for k, v in env.items()
                            if k.startswith(("STREAMSHIM_", "SS_", "LD_PRELOAD", "ASAN", "UBSAN")))
            failures.append(f"{name}: allocation {n} failed{(' (' + at + ')') if at else ''}: {bad}\n"
                            f"  {envs} {' '.join(map(repr, cmd))}\n"
                            f"  stdout: {out[-600:]!r}\n  summary: {seen[1]} (right: {right[1]}, "
                            f"plain: {plain[1]})\n  stderr: {err.decode(errors='replace')[-3000:]}")
            if runner.verbose:
                print(failures[-1], flush=True)
        if report is not None and not report[1]:
            break  # nothing was failed: the run made fewer than n allocations
        if report is None and n > counted * 2 + 50:
            break
    return counted, n, failures, outcomes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build-torture", help="the torture build's directory")
    ap.add_argument("--clients", default="build", help="the build whose clients/llmclient runs")
    ap.add_argument("--only", action="append", default=[],
                    help="scenarios whose name contains this (repeatable)")
    ap.add_argument("--quick", action="store_true", help="the CI subset")
    ap.add_argument("--max-runs", type=int, default=0, help="at most this many failing runs each")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    chosen = [s for s in all_scenarios()
              if (not args.only or any(o in s[0] for o in args.only)) and (s[6] or not args.quick)]
    if args.list:
        for s in chosen:
            print(s[0])
        return 0
    with tempfile.TemporaryDirectory(prefix="ss-torture-") as tmp:
        work = Path(tmp)
        server = Server(work)
        try:
            runner = Runner(args, server, work)
            all_failures = []
            print(f"{'scenario':24} {'allocs':>6} {'runs':>5} {'right':>6} {'pass':>5} {'error':>5}"
                  "  result", flush=True)
            start = time.monotonic()
            for s in chosen:
                t = time.monotonic()
                counted, runs, failures, *rest = torture(runner, s, args.max_runs)
                o = rest[0] if rest else {"right": 0, "pass-through": 0, "error": 0}
                codes = " ".join(f"{k}:{v}" for k, v in o.items() if k.startswith("result=") or k == "getinfo-oom")
                print(f"{s[0]:24} {counted:6} {runs:5} {o['right']:6} {o['pass-through']:5} "
                      f"{o['error']:5}  {codes + ' ' if codes else ''}"
                      f"{'ok' if not failures else '%d FAILED' % len(failures)}"
                      f"  ({time.monotonic() - t:.0f} s)", flush=True)
                all_failures += failures
            print(f"torture: {len(chosen)} scenarios, {time.monotonic() - start:.0f} s, "
                  f"{len(all_failures)} failures", flush=True)
            for f in all_failures:
                print("\n" + f)
            return 1 if all_failures else 0
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
