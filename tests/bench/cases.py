"""The benchmark's cases, the figures of the performance issue (14), each:
what it measures, how, its target and the function that measures it on a
harness.Bench. `quick` cases are instruction counts only (deterministic:
make bench-quick, CI, the baseline); the others need wall time, memory or
mitmproxy (make bench).

A case's function returns its figure, or (figure, detail) with a short
text shown beside it, or (figure, detail, limit) when the limit depends on
another figure of the run (capture: twice the pass-through's cost). An
instruction figure is a harness.Pair: the total (the figure, judged
against the target) and the shim's own count (deterministic: what
bench-quick compares with the baseline).
"""
import re
import subprocess
from dataclasses import dataclass
from typing import Callable, Optional

import mitm
import serve

CT = ["-H", "Content-Type: application/json"]
AUTH = ["-H", "Authorization: Bearer sk-bench-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"]
SMALL = '{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}],"stream":true}'


def prompt_body(size):
    """A chat request of exactly size bytes: the prompt first, as the SDKs
    write it, then model and stream, so a scan must cross the prompt."""
    head, tail = '{"messages":[{"role":"user","content":"', '"}],"model":"gpt-4o","stream":true}'
    words = "The shim reads \\\"every\\\" byte of a prompt\\n once. "
    fill = size - len(head) - len(tail)
    text = (words * (fill // len(words) + 1))[:fill]
    while text.endswith("\\"):          # never cut an escape in half
        text = text[:-1] + "."
    return head + text + tail


def post(bench, body=SMALL, name="small.json"):
    return CT + ["-d", bench.body_file(name, body)]


@dataclass
class Case:
    name: str
    what: str
    how: str
    target: str                  # the target, as text
    limit: Optional[float]       # None: reported, no target
    unit: str
    quick: bool
    fn: Callable
    higher: bool = False         # True: the figure must reach the limit
    slack: float = 0.0           # absolute slack of the baseline check

    def met(self, value, limit=None):
        limit = self.limit if limit is None else limit
        if limit is None or value is None:
            return None
        return value >= limit if self.higher else value <= limit


CASES = []


# The baseline check's absolute slack for per-transfer counts: the shim
# drives an easy transfer with its own multi loop, and how many rounds that
# loop takes before the answer is there varies with the machine's load (a
# few dozen instructions each), even in the shim's own count.
TRANSFER_SLACK = 150


def case(name, what, how, target, limit, unit, quick=True, **kw):
    if unit == "instr/transfer":
        kw.setdefault("slack", TRANSFER_SLACK)

    def wrap(fn):
        CASES.append(Case(name, what, how, target, limit, unit, quick, fn, **kw))
        return fn
    return wrap


SSE = "{base}/sse/v1/chat/completions"
N = (30, 180)                    # the transfers of a slope, for the small cases
CHUNKED = "{chunked}/chunked/v1/chat/completions"
CHUNKED_2000 = "{chunked}/chunked/2000/v1/chat/completions"


def json_url(size):
    return "{base}/json/%s/v1/chat/completions" % size


DESTREAM = {"STREAMSHIM_MODELS": "gpt-4o"}

# -- pass-through --------------------------------------------------------

PASS_HOW = ("callgrind slope, 30 vs 180 keep-alive transfers, with minus without the "
            "library: POST of a small chat request with \"stream\": true (model not "
            "configured) answered by a 20-chunk stream")


def _pass(mode, auth):
    def fn(b):
        env = {"STREAMSHIM_MODE": mode} if mode != "auto" else None
        return b.added(post(b) + (AUTH if auth else []) + [SSE], env, *N)
    return fn


for _mode, _limit in (("auto", 1500), ("force", 1500), ("off", 500)):
    for _auth in (False, True):
        case("pass_%s%s" % (_mode, "_auth" if _auth else ""),
             "pass-through, %s mode%s" % (_mode, ", Authorization: Bearer" if _auth else ""),
             PASS_HOW + ("; STREAMSHIM_MODE=%s" % _mode if _mode != "auto" else ""),
             "<= %d instructions per transfer" % _limit, _limit, "instr/transfer")(
                 _pass(_mode, _auth))


@case("get_auto", "GET of a non-LLM URL, auto mode",
      "callgrind slope, 30 vs 180 keep-alive GETs of /get/100k (100,000 bytes)",
      "<= 1500 instructions per transfer", 1500, "instr/transfer")
def get_auto(b):
    return b.added(["{base}/get/100k"], None, *N)


@case("libcurl_post", "libcurl's own cost of the small POST (no library), for scale",
      "callgrind slope, 30 vs 180 transfers, without the library", "reported", None,
      "instr/transfer")
def libcurl_post(b):
    return b.plain_slope(post(b) + [SSE], *N)


# -- request bodies, native streams --------------------------------------

@case("body_per_byte", "request-body inspection per body byte, auto mode",
      "callgrind slope (4 vs 16 transfers) of 1 KiB and 100 KiB prompts (prompt first, then "
      "model, \"stream\": true last), the difference divided by the 99 KiB between them",
      "<= 1 instruction per body byte", 1.0, "instr/byte", slack=0.05)
def body_per_byte(b):
    small = b.added(post(b, prompt_body(1024), "p1k.json") + [SSE], None, 4, 16)
    big = b.added(post(b, prompt_body(102400), "p100k.json") + [SSE], None, 4, 16)
    return (big - small) / (102400 - 1024), "100 KiB prompt: +%.0f per transfer" % big.total


@case("stream_per_chunk", "a native stream watched in auto mode, per chunk",
      "callgrind slope (4 vs 16 transfers) of a 20-event and a 2,000-event stream sent with "
      "Transfer-Encoding: chunked, one event per HTTP chunk (one write callback each), "
      "the difference divided by 1,980 chunks",
      "<= 30 instructions per chunk", 30, "instr/chunk", slack=2)
def stream_per_chunk(b):
    few = b.added(post(b) + [CHUNKED], None, 4, 16)
    many = b.added(post(b) + [CHUNKED_2000], None, 4, 16)
    libcurl = (b.plain_slope(post(b) + [CHUNKED_2000], 4, 16) -
               b.plain_slope(post(b) + [CHUNKED], 4, 16)) / 1980
    return (many - few) / 1980, "libcurl's own: %.0f per chunk" % libcurl


# -- replay ---------------------------------------------------------------

REPLAY_HOW = ("STREAMSHIM_MODELS=gpt-4o, the program POSTs \"stream\": true, the server "
              "answers one chat completion JSON, the shim replays it as SSE")


@case("replay_1k", "replay of a 1 KiB answer (header rewriting included)",
      REPLAY_HOW + "; callgrind slope, 10 vs 60 transfers",
      "<= 40,000 instructions per transfer (about 10 us)", 40000, "instr/transfer")
def replay_1k(b):
    return b.added(post(b) + [json_url("1k")], DESTREAM, 10, 60)


@case("replay_per_byte", "replay per content byte",
      REPLAY_HOW + "; callgrind slope per transfer of 1 KiB and 16 KiB answers, the "
      "difference divided by the content bytes between them",
      "<= 50 instructions per content byte", 50, "instr/byte", slack=1)
def replay_per_byte(b):
    small = b.added(post(b) + [json_url("1k")], DESTREAM, 10, 60)
    big = b.added(post(b) + [json_url("16k")], DESTREAM, 2, 8)
    return (big - small) / (serve.SIZES["16k"] - serve.SIZES["1k"])


@case("replay_per_byte_1m", "replay per content byte, 1 MiB answer",
      REPLAY_HOW + "; callgrind slope per transfer of 1 KiB and 1 MiB answers (1 vs 3 "
      "transfers of 1 MiB), per content byte between them",
      "<= 50 instructions per content byte", 50, "instr/byte", quick=False)
def replay_per_byte_1m(b):
    small = b.added(post(b) + [json_url("1k")], DESTREAM, 10, 60)
    big = b.added(post(b) + [json_url("1m")], DESTREAM, 1, 3)
    return (big - small) / (serve.SIZES["1m"] - serve.SIZES["1k"])


# -- start-up --------------------------------------------------------------

@case("bintrue_instr", "/bin/true with the library preloaded, against an empty .so",
      "callgrind of one /bin/true: (with the library - without) / (with "
      "tests/bench/empty.c's .so - without)",
      "<= 2x an empty preloaded library", 2.0, "ratio", slack=0.05)
def bintrue_instr(b):
    plain = b.program_count(["/bin/true"])
    empty = b.program_count(["/bin/true"], b.empty_so)
    lib = b.program_count(["/bin/true"], b.lib)
    return ((lib - plain) / (empty - plain),
            "+%d instructions (empty .so: +%d)" % (lib - plain, empty - plain))


# -- capture ---------------------------------------------------------------

CAPTURE_FILES = r"hooks/(pure/)?capture[^/]*\.c$"


@case("capture_on", "capture on (STREAMSHIM_CAPTURE), the small POST of pass_auto",
      "callgrind slope, 10 vs 60 transfers; the limit is twice pass_auto plus one "
      "instruction per byte of record written",
      "<= 2x pass-through + bytes written", None, "instr/transfer")
def capture_on(b):
    env = {"STREAMSHIM_CAPTURE": str(b.tmp / "capture.jsonl")}
    args = post(b) + [SSE]
    on = b.added(args, env, 10, 60)
    written = b.written_bytes(args, env, 10, 60)
    limit = 2 * b.added(args, None, *N).total + written
    return on, "%.0f bytes of record per transfer" % written, limit


@case("capture_off", "capture off: instructions in the capture stage",
      "self instructions per transfer of the functions in hooks/capture*.c (callgrind "
      "profile of pass_auto), 30 vs 180 transfers",
      "0 added", 0, "instr/transfer", slack=1)
def capture_off(b):
    return b.stage_slope(post(b) + [SSE], None, CAPTURE_FILES, *N)


# -- scaling ---------------------------------------------------------------

SCALE_N = {1: (30, 180), 100: (100, 250), 1000: (1000, 1500), 10000: (10000, 11000)}


def _scale(c):
    """The shim's own count is the figure here: with many transfers at
    once the totals are ruled by how often libcurl's loop happens to run
    (without the library as well: the difference can come out negative),
    while what could grow with the number of handles, the registry and
    its locks, is the shim's own code."""
    def fn(b):
        n1, n2 = SCALE_N[c]
        added = b.added(["-c", str(c)] + post(b) + [SSE], None, n1, n2)
        one = b.added(["-c", "1"] + post(b) + [SSE], None, *SCALE_N[1])
        if c == 1:
            return added.own, "total %.0f" % added.total
        return added.own, "%.2fx the figure at 1; total %.0f" % (
            added.own / one.own, added.total), min(1500, 1.1 * one.own)
    return fn


for _c in SCALE_N:
    case("scale_%d" % _c, "pass_auto on a multi handle, %d concurrent transfers" % _c,
         "the shim's own instructions per transfer (harness.profile_own) between "
         "transfers %d and %d at -c %d (bench_client's multi loop)" % (SCALE_N[_c] + (_c,)),
         "<= 1500; flat: <= 1.1x the figure at 1" if _c > 1 else "<= 1500 instructions",
         1500, "instr/transfer", quick=_c == 1)(_scale(_c))
# Only scale_1 is in bench-quick: with many transfers at once, how many
# finish per curl_multi_perform varies with timing, and so does the
# shim's own count (by some 20% at 100).


# -- wall ratios, memory (make bench only) -------------------------------

def _wall_ratio(b, args, env, n, rounds=5):
    t = b.side_by_side({"plain": (b.client_cmd(args, n), b.env()),
                        "shim": (b.client_cmd(args, n), b.env(env, b.lib))}, rounds)
    return t["shim"] / t["plain"], t


@case("wall_pass_auto", "pass-through wall time, auto mode",
      "2,000 keep-alive transfers of pass_auto's POST, with and without the library, "
      "alternating, 7 rounds, the least of each", "<= 1.02 wall ratio", 1.02, "ratio",
      quick=False)
def wall_pass_auto(b):
    ratio, t = _wall_ratio(b, post(b) + [SSE], None, 2000, 7)
    return ratio, "%.1f vs %.1f us per transfer" % (t["shim"] / 2000 * 1e6,
                                                   t["plain"] / 2000 * 1e6)


@case("wall_bintrue", "/bin/true with the library preloaded, wall",
      "1,000 runs of /bin/true each without LD_PRELOAD, with the empty .so and with the "
      "library, interleaved run by run by tests/bench/spawn.c; the ratio of the median "
      "run times", "<= 1.02 wall ratio", 1.02, "ratio", quick=False)
def wall_bintrue(b):
    out = subprocess.run([b.spawn, "1000", "/bin/true", "", b.empty_so, b.lib], env=b.env(),
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    plain, empty, lib = [int(re.search(r"median_ns=(\d+)", l).group(1))
                         for l in out.splitlines()]
    return lib / plain, "empty .so: %.3f; %.0f us a run without" % (empty / plain, plain / 1e3)


REPLAY_N = {"1k": 2000, "16k": 1000, "1m": 30, "16m": 2}


def _replay_wall(b, size):
    """(added seconds per transfer, MB/s of content) of a de-streamed
    answer of size; measured once per session (replay_us_1k shares 1k's)."""
    def measure():
        args = post(b) + [json_url(size)]
        n = REPLAY_N[size]
        ratio, t = _wall_ratio(b, args, DESTREAM, n, 5)
        added = max(t["shim"] - t["plain"], 1e-9) / n
        return added, serve.SIZES[size] / added / 1e6
    return b._once(("replay_wall", size), measure)


for _size in REPLAY_N:
    def _fn(b, size=_size):
        added, mbs = _replay_wall(b, size)
        return mbs, "+%.1f us per transfer" % (added * 1e6)
    case("replay_mbs_%s" % _size, "replay throughput, %s answer" % _size,
         REPLAY_HOW + "; %d transfers with and without the library, alternating, 5 rounds, "
         "least of each: content bytes / the added wall time" % REPLAY_N[_size],
         ">= 200 MB/s of content" if _size == "16m" else "reported",
         200 if _size == "16m" else None, "MB/s", quick=False, higher=True)(_fn)


@case("replay_us_1k", "added latency of a de-streamed 1 KiB answer",
      REPLAY_HOW + "; 2,000 transfers with and without the library, alternating, 5 "
      "rounds, least of each: the difference per transfer",
      "<= 10 us per transfer", 10, "us", quick=False)
def replay_us_1k(b):
    return _replay_wall(b, "1k")[0] * 1e6


@case("mem_concurrent", "peak RSS of 1,000 concurrent 16 KiB de-streamed answers",
      "bench_client -c 1000 -n 1000 with and without the library (VmHWM); the added RSS "
      "per transfer; the limit is 1.2x the answer's bytes + 16 KiB",
      "<= 1.2x answer bytes + 16 KiB per transfer", None, "KiB/transfer", quick=False)
def mem_concurrent(b):
    args = ["-c", "1000"] + post(b) + [json_url("16k")]
    plain = b.peak_rss_kb(args, None, None, 1000)
    shim = b.peak_rss_kb(args, DESTREAM, b.lib, 1000)
    answer = (b.www / "json" / "16k" / "v1" / "chat" / "completions").stat().st_size
    per = (shim - plain) / 1000
    return per, "%.2fx the answer's %d bytes" % (per * 1024 / answer, answer), \
        (1.2 * answer + 16384) / 1024


@case("mem_growth", "RSS growth over 100,000 sequential de-streamed transfers",
      "bench_client's peak RSS (VmHWM) after 100,000 and after 1,000 de-streamed 1 KiB "
      "answers, with the library, minus the same without",
      "no growth (<= 256 KiB: allocator noise)", 256, "KiB", quick=False)
def mem_growth(b):
    args = post(b) + [json_url("1k")]
    grow = {}
    for label, env, so in (("plain", None, None), ("shim", DESTREAM, b.lib)):
        grow[label] = (b.peak_rss_kb(args, env, so, 100000) -
                       b.peak_rss_kb(args, env, so, 1000))
    return grow["shim"] - grow["plain"], "with the library +%d KiB, without +%d KiB" % (
        grow["shim"], grow["plain"])


# -- against mitmproxy (make bench only) -------------------------------

def _mitm_latency(b, tls):
    base = b.tls_base if tls else b.base
    extra = ["-k"] if tls else []
    with mitm.Proxy(b, base) as proxy:
        direct = extra + post(b) + [json_url("1k").replace("{base}", base)]
        via = extra + post(b) + [proxy.url + "/json/1k/v1/chat/completions"]
        n = 300
        t = b.side_by_side({"plain": (b.client_cmd(direct, n), b.env()),
                            "shim": (b.client_cmd(direct, n), b.env(DESTREAM, b.lib)),
                            "mitm": (b.client_cmd(via, n), b.env())}, 5)
    shim = (t["shim"] - t["plain"]) / n * 1e6
    proxy_us = (t["mitm"] - t["plain"]) / n * 1e6
    return shim / proxy_us, "shim +%.0f us, mitmproxy +%.0f us per request" % (shim, proxy_us)


def _mitm_rps(b, tls):
    base = b.tls_base if tls else b.base
    extra = ["-c", "8"] + (["-k"] if tls else [])
    with mitm.Proxy(b, base) as proxy:
        direct = extra + post(b) + [json_url("1k").replace("{base}", base)]
        via = extra + post(b) + [proxy.url + "/json/1k/v1/chat/completions"]
        t = b.side_by_side({"shim": (b.client_cmd(direct, 4000), b.env(DESTREAM, b.lib)),
                            "mitm": (b.client_cmd(via, 400), b.env())}, 3)
    shim, proxy_rps = 4000 / t["shim"], 400 / t["mitm"]
    return shim / proxy_rps, "shim %.0f req/s, mitmproxy %.0f req/s" % (shim, proxy_rps)


for _tls in (False, True):
    _name = "tls" if _tls else "http"
    case("mitm_latency_%s" % _name,
         "de-streaming's added latency against mitmproxy's, %s" % ("TLS" if _tls else "HTTP"),
         "300 sequential 1 KiB de-streamed requests: direct without the library, direct "
         "with it, and through mitmdump with tests/bench/mitm_destream.py (reverse "
         "proxy%s), alternating, 5 rounds, least of each; (shim - direct) / (mitmproxy - "
         "direct)" % (", TLS on both sides, nginx with TLS" if _tls else ""),
         "<= 1/100 of mitmproxy's", 0.01, "ratio", quick=False)(
             lambda b, t=_tls: _mitm_latency(b, t))
    case("mitm_rps_%s" % _name,
         "requests per second, de-streaming, against mitmproxy, %s" % ("TLS" if _tls else "HTTP"),
         "bench_client -c 8 on 2 cores: 4,000 de-streamed 1 KiB requests direct with the "
         "library, 400 through mitmdump; the ratio of requests per second",
         "reported", None, "ratio", quick=False)(lambda b, t=_tls: _mitm_rps(b, t))


def by_name(name):
    for c in CASES:
        if c.name == name:
            return c
    raise KeyError(name)
