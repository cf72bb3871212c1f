"""The benchmark's measuring pieces: one Bench holds the server, the paths
and a cache of runs, and measures the ways tests/bench/cases.py needs:

    added(args, env, n1, n2)   instructions the shim adds per transfer: the
                               callgrind count of bench_client's transfers
                               n1+1 .. n2 (one run, dumped at marks: no
                               start-up, no exit) per transfer, with the
                               library preloaded minus without, and the
                               shim's own (a Pair)
    stage_slope(...)           the same, counting only functions of some
                               source files (the capture stage's)
    program_count(cmd, so)     instructions of one run of a program
    side_by_side(runs)         wall seconds of several commands, alternating
                               round by round, the minimum of each
    peak_rss_kb(...)           bench_client's own peak RSS (VmHWM)

Instruction counts are deterministic (the machine's load does not change
them); wall times are only ever compared within one side_by_side call.
"""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import serve  # noqa: E402


def callgrind(cmd, env, out):
    """Runs cmd under callgrind, writing its profile to out; returns the
    total instruction count."""
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + cmd,
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return profile_total(Path(out).read_text())


def profile_total(text):
    m = re.search(r"^(?:summary|totals): *(\d+)", text, re.M)
    return int(m.group(1))


def profile_files_self(text, pattern):
    """Self instructions of the functions whose source file matches the
    regular expression pattern, from a callgrind profile's text. Reads the
    format's fl=/fi=/fe= lines (file names, compressed as "(id) name" and
    later "(id)") and the cost lines under them; calls= lines are followed
    by the inclusive cost of a call, which is not self cost."""
    names = {}
    rx = re.compile(pattern)
    current = in_fl = False
    total = 0
    skip_next = False
    for line in text.splitlines():
        if skip_next:
            skip_next = False
            continue
        if line[:4] in ("cfi=", "cfl="):     # names a file too (one id space)
            m = re.match(r"...=\((\d+)\) (.*)", line)
            if m:
                names[m.group(1)] = m.group(2)
        elif line[:3] in ("fl=", "fi=", "fe="):
            m = re.match(r"..=\((\d+)\)(?: (.*))?", line)
            if m:
                if m.group(2) is not None:
                    names[m.group(1)] = m.group(2)
                name = names.get(m.group(1), "")
            else:
                name = line[3:]
            current = bool(rx.search(name))
            if line.startswith("fl="):
                in_fl = current
        elif line.startswith("fn="):
            current = in_fl          # an inlined file (fi=, fe=) ends here
        elif line.startswith("calls="):
            skip_next = True
        elif current and line[:1] in "0123456789+-*":
            parts = line.split()
            if len(parts) >= 2:
                total += int(parts[1])
    return total


def profile_own(text, own, program):
    """Instructions of the shim's own code, from a callgrind profile: the
    self cost of every function of the object matching own (a regular
    expression on its path), plus the inclusive cost of each call from one
    of them into another object (libc, the loader), except into the
    program (its callbacks) and into libcurl (what the program asked of it,
    forwarded, and the transfers it runs). Unlike a total, this does not
    count how often libcurl's loop happened to poll before an answer
    arrived, so it is the same run after run: make bench-quick compares it
    with the baseline. It does not see work the shim makes libcurl do; the
    totals do."""
    own_rx, prog_rx = re.compile(own), re.compile(program)
    obs = {}
    cur_ob = ""
    cob = None
    call_cost_next = False
    total = 0

    def name(table, line, skip):
        m = re.match(r"\((\d+)\)(?: (.*))?", line[skip:])
        if not m:
            return line[skip:]
        if m.group(2) is not None:
            table[m.group(1)] = m.group(2)
        return table.get(m.group(1), "")

    for line in text.splitlines():
        head = line[:4]
        if call_cost_next:
            call_cost_next = False
            callee_ob = cob if cob is not None else cur_ob
            cob = None
            if not own_rx.search(cur_ob) or own_rx.search(callee_ob):
                continue
            if prog_rx.search(callee_ob) or "libcurl" in callee_ob:
                continue
            parts = line.split()
            if len(parts) >= 2:
                total += int(parts[1])
        elif line.startswith("ob="):
            cur_ob = name(obs, line, 3)
        elif head == "cob=":
            cob = name(obs, line, 4)
        elif line.startswith("calls="):
            call_cost_next = True
        elif line[:1] in "0123456789+-*" and own_rx.search(cur_ob):
            parts = line.split()
            if len(parts) >= 2:
                total += int(parts[1])
    return total


class Pair:
    """An instruction figure two ways: total (with the library minus
    without, the issue's definition; a few hundred instructions of noise
    from libcurl's polling) and own (profile_own: deterministic). Adds,
    subtracts, scales and divides like a number, on both at once."""

    def __init__(self, total, own):
        self.total, self.own = total, own

    def _op(self, other, f):
        if isinstance(other, Pair):
            return Pair(f(self.total, other.total), f(self.own, other.own))
        return Pair(f(self.total, other), f(self.own, other))

    def __add__(self, o):
        return self._op(o, lambda a, b: a + b)

    __radd__ = __add__

    def __sub__(self, o):
        return self._op(o, lambda a, b: a - b)

    def __mul__(self, o):
        return self._op(o, lambda a, b: a * b)

    __rmul__ = __mul__

    def __truediv__(self, o):
        return self._op(o, lambda a, b: a / b)

    def __repr__(self):
        return "Pair(%r, %r)" % (self.total, self.own)


class Bench:
    """One benchmark session: a temporary directory, the nginx of serve.py
    (plain HTTP and TLS), and the built programs of `make bench`."""

    def __init__(self, build=None, lib=None, tls=False, log=None, client=None):
        build = Path(build or ROOT / "build")
        self.lib = str(Path(lib or build / "libstreamshim.so").resolve())
        self.client = str(client or build / "bench" / "bench_client")
        self.empty_so = str((build / "bench" / "empty.so").resolve())
        self.spawn = str(build / "bench" / "spawn")
        self.log = log or (lambda msg: None)
        self._tmp = tempfile.TemporaryDirectory(prefix="ss-bench.")
        self.tmp = Path(self._tmp.name)
        started = serve.start(self.tmp / "srv", tls=tls)
        self.proc, self.port = started[0], started[1]
        self.tls_port = started[2] if tls else None
        self.base = "http://127.0.0.1:%d" % self.port
        self.tls_base = "https://127.0.0.1:%d" % self.tls_port if tls else None
        self.www = self.tmp / "srv" / "www"
        self.chunked, port = serve.start_chunked()
        self.chunked_base = "http://127.0.0.1:%d" % port
        self._cache = {}
        self._lock = threading.Lock()
        self._seq = 0

    def close(self):
        self.chunked.shutdown()
        self.chunked.server_close()
        self.proc.terminate()
        self.proc.wait()
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- files and environments -------------------------------------------

    def body_file(self, name, text):
        """A request body in the session's directory; returns its path."""
        p = self.tmp / "bodies" / name
        p.parent.mkdir(exist_ok=True)
        if not p.exists():
            p.write_text(text)
        return str(p)

    def env(self, extra=None, preload=None):
        """A clean environment: a fresh HOME (no configuration, no learned
        cache from the machine), STREAMSHIM_* only as given."""
        home = self.tmp / "home"
        (home / ".config").mkdir(parents=True, exist_ok=True)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "STREAMSHIM_CONFIG": "",
               "XDG_CONFIG_HOME": str(home / ".config")}
        env.update(extra or {})
        if preload:
            env["LD_PRELOAD"] = preload
        return env

    def expand(self, args):
        return [a.replace("{base}", self.base).replace("{tls}", self.tls_base or "")
                .replace("{chunked}", self.chunked_base) for a in args]

    def _once(self, key, fn):
        """fn() once per key, whichever thread asks first; the others wait
        for its result."""
        with self._lock:
            slot = self._cache.get(key)
            if slot is None:
                slot = self._cache[key] = {"done": threading.Event()}
                mine = True
            else:
                mine = False
        if mine:
            try:
                slot["value"] = fn()
            except BaseException as e:
                slot["error"] = e
                raise
            finally:
                slot["done"].set()
        slot["done"].wait()
        if "error" in slot:
            raise slot["error"]
        return slot["value"]

    def _out(self, label):
        with self._lock:
            self._seq += 1
            return str(self.tmp / ("cg.%d.%s" % (self._seq, label)))

    # -- instruction counts ------------------------------------------------

    def client_run(self, args, env, preload, n1, n2):
        """One callgrind run of bench_client -n n2 -m n1 ARGS, dumping its
        profile at each bench_mark (--dump-before): returns (instructions
        of transfers n1+1 .. n2, that part's profile, bytes the run wrote
        to STREAMSHIM_CAPTURE). Start-up, the first n1 transfers (caches
        warming) and exit are in the other parts. Without the library the
        STREAMSHIM_* variables change nothing, so the plain runs are
        shared by the cases that differ only in them."""
        env_key = tuple(sorted((env or {}).items())) if preload else ()
        key = ("client", tuple(args), env_key, preload, n1, n2)

        def run():
            out = self._out("client")
            files = (env or {}).get("STREAMSHIM_CAPTURE")
            if files and os.path.exists(files):
                os.unlink(files)
            # -c C: C more transfers after the second mark, so that as
            # many start as end between the marks (bench_client.c)
            c = int(args[args.index("-c") + 1]) if "-c" in args else 0
            subprocess.run(["valgrind", "--tool=callgrind", "--dump-before=bench_mark",
                            "--callgrind-out-file=" + out, self.client, "-n", str(n2 + c),
                            "-m", str(n1), "-M", str(n2)] + self.expand(args),
                           env=self.env(env, preload), check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            part = out + ".2"          # .1: start to mark n1; .2: to mark n2
            size = os.path.getsize(files) if files and os.path.exists(files) else 0
            return profile_total(Path(part).read_text()), part, size
        return self._once(key, run)

    def slope(self, args, env, preload, n1, n2):
        return self.client_run(args, env, preload, n1, n2)[0] / (n2 - n1)

    def added(self, args, env=None, n1=100, n2=600):
        """Instructions the shim adds per transfer of bench_client ARGS: a
        Pair of the total slope difference and the shim's own slope."""
        total = self.slope(args, env, self.lib, n1, n2) - self.slope(args, None, None, n1, n2)
        own = self._own(self.client_run(args, env, self.lib, n1, n2)[1])
        return Pair(total, own / (n2 - n1))

    def _own(self, profile):
        return self._once(("own", profile), lambda: profile_own(
            Path(profile).read_text(), re.escape(os.path.basename(self.lib)) + "$",
            re.escape(os.path.basename(self.client)) + "$"))

    def plain_slope(self, args, n1=100, n2=600):
        """libcurl's own instructions per transfer (no library)."""
        return self.slope(args, None, None, n1, n2)

    def stage_slope(self, args, env, pattern, n1=100, n2=600):
        """Self instructions per transfer in the functions of the source
        files matching pattern, with the library."""
        part = self.client_run(args, env, self.lib, n1, n2)[1]
        return profile_files_self(Path(part).read_text(), pattern) / (n2 - n1)

    def written_bytes(self, args, env, n1=100, n2=600):
        """Bytes the run wrote to STREAMSHIM_CAPTURE per transfer."""
        return self.client_run(args, env, self.lib, n1, n2)[2] / n2

    def program_count(self, cmd, preload=None):
        """Instructions of one run of cmd, with preload in LD_PRELOAD."""
        key = ("program", tuple(cmd), preload)
        return self._once(key, lambda: callgrind(cmd, self.env(None, preload),
                                                 self._out("program")))

    # -- wall times and memory ---------------------------------------------

    def side_by_side(self, runs, rounds=5):
        """runs: {label: (cmd, env)}. Runs each once per round, in turn,
        for several rounds; returns {label: the least wall seconds}. Only
        the ratios of one call's figures mean anything."""
        best = {label: float("inf") for label in runs}
        for _ in range(rounds):
            for label, (cmd, env) in runs.items():
                t0 = time.perf_counter()
                subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                best[label] = min(best[label], time.perf_counter() - t0)
        return best

    def client_cmd(self, args, n):
        return [self.client, "-n", str(n)] + self.expand(args)

    def peak_rss_kb(self, args, env, preload, n):
        """bench_client's peak RSS (kB) over n transfers of ARGS."""
        out = subprocess.run(self.client_cmd(args, n), env=self.env(env, preload),
                             check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True).stdout
        return int(re.search(r"maxrss_kb=(\d+)", out).group(1))
