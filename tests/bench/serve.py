#!/usr/bin/python3
"""The benchmark's server: Debian's nginx on 127.0.0.1, answering from
static files so that the server costs the same for every case and never
sits under valgrind. A POST gets the file too (error_page 405 turns it into
a GET of the same URI).

    tests/bench/serve.py DIR        # prints "port N", serves until killed

Paths (every answer 2xx, keep-alive):
    /get/100k                       100,000 bytes, application/octet-stream
    /json/SIZE/v1/chat/completions  a chat completion whose content is SIZE
                                    bytes (1k, 16k, 1m, 16m), application/json
    /sse/v1/chat/completions        a 20-chunk chat completion stream,
                                    text/event-stream
    /sse2000/v1/chat/completions    the same with 2,000 chunks (the slope
                                    between the two is the cost per chunk)
    /json-responses/SIZE/v1/responses, /json-messages/SIZE/v1/messages,
    /json-completions/SIZE/v1/completions
                                    the other encoders' answers (a fixture of
                                    tests/fixtures with its text SIZE bytes)
"""
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

NGINX = "/usr/sbin/nginx"
SIZES = {"1k": 1024, "16k": 16384, "1m": 1 << 20, "16m": 16 << 20}

CONF = """\
{user}worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 16384; }}
worker_rlimit_nofile 40000;
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    client_max_body_size 64m;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    types {{ }}
    server {{
        listen 127.0.0.1:{port} backlog=16384;
        root {d}/www;
        error_page 405 =200 $uri;
        location /get/ {{ default_type application/octet-stream; }}
        location /json/ {{ default_type application/json; }}
        location /sse/ {{ default_type text/event-stream; }}
        location /sse2000/ {{ default_type text/event-stream; }}
        location /json-responses/ {{ default_type application/json; }}
        location /json-messages/ {{ default_type application/json; }}
        location /json-completions/ {{ default_type application/json; }}
    }}
}}
"""


def chat_json(content_len):
    content = ("streamshim " * (content_len // 11 + 1))[:content_len]
    return json.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                             "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": content_len // 4,
                  "total_tokens": 12 + content_len // 4},
        "system_fingerprint": "fp_bench"}).encode()


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def bench_text(n):
    return ("streamshim " * (n // 11 + 1))[:n]


def responses_json(content_len):
    d = json.loads((FIXTURES / "responses" / "text-o1-pro.json").read_text())
    msg = [o for o in d["output"] if o["type"] == "message"][0]
    msg["content"][0]["text"] = bench_text(content_len)
    return json.dumps(d).encode()


def messages_json(content_len):
    d = json.loads((FIXTURES / "messages" / "text-basic.json").read_text())
    d["content"][0]["text"] = bench_text(content_len)
    return json.dumps(d).encode()


def completions_json(content_len):
    d = json.loads((FIXTURES / "completions" / "text-basic.json").read_text())
    d["choices"][0]["text"] = bench_text(content_len)
    return json.dumps(d).encode()


OTHER_ENCODERS = (("json-responses", "v1/responses", responses_json),
                  ("json-messages", "v1/messages", messages_json),
                  ("json-completions", "v1/completions", completions_json))


def chat_sse(chunks):
    out = []
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk",
            "created": 1700000000, "model": "gpt-4o-2024-08-06",
            "system_fingerprint": "fp_bench"}
    for i in range(chunks):
        delta = {"role": "assistant", "content": ""} if i == 0 else {"content": "word%d " % i}
        ev = dict(base, choices=[{"index": 0, "delta": delta, "logprobs": None,
                                  "finish_reason": None}])
        out.append(b"data: " + json.dumps(ev).encode() + b"\n\n")
    ev = dict(base, choices=[{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}])
    out.append(b"data: " + json.dumps(ev).encode() + b"\n\ndata: [DONE]\n\n")
    return b"".join(out)


def write_tree(d):
    www = Path(d) / "www"
    (www / "get").mkdir(parents=True, exist_ok=True)
    (www / "get" / "100k").write_bytes(b"x" * 100000)
    for name, n in SIZES.items():
        p = www / "json" / name / "v1" / "chat"
        p.mkdir(parents=True, exist_ok=True)
        (p / "completions").write_bytes(chat_json(n))
        for top, path, make in OTHER_ENCODERS:
            f = www / top / name / path
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(make(n))
    p = www / "sse" / "v1" / "chat"
    p.mkdir(parents=True, exist_ok=True)
    (p / "completions").write_bytes(chat_sse(20))
    p = www / "sse2000" / "v1" / "chat"
    p.mkdir(parents=True, exist_ok=True)
    (p / "completions").write_bytes(chat_sse(2000))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(d):
    """Start nginx serving DIR; returns (Popen, port)."""
    d = Path(d).resolve()
    d.mkdir(parents=True, exist_ok=True)
    write_tree(d)
    port = free_port()
    user = "user root;\n" if os.geteuid() == 0 else ""
    (d / "nginx.conf").write_text(CONF.format(user=user, d=d, port=port))
    proc = subprocess.Popen([NGINX, "-p", str(d), "-c", str(d / "nginx.conf"),
                             "-e", str(d / "error.log"), "-g", "daemon off;"],
                            stdin=subprocess.DEVNULL, start_new_session=True)
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((d / "error.log").read_text(errors="replace"))
            import time
            time.sleep(0.02)
    raise RuntimeError("nginx did not start")


if __name__ == "__main__":
    proc, port = start(sys.argv[1])
    print("port", port, flush=True)
    signal.signal(signal.SIGTERM, lambda *a: (proc.terminate(), sys.exit(0)))
    try:
        proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
