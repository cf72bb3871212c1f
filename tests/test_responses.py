"""Header blocks before the final answer (redirects, auth challenges, a
proxy's CONNECT answer) go out unchanged; only the final block is judged."""

import json

import pytest

from conftest import CURL, chat_body, plain_env, run, shim_env
from shimtest import curl, drop_stream_members, plain_answer
from sse import check_chat_stream

pytestmark = pytest.mark.needs_lib


def blocks(out):
    """Split curl -i output into header blocks and the body after them."""
    parts = []
    while out.startswith(b"HTTP/"):
        head, _, out = out.partition(b"\r\n\r\n")
        parts.append(head.decode())
    return parts, out


def test_redirect_then_replay(server):
    body = chat_body("o3-mini")
    url = server.url + "/redirect/v1/chat/completions"
    server.clear()
    r = curl(url, body, "-i", "-L", env=shim_env(models="o3-mini"))
    assert r.returncode == 0, r.stderr
    heads, stream = blocks(r.stdout)
    assert heads[0].startswith("HTTP/1.1 307") and "Content-Length: 9" in heads[0]
    assert heads[1].startswith("HTTP/1.1 200")
    assert "Content-Type: text/event-stream; charset=utf-8" in heads[1]
    # both requests went out without stream (307 keeps the method and body)
    assert [q.json() for q in server.requests()] == [drop_stream_members(body)] * 2
    check_chat_stream(stream, plain_answer(server.openai_url(), body))


def test_auth_challenge_then_replay(server):
    body = chat_body("o3-mini")
    r = curl(server.openai_url(), body, "-i", "--anyauth", "-u", "me:secret",
             env=shim_env(models="o3-mini"), headers=["X-Test-Auth: me:secret"])
    assert r.returncode == 0, r.stderr
    heads, stream = blocks(r.stdout)
    assert heads[0].startswith("HTTP/1.1 401") and "WWW-Authenticate" in heads[0]
    assert "Content-Type: text/event-stream" in heads[-1]
    check_chat_stream(stream, plain_answer(server.openai_url(), body))


def test_mime_post_passes_through(server, tmp_path):
    f = tmp_path / "b.json"
    f.write_bytes(chat_body("o3-mini"))
    server.clear()
    outs = [run([CURL, "-sS", server.openai_url(), "-F", f"file=@{f}"], env=env).stdout
            for env in (plain_env(), shim_env(models="o3-mini"))]
    a, b = server.requests()
    assert outs[0] == outs[1]
    # multipart boundaries differ per run; the parts must not
    assert a["body"].split(b"\r\n")[1:-2] == b["body"].split(b"\r\n")[1:-2]


def test_connect_tunnel_answer_goes_out_unchanged(server):
    from proxy import start_proxy
    port, stop = start_proxy()
    try:
        body = chat_body("o3-mini")
        env = shim_env(models="o3-mini")
        env.pop("NO_PROXY")  # the harness keeps loopback off proxies
        env.pop("no_proxy")
        r = curl(server.openai_url(), body, "-i", "-p", "-x", f"http://127.0.0.1:{port}",
                 env=env)
    finally:
        stop()
    assert r.returncode == 0, r.stderr
    heads, stream = blocks(r.stdout)
    assert heads[0] == "HTTP/1.1 200 Connection established\r\nProxy-Agent: test"
    assert "Content-Type: text/event-stream; charset=utf-8" in heads[1]
    check_chat_stream(stream, plain_answer(server.openai_url(), body))
