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
    /sse/2000/v1/chat/completions   the same with 2,000 chunks

    start_chunked() (a thread of the caller, not nginx) answers any request
    with a chat completion stream sent with Transfer-Encoding: chunked, one
    event per HTTP chunk, so that libcurl hands the program each event in
    its own write callback as it does a live stream (nginx sends a static
    file in large blocks): /chunked/v1/chat/completions 20 events,
    /chunked/2000/v1/chat/completions 2,000.

    start(DIR, tls=True) also listens with TLS (a self-signed certificate
    for 127.0.0.1 made with the openssl CLI) on a second port: the proxy
    comparison's TLS case.
"""
import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

NGINX = "/usr/sbin/nginx"
SIZES = {"1k": 1024, "16k": 16384, "64k": 65536, "1m": 1 << 20, "16m": 16 << 20}
CHUNKS = {"": 20, "2000/": 2000}

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
    # callgrind runs a client some 50 times slower: at 10,000 transfers at
    # once nginx's 60 s defaults would drop connections it waits on
    send_timeout 900s;
    client_header_timeout 900s;
    client_body_timeout 900s;
    types {{ }}
    server {{
        listen 127.0.0.1:{port} backlog=16384;
{tls_listen}        root {d}/www;
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
    return b"".join(chat_events(chunks))


def chat_events(chunks):
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
    out.append(b"data: " + json.dumps(ev).encode() + b"\n\n")
    out.append(b"data: [DONE]\n\n")
    return out


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
    for prefix, n in CHUNKS.items():
        p = www / "sse" / prefix / "v1" / "chat"
        p.mkdir(parents=True, exist_ok=True)
        (p / "completions").write_bytes(chat_sse(n))


def chunked_answer(chunks):
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n")
    body = b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in chat_events(chunks))
    return head + body + b"0\r\n\r\n"


class _Chunked(socketserver.BaseRequestHandler):
    answers = {}

    def handle(self):
        buf = b""
        sock = self.request
        while True:
            while b"\r\n\r\n" not in buf:
                got = sock.recv(65536)
                if not got:
                    return
                buf += got
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            path = lines[0].split()[1].decode()
            fields = dict(l.split(b":", 1) for l in lines[1:] if b":" in l)
            fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
            if fields.get(b"expect", b"").lower() == b"100-continue":
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            need = int(fields.get(b"content-length", b"0"))
            while len(buf) < need:
                got = sock.recv(65536)
                if not got:
                    return
                buf += got
            buf = buf[need:]
            n = 2000 if path.startswith("/chunked/2000/") else 20
            if n not in self.answers:
                self.answers[n] = chunked_answer(n)
            sock.sendall(self.answers[n])


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_chunked():
    """The chunked stream server in a thread; returns (server, port).
    server.shutdown() stops it."""
    srv = _Server(("127.0.0.1", 0), _Chunked)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, srv.server_address[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificate(d):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(d / "key.pem"),
                    "-out", str(d / "cert.pem"), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)


def start(d, tls=False):
    """Start nginx serving DIR; returns (Popen, port), or with tls=True
    (Popen, port, tls_port)."""
    d = Path(d).resolve()
    d.mkdir(parents=True, exist_ok=True)
    write_tree(d)
    port = free_port()
    tls_port = free_port() if tls else None
    tls_listen = ""
    if tls:
        make_certificate(d)
        tls_listen = ("        listen 127.0.0.1:%d ssl backlog=16384;\n"
                      "        ssl_certificate %s/cert.pem;\n"
                      "        ssl_certificate_key %s/key.pem;\n" % (tls_port, d, d))
    user = "user root;\n" if os.geteuid() == 0 else ""
    (d / "nginx.conf").write_text(CONF.format(user=user, d=d, port=port, tls_listen=tls_listen))
    proc = subprocess.Popen([NGINX, "-p", str(d), "-c", str(d / "nginx.conf"),
                             "-e", str(d / "error.log"), "-g", "daemon off;"],
                            stdin=subprocess.DEVNULL, start_new_session=True)
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return (proc, port, tls_port) if tls else (proc, port)
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
