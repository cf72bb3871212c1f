"""The real curl CLI under the shim over TLS, HTTP/1.1 and HTTP/2: nginx
(tests/nginx.py) terminates TLS with a certificate made at test time and
proxies to the o3-mini-like server. The shim works above TLS, so the answer
it replays is the decrypted one, and over HTTP/2 the headers it rewrites are
the lower-case ones curl shows for h2."""

import json
import re

import pytest

from conftest import CURL, chat_body, plain_env, run, shim_env
from nginx import tls_server  # noqa: F401 - the session fixture
from shimtest import drop_stream_members
from sse import check_chat_stream

pytestmark = pytest.mark.needs_lib

PATH = "/v1/chat/completions"
AZURE_PATH = "/openai/deployments/o3-mini/chat/completions?api-version=2024-12-01-preview"
AZURE_KEY = "api-key: sk-azure-SECRET-1234"


def tls_curl(tls, url, body, *extra, env=None, headers=(), timeout=30):
    """curl posting body from stdin to url through nginx, trusting only the
    test certificate."""
    cmd = [CURL, "-sS", "-N", "--cacert", str(tls.cacert), url,
           "-H", "Content-Type: application/json", "--data-binary", "@-", *extra]
    for h in headers:
        cmd += ["-H", h]
    return run(cmd, env=env, input=body, timeout=timeout)


def tls_plain_answer(tls, url, body, headers=()):
    """The non-streamed answer to body (stream members removed), fetched
    through nginx without the shim."""
    stripped = json.dumps(drop_stream_members(body)).encode()
    r = tls_curl(tls, url, stripped, "--http1.1", env=plain_env(), headers=headers)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def split_head(out):
    """(status line, {lower-case name: value}, raw header lines, body) of
    `curl -i` output with one header block."""
    head, sep, body = out.partition(b"\r\n\r\n")
    assert sep, f"no header block in {out[:200]!r}"
    lines = head.decode("latin-1").split("\r\n")
    names = {}
    for line in lines[1:]:
        n, _, v = line.partition(":")
        names[n.strip().lower()] = v.strip()
    return lines[0], names, lines[1:], body


def test_nginx_serves_tls_and_h2(tls_server, server):
    """The proxy itself: certificate verified, h2 negotiated, body and
    headers reach the upstream."""
    server.clear()
    r = run([CURL, "-sS", "--http2", "--cacert", str(tls_server.cacert),
             "-o", "/dev/null", "-w", "%{http_version} %{response_code} %{ssl_verify_result}",
             "-H", "X-Probe: 1", "-d", "ping", tls_server.url + "/echo"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"2 200 0"
    sent = server.requests()
    assert len(sent) == 1 and sent[0]["body"] == b"ping" and sent[0].header("X-Probe") == "1"
    assert sent[0]["http_version"] == "HTTP/1.1"
    # localhost is in the certificate too
    r = run([CURL, "-sS", "--cacert", str(tls_server.cacert), "--resolve",
             f"localhost:{tls_server.port}:127.0.0.1",
             f"https://localhost:{tls_server.port}/healthz"])
    assert r.returncode == 0 and r.stdout.strip() == b"ok", r.stderr


# --- (a) HTTP/1.1 over TLS ---------------------------------------------------

@pytest.mark.parametrize("style", ["openai", "azure"])
def test_https_http11_destreams(tls_server, server, style):
    url = tls_server.url + (PATH if style == "openai" else AZURE_PATH)
    body = chat_body("o3-mini" if style == "openai" else "whatever", "Over TLS, please")
    hdrs = [AZURE_KEY] if style == "azure" else ["Authorization: Bearer sk-SECRET"]
    # without the shim the deployment refuses, through the proxy as well
    r = tls_curl(tls_server, url, body, "--http1.1", headers=hdrs)
    assert json.loads(r.stdout)["error"]["code"] == "unsupported_value"
    server.clear()
    r = tls_curl(tls_server, url, body, "--http1.1", headers=hdrs,
                 env=shim_env(models="o3-mini"))
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    sent = server.requests()
    assert len(sent) == 1
    assert b'"stream"' not in sent[0]["body"]
    assert sent[0].json() == drop_stream_members(body)
    assert sent[0].header("Content-Length") == str(len(sent[0]["body"]))
    answer = tls_plain_answer(tls_server, url, body, hdrs)
    check_chat_stream(r.stdout, answer, expect_usage=False)


# --- (b) HTTP/2 ----------------------------------------------------------------

def test_https_http2_destreams(tls_server, server):
    url = tls_server.url + PATH
    body = chat_body("o3-mini", "Over h2", stream_options={"include_usage": True})
    server.clear()
    r = tls_curl(tls_server, url, body, "--http2", "-i", env=shim_env(models="o3-mini"))
    assert r.returncode == 0, r.stderr
    sent = server.requests()
    assert len(sent) == 1 and b'"stream' not in sent[0]["body"]
    assert sent[0].json() == drop_stream_members(body)
    status, names, raw, stream = split_head(r.stdout)
    assert status.rstrip() == "HTTP/2 200"
    assert "content-type: text/event-stream; charset=utf-8" in raw
    assert "content-length" not in names and "content-encoding" not in names
    assert "x-request-id" in names
    check_chat_stream(stream, tls_plain_answer(tls_server, url, body), expect_usage=True)


def test_https_http2_gzip_answer(tls_server, server):
    """--compressed: the server gzips the JSON, nginx passes it, curl decodes."""
    url = tls_server.url + PATH
    body = chat_body("o3-mini", "long:5000")
    server.clear()
    r = tls_curl(tls_server, url, body, "--http2", "--compressed",
                 env=shim_env(models="o3-mini"))
    assert r.returncode == 0, r.stderr
    assert "gzip" in server.requests()[0].header("Accept-Encoding", "")
    check_chat_stream(r.stdout, tls_plain_answer(tls_server, url, body))


# --- (c) several streams on one HTTP/2 connection ----------------------------

# (name, model, stream, extra request headers)
PARALLEL = [
    ("d1", "o3-mini", True, ["X-Test-Delay: 0.3"]),        # de-streamed, answers late
    ("p1", "gpt-4o", False, []),                            # pass-through JSON
    ("n1", "gpt-4o", True, ["X-Test-Event-Delay: 0.02"]),   # native stream, spread out
    ("d2", "o3-mini", True, ["X-Test-Chunked: 1"]),         # de-streamed, chunked JSON
    ("d3", "o3-mini", True, []),                            # de-streamed, at once
]


def parallel_cmd(tls, tmp_path, immediate):
    url = tls.url + PATH
    cmd = [CURL, "-s", "-v", "--parallel"] + (["--parallel-immediate"] if immediate else [])
    bodies = {}
    for i, (name, model, stream, hdrs) in enumerate(PARALLEL):
        body = chat_body(model, f"parallel {name}", stream=stream)
        bodies[name] = body
        (tmp_path / f"{name}.json").write_bytes(body)
        if i:
            cmd.append("--next")
        cmd += [url, "-sS", "--http2", "--cacert", str(tls.cacert),
                "-H", "Content-Type: application/json", "-d", f"@{tmp_path / name}.json",
                "-o", str(tmp_path / f"{name}.out")]
        for h in hdrs:
            cmd += ["-H", h]
    return cmd, bodies


def check_parallel_outputs(tls, server, tmp_path, bodies):
    url = tls.url + PATH
    sent = {json.loads(r["body"])["messages"][0]["content"].split()[-1]: r
            for r in server.requests()}
    assert sorted(sent) == sorted(bodies)
    for name, model, stream, _ in PARALLEL:
        out = (tmp_path / f"{name}.out").read_bytes()
        body = bodies[name]
        answer = tls_plain_answer(tls, url, body)
        if model == "o3-mini":
            assert b'"stream"' not in sent[name]["body"], name
            assert sent[name].json() == drop_stream_members(body)
            check_chat_stream(out, answer, expect_usage=False)
        else:
            assert sent[name]["body"] == body, name
            if stream:
                check_chat_stream(out, answer, expect_usage=False)
            else:
                assert json.loads(out) == answer, name
                assert out.startswith(b"{\n  \"id\"")  # the server's own pretty form


def test_http2_multiplexed_mixed_streams(tls_server, server, tmp_path):
    """Five transfers on one h2 connection (curl --parallel waits for the
    first connection's ALPN and multiplexes the rest onto it)."""
    cmd, bodies = parallel_cmd(tls_server, tmp_path, immediate=False)
    server.clear()
    r = run(cmd, env=shim_env(models="o3-mini"), timeout=30)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, err
    assert err.count("Multiplexed connection found") == len(PARALLEL) - 1, err
    assert err.count("Re-using existing connection #0") == len(PARALLEL) - 1, err
    assert err.count("* Connected to ") == 1, err
    assert sorted(re.findall(r"Using Stream ID: (\d+)", err), key=int) == \
        [str(2 * i + 1) for i in range(len(PARALLEL))]
    check_parallel_outputs(tls_server, server, tmp_path, bodies)


def test_http2_parallel_immediate(tls_server, server, tmp_path):
    """--parallel-immediate: curl does not wait for multiplexing and opens a
    connection per transfer (curl 7.88: "Server doesn't support multiplex
    (yet)"), so this is the concurrent-connections case; the outputs must be
    the same."""
    cmd, bodies = parallel_cmd(tls_server, tmp_path, immediate=True)
    server.clear()
    r = run(cmd, env=shim_env(models="o3-mini"), timeout=30)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    check_parallel_outputs(tls_server, server, tmp_path, bodies)


# --- (d) pass-through over TLS is byte-identical -------------------------------

def strip_volatile(out):
    return b"\n".join(l for l in out.split(b"\n")
                      if not l.lower().startswith((b"date:", b"x-request-id:")))


@pytest.mark.parametrize("proto", ["--http1.1", "--http2"])
@pytest.mark.parametrize("case", ["other-model-stream", "other-model-json", "not-streaming"])
def test_tls_pass_through_is_byte_identical(tls_server, server, proto, case):
    body = {"other-model-stream": chat_body("gpt-4o", stream_options={"include_usage": True}),
            "other-model-json": chat_body("gpt-4o", stream=False),
            "not-streaming": chat_body("o3-mini", stream=False)}[case]
    url = tls_server.url + PATH
    server.clear()
    a = tls_curl(tls_server, url, body, proto, "-i", env=plain_env())
    b = tls_curl(tls_server, url, body, proto, "-i", env=shim_env(models="o3-mini*"))
    sent = server.requests()
    assert len(sent) == 2 and sent[0]["body"] == sent[1]["body"] == body
    assert a.returncode == b.returncode == 0, (a.stderr, b.stderr)
    assert strip_volatile(a.stdout) == strip_volatile(b.stdout)
    assert a.stderr == b.stderr == b""
    if case == "other-model-stream":
        assert b"text/event-stream" in a.stdout and b"data: [DONE]" in a.stdout


def test_dns_over_https_handles_are_left_alone(server, tls_server, tmp_path):
    """libcurl resolves through its own internal handles (DoH, HTTPS only):
    they POST with POSTFIELDS through the same exported functions, and the
    shim must leave them alone while the program's transfer is de-streamed."""
    body = chat_body("o3-mini")
    log = tmp_path / "log"
    url = f"http://llm.invalid:{server.port}/v1/chat/completions"
    server.clear()
    r = run([CURL, "-sS", "-N", "--doh-url", tls_server.url + "/dns-query",
             "--cacert", str(tls_server.cacert), url,
             "-H", "Content-Type: application/json", "--data-binary", "@-"],
            env=shim_env(models="o3-mini", log=f"info:{log}"), input=body)
    assert r.returncode == 0, r.stderr
    sent = server.requests()
    check_chat_stream(r.stdout, tls_plain_answer(tls_server, tls_server.url + "/v1/chat/completions", body))
    assert [q["path"] for q in sent].count("/dns-query") >= 1
    chat = [q for q in sent if q["path"] == "/v1/chat/completions"]
    assert [q.json() for q in chat] == [drop_stream_members(body)]
    assert log.read_text().count("de-streaming") == 1
