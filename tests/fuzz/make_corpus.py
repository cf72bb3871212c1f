#!/usr/bin/python3
"""Regenerate the fuzz harnesses' seed corpus: tests/fuzz/corpus/HARNESS/.

The seeds are the project's own material, in each harness's input format
(the option or mode byte its file comment describes, then the bytes):

  fuzz_sse_chat, _completions, _messages, _responses
                     each answer of tests/fixtures/SHAPE/ (pieces of 4 and
                     16 characters; chat and completions also with
                     include_usage)
  fuzz_assemble      the event streams those answers stand for: the
                     de-streaming shim's replay of each (build/
                     libstreamshim.so, force mode, against tests/server.py
                     with X-Test-Fixture), the server's native and DashScope
                     streams; whole, split every 4 bytes, ending at eof
  fuzz_assemble_events  the same Responses and Messages streams as events
                     (even mode), and their answers (odd mode)
  fuzz_body, fuzz_json  the request bodies the tests send (conftest's
                     chat_body, server.py's request_body, with and
                     without stream members), and the answers
  fuzz_redact        capture records (tests/fixtures/capture), header lines,
                     URLs and forms carrying credentials, the bodies
  fuzz_refusal       the refusals tests/server.py sends (400 and 500
                     bodies), and configurations with [refusal] sections
  fuzz_config        the configuration examples of README.md and the tests
  fuzz_dechunk       the answers in chunked transfer coding
  fuzz_trip_chat, _completions  each answer of the shape (up to 4 KiB)
                     and the generators' seeds; inputs the fuzzers found
                     (tests/fuzz/found/HARNESS/, kept as regressions)

Seeds over 16 KiB are left out (4 KiB for fuzz_redact and fuzz_body, 8 KiB
for fuzz_json: they try each input several ways): libFuzzer's inputs stay
small and its runs fast. Run from anywhere: tests/fuzz/make_corpus.py (it needs the
library built, `make`, for the replays; without it those seeds are
skipped with a warning). The corpus is committed; `make fuzz` copies it
into each harness's working corpus before running.
"""

import hashlib
import zlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import server as srv  # noqa: E402  (tests/server.py: the answer builders)

OUT = ROOT / "tests" / "fuzz" / "corpus"
FIX = ROOT / "tests" / "fixtures"
MAX = 16 * 1024
SHAPES = ("chat", "completions", "responses", "messages")
ROUTES = {"chat": "/v1/chat/completions", "completions": "/v1/completions",
          "responses": "/v1/responses", "messages": "/v1/messages"}
CURL = shutil.which("curl") or "curl"


def compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def fixtures(shape):
    """(name, bytes) of each answer fixture of a shape, small ones only."""
    out = []
    for p in sorted((FIX / shape).glob("*.json")):
        b = p.read_bytes()
        if len(b) <= MAX:
            out.append((p.stem, b))
    return out


def request_bodies():
    """The request bodies the tests send, in their shapes and forms."""
    out = []
    for model in ("o3-mini", "gpt-4o", "qwq-plus"):
        msgs = [{"role": "user", "content": "Say hello"}]
        base = {"model": model, "messages": msgs}
        out.append((f"chat-{model}", compact(base)))
        out.append((f"chat-{model}-stream", compact({**base, "stream": True})))
        out.append((f"chat-{model}-usage", compact(
            {**base, "stream": True, "stream_options": {"include_usage": True}})))
        out.append((f"chat-{model}-false", compact({**base, "stream": False})))
        out.append((f"chat-{model}-pretty", json.dumps(
            {"stream": True, **base, "temperature": 0.2}, indent=2).encode()))
    out.append(("chat-tools", compact({
        "model": "o3-mini", "stream": True, "messages": [{"role": "user", "content": "tool_call:2"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}}}}}]})))
    out.append(("chat-unicode", compact({
        "model": "o3-mini", "stream": True, "n": 2,
        "messages": [{"role": "user", "content": "caf\u00e9 \u6f22\u5b57 \U0001F600 \"q\" \\ \t"}]})))
    for shape in SHAPES:
        out.append((f"{shape}-request", srv.request_body(shape, "o3-mini")))
        out.append((f"{shape}-request-stream", srv.request_body(shape, "o3-mini", stream=True)))
    # duplicate and nested stream members, as body surgery must treat them
    out.append(("dup-stream", b'{"model":"o3-mini","stream":true,"x":{"stream":true},"stream":false}'))
    out.append(("stream-first", b'{ "stream" : true , "stream_options" : {"include_usage":true},'
                                b' "model" : "o3-mini" }'))
    return out


class Server:
    def __init__(self, log):
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", str(ROOT / "tests" / "server.py"), "--host", "127.0.0.1",
             "--port", "0", "--log", str(log)], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=str(ROOT), env=env())
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            raise SystemExit(f"tests/server.py did not start: {line!r}")
        self.url = "http://127.0.0.1:%d" % int(line.split()[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def env(**extra):
    e = {k: v for k, v in os.environ.items()
         if k != "LD_PRELOAD" and not k.startswith("STREAMSHIM_") and "proxy" not in k.lower()}
    e.update(NO_PROXY="127.0.0.1", XDG_CONFIG_HOME=str(ROOT / "tests" / "no-user-config"),
             STREAMSHIM_CONFIG="", STREAMSHIM_CACHE="off")
    e.update(extra)
    return e


def post(url, body, headers=(), shim=False):
    cmd = [CURL, "-sS", "-N", url, "-H", "Content-Type: application/json",
           "-H", "x-api-key: test", "-H", "anthropic-version: 2023-06-01",
           "--data-binary", "@-"]
    for h in headers:
        cmd += ["-H", h]
    e = env(LD_PRELOAD=str(ROOT / "build" / "libstreamshim.so"), STREAMSHIM_MODELS="o3-mini",
            STREAMSHIM_MODE="force") if shim else env()
    r = subprocess.run(cmd, env=e, input=body, capture_output=True, timeout=60)
    return r.stdout if r.returncode == 0 else None


def streams():
    """(shape, name, SSE bytes): the replays of the fixtures, and the
    server's own native and DashScope streams."""
    lib = ROOT / "build" / "libstreamshim.so"
    if not lib.is_file():
        print("make_corpus: build/libstreamshim.so missing (`make`): no replayed streams",
              file=sys.stderr)
        return []
    out = []
    tmp = OUT.parent / ".corpus-server.log"
    server = Server(tmp)
    try:
        for shape in SHAPES:
            for name, _ in fixtures(shape):
                body = {"model": "o3-mini", "stream": True}
                if shape in ("chat", "completions"):
                    body["stream_options"] = {"include_usage": True}
                if shape == "chat" or shape == "messages":
                    body["messages"] = [{"role": "user", "content": "judge"}]
                if shape == "messages":
                    body["max_tokens"] = 1024
                if shape == "completions":
                    body["prompt"] = "judge"
                if shape == "responses":
                    body["input"] = "judge"
                s = post(server.url + ROUTES[shape], compact(body),
                         [f"X-Test-Fixture: {name}"], shim=True)
                if s and not s.lstrip().startswith(b"{") and len(s) <= MAX:
                    out.append((shape, name, s))
        for model, usage in (("gpt-4o", False), ("gpt-4o", True), ("qwq-plus", True)):
            body = {"model": model, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
            if usage:
                body["stream_options"] = {"include_usage": True}
            s = post(server.url + ROUTES["chat"], compact(body))
            if s:
                out.append(("chat", f"native-{model}{'-usage' if usage else ''}", s))
    finally:
        server.stop()
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".sent").unlink(missing_ok=True)
    return out


def as_events(sse):
    """fuzz_assemble_events' even mode: "name\\ndata\\n\\n" per event."""
    parts = []
    for block in sse.split(b"\n\n"):
        name, data = b"", []
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip()
            elif line.startswith(b"data:"):
                data.append(line[5:].lstrip(b" "))
        if name or data:
            parts.append(name + b"\n" + b"\n".join(data))
    return b"\n\n".join(parts)


def chunked(b, size):
    out = b"".join(b"%x\r\n" % len(b[i:i + size]) + b[i:i + size] + b"\r\n"
                   for i in range(0, len(b), size))
    return out + b"0\r\n\r\n"


def configs():
    """Configuration files: README.md's examples and the tests' own."""
    out = []
    readme = (ROOT / "README.md").read_text()
    block = []
    for line in readme.splitlines() + [""]:
        if line.startswith("    ") or (block and not line.strip()):
            block.append(line[4:])
            continue
        text = "\n".join(block).strip("\n")
        block = []
        if re.search(r"^\s*[a-z_]+\s*=", text, re.M) and "$" not in text and "curl" not in text:
            out.append(text + "\n")
    out += [
        "mode = force\nmodels = o3-mini*, o1*\nstream_only = qwq*\npace = 20\nchunk = 64\n",
        "mode = sometimes\nchunk = 0\n# fine\ncolour = blue\nno equals sign\n"
        "[refusal \"r\"]\nstatus = 99\nlog = warn:/no/such/dir/x.log\n",
        "[refusal \"relay\"]  # note\nstatus = 500\nfield error.code = unsupported_value\n"
        "message = *stream*\ndirection = stream-only\n",
        "cache = off\ncache_ttl = 3600\nmax_answer = 1048576\ncapture = /tmp/cap.jsonl\n"
        "capture_redact_headers = +X-Secret, -Cookie\ncapture_max_body = 1000\n",
    ]
    seen, uniq = set(), []
    for c in out:
        if c not in seen:
            seen.add(c)
            uniq.append(c.encode())
    return uniq


# the harnesses that try each input many ways stay fast with small seeds
SMALL = {"fuzz_redact": 4096, "fuzz_body": 4096, "fuzz_json": 8192}


def write(harness, name, data):
    if len(data) > SMALL.get(harness, MAX):
        return
    d = OUT / harness
    d.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80]
    (d / f"{safe}-{hashlib.sha1(data).hexdigest()[:8]}").write_bytes(data)


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    bodies = request_bodies()
    answers = {shape: fixtures(shape) for shape in SHAPES}
    for shape, opts in (("chat", (0x03, 0x8f)), ("completions", (0x03, 0x8f)),
                        ("messages", (0x03, 0x0f)), ("responses", (0x03, 0x0f))):
        for name, b in answers[shape]:
            for o in opts:
                write(f"fuzz_sse_{shape}", f"{name}-{o:02x}", bytes([o]) + b)
    # the round trips (fuzz_trip_*): each answer of up to 4 KiB (pieces of
    # 4 and 16 characters, the second with include_usage), and their
    # generators (0x80) fed a few byte patterns; plus inputs they found
    for shape in ("chat", "completions"):
        for name, b in answers[shape]:
            if len(b) <= 4096:
                for o in (0x03, 0x3f):
                    write(f"fuzz_trip_{shape}", f"{name}-{o:02x}", bytes([o]) + b)
        for o in (0x80, 0x93, 0xa0, 0xf5):
            write(f"fuzz_trip_{shape}", f"synth-{o:02x}", bytes([o]) + bytes(range(1, 200)))
            write(f"fuzz_trip_{shape}", f"synth-{o:02x}-ff",
                  bytes([o]) + bytes(range(255, 55, -1)))
    for p in sorted((ROOT / "tests" / "fuzz" / "found").glob("fuzz_*/*")):
        write(p.parent.name, f"found-{p.name}", p.read_bytes())
    for o in (0x40, 0x60, 0xd3):  # the synthesising generators
        write("fuzz_sse_chat", f"synth-{o:02x}", bytes([o]) + bytes(range(1, 64)))
        write("fuzz_sse_completions", f"synth-{o:02x}", bytes([o]) + bytes(range(1, 64)))
    for shape, name, s in streams():
        # whole and split every 4 bytes; every third also ending at eof
        # halfway (a stream cut short)
        write("fuzz_assemble", f"{shape}-{name}", b"\x03" + s)
        if zlib.crc32(name.encode()) % 3 == 0:
            write("fuzz_assemble", f"{shape}-{name}-cut", b"\x4f" + s[: len(s) // 2])
        if shape in ("responses", "messages"):
            write("fuzz_assemble_events", f"{shape}-{name}", b"\x00" + as_events(s))
    for shape in ("responses", "messages"):
        for name, b in answers[shape]:
            write("fuzz_assemble_events", f"{shape}-{name}-answer", b"\x05" + b)
    for name, b in bodies:
        write("fuzz_body", name, b)
        write("fuzz_json", name, b)
        write("fuzz_redact", name, b)
    for shape in SHAPES:
        for name, b in answers[shape][:12]:
            write("fuzz_json", f"{shape}-{name}", b)
            write("fuzz_redact", f"{shape}-{name}", b)
            write("fuzz_dechunk", f"{shape}-{name}", b"\x05" + chunked(b, 100))
    for p in sorted((FIX / "capture").glob("*.jsonl")):
        b = p.read_bytes()
        if len(b) <= MAX:
            write("fuzz_redact", f"capture-{p.stem}", b)
            for i, line in enumerate(b.splitlines()[:4]):
                write("fuzz_redact", f"capture-{p.stem}-{i}", line)
    for name, b in (("auth", b"Authorization: Bearer sk-abc123SECRET"),
                    ("api-key", b"api-key: 0123456789abcdef"),
                    ("cookie", b"Cookie: session=s3cr3t; theme=dark"),
                    ("url", b"https://user:pass@example.com/v1/chat?api-key=SECRET&x=1"),
                    ("azure", b"https://r.openai.azure.com/openai/deployments/o3-mini/"
                              b"chat/completions?api-version=2024-12-01-preview&key=K"),
                    ("form", b"grant_type=password&username=u&password=SECRET&client_secret=S")):
        write("fuzz_redact", name, b)
    for name, refusal in srv.REFUSALS.items():
        status, body = refusal[0], refusal[1]
        write("fuzz_refusal", f"{name}", bytes([1, status - 400]) + body
              if 400 <= status < 440 else bytes([status >> 8 & 0xfe, status & 0xff]) + body)
    write("fuzz_refusal", "stream-only", bytes([1, 0]) + srv.stream_only_refusal(
        ident="chatcmpl-0123456789abcdef0123456789abcdef",
        request_id="01234567-89ab-cdef-0123-456789abcdef"))
    write("fuzz_refusal", "azure-401", bytes([0, 0]) + srv.AZURE_401_BODY)
    for i, c in enumerate(configs()):
        write("fuzz_config", f"config-{i}", c)
        if b"[refusal" in c:
            write("fuzz_refusal", f"config-{i}", b"C" + c)
    write("fuzz_dechunk", "empty-last", b"\x00" + b"0\r\n\r\n")
    write("fuzz_dechunk", "extensions-trailer", b"\x02" + b"4;x=y\r\nabcd\r\n0\r\nT: v\r\n\r\n")
    for d in sorted(OUT.iterdir()):
        print(f"{d.name:24} {len(list(d.iterdir())):4} seeds")


if __name__ == "__main__":
    main()
