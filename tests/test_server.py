"""The test server itself, driven by the real curl CLI without the shim, and
the SSE helpers it is checked with. These must pass before any C exists."""

import gzip
import json
import time

import pytest

import server as srv
from conftest import CURL, chat_body, run
from sse import accumulate_chat, check_chat_stream, parse_sse

REFUSAL = (b'{"error":{"message":"Unsupported value: \'stream\' does not support true with'
           b' this model. Supported values are: false.","type":"invalid_request_error",'
           b'"param":"stream","code":"unsupported_value"}}')
STREAM_OPTIONS = (b'{"error":{"message":"The \'stream_options\' parameter is only allowed when'
                  b' \'stream\' is enabled.","type":"invalid_request_error",'
                  b'"param":"stream_options","code":null}}')


class Reply:
    """What curl got: status, final header block, body, and curl's stderr."""

    def __init__(self, proc, head, body):
        self.proc = proc
        self.body = body
        blocks = [b for b in head.replace(b"\r\n", b"\n").split(b"\n\n") if b.strip()]
        self.blocks = blocks
        lines = blocks[-1].decode("latin-1").split("\n") if blocks else [""]
        self.status_line = lines[0]
        self.status = int(lines[0].split()[1]) if lines[0] else 0
        self.headers = [tuple(x.strip() for x in ln.split(":", 1)) for ln in lines[1:] if ":" in ln]

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def stderr(self):
        return self.proc.stderr.decode("utf-8", "replace")


def curl(tmp_path, url, *args, data=None):
    """POST `data` (bytes) with curl -sS, or GET when data is None."""
    head, out = tmp_path / "head", tmp_path / "body"
    cmd = [CURL, "-sS", "--max-time", "30", "-D", head, "-o", out]
    if data is not None:
        (tmp_path / "req").write_bytes(data)
        cmd += ["-H", "Content-Type: application/json", "--data-binary", "@" + str(tmp_path / "req")]
    proc = run(cmd + list(args) + [url])
    assert proc.returncode == 0, proc.stderr
    return Reply(proc, head.read_bytes(), out.read_bytes())


def answer_for(tmp_path, server, model, prompt, **members):
    """The server's non-stream answer for a prompt (parsed)."""
    r = curl(tmp_path, server.openai_url(), data=chat_body(model, prompt, stream=None, **members))
    assert r.status == 200, r.body
    return json.loads(r.body)


# ---------------------------------------------------------------------------
# Refusal and errors

def test_refuses_stream_for_o3_mini(server, tmp_path):
    server.clear()
    r = curl(tmp_path, server.openai_url(), data=chat_body("o3-mini"))
    assert r.status == 400
    assert r.body == REFUSAL
    assert r.header("Content-Type") == "application/json"
    assert r.header("Content-Length") == str(len(REFUSAL))
    assert r.header("x-request-id")
    reqs = server.requests()
    assert len(reqs) == 1
    assert reqs[0]["method"] == "POST" and reqs[0]["path"] == "/v1/chat/completions"
    assert reqs[0].json()["stream"] is True
    assert reqs[0]["http_version"] == "HTTP/1.1"


@pytest.mark.parametrize("model", ["o3-mini-2025-01-31", "o1", "o1-mini"])
def test_refuses_other_globbed_models(server, tmp_path, model):
    r = curl(tmp_path, server.openai_url("/openai/v1/chat/completions"), data=chat_body(model))
    assert (r.status, r.body) == (400, REFUSAL)


def test_azure_refusal_uses_deployment_not_body_model(server, tmp_path):
    r = curl(tmp_path, server.azure_url("o3-mini"), "-H", "api-key: test",
             data=chat_body("gpt-4o"))
    assert (r.status, r.body) == (400, REFUSAL)
    assert r.header("apim-request-id")


def test_azure_requires_api_key(server, tmp_path):
    r = curl(tmp_path, server.azure_url("o3-mini"), data=chat_body("o3-mini", stream=None))
    assert r.status == 401
    err = json.loads(r.body)["error"]
    assert err["code"] == "401" and "subscription key" in err["message"]
    r = curl(tmp_path, server.azure_url("o3-mini"), "-H", "api-key:", data=chat_body("o3-mini"))
    assert r.status == 401


def test_azure_requires_api_version(server, tmp_path):
    url = server.url + "/openai/deployments/o3-mini/chat/completions"
    r = curl(tmp_path, url, "-H", "api-key: k", data=chat_body("o3-mini", stream=None))
    assert r.status == 404


def test_stream_options_without_stream(server, tmp_path):
    for stream in (None, False):
        body = chat_body("o3-mini", stream=stream, stream_options={"include_usage": True})
        r = curl(tmp_path, server.openai_url(), data=body)
        assert (r.status, r.body) == (400, STREAM_OPTIONS)


def test_body_not_json(server, tmp_path):
    r = curl(tmp_path, server.openai_url(), data=b'{"model": "o3-mini", ')
    assert r.status == 400
    assert json.loads(r.body)["error"]["type"] == "invalid_request_error"


def test_unknown_path_and_status_knob(server, tmp_path):
    assert curl(tmp_path, server.url + "/v1/nothing", data=b"{}").status == 404
    r = curl(tmp_path, server.openai_url(), "-H", "X-Test-Status: 503",
             data=chat_body("o3-mini"))
    assert r.status == 503
    assert json.loads(r.body)["error"]["code"] == "503"
    assert r.header("x-request-id")


# ---------------------------------------------------------------------------
# Answers

def test_json_answer_without_stream(server, tmp_path):
    r = curl(tmp_path, server.azure_url("o3-mini"), "-H", "api-key: k",
             data=chat_body("o3-mini", "Say hello", stream=False))
    assert r.status == 200
    assert r.header("Content-Type") == "application/json"
    assert int(r.header("Content-Length")) == len(r.body)
    ans = json.loads(r.body)
    assert ans["id"].startswith("chatcmpl-")
    assert ans["object"] == "chat.completion"
    assert isinstance(ans["created"], int)
    assert ans["model"] == "o3-mini-2025-01-31"
    assert ans["service_tier"] == "default"
    assert ans["system_fingerprint"].startswith("fp_")
    (choice,) = ans["choices"]
    assert choice["finish_reason"] == "stop" and choice["logprobs"] is None
    msg = choice["message"]
    assert msg["role"] == "assistant" and msg["refusal"] is None and msg["annotations"] == []
    for piece in ("caf\u00e9", "\u6f22\u5b57", "\U0001F600", "\n", '"', "\\", "\t"):
        assert piece in msg["content"]
    usage = ans["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] > 0
    assert "cached_tokens" in usage["prompt_tokens_details"]
    # Raw UTF-8 on the wire (ensure_ascii=False), compact for Azure.
    assert "\U0001F600".encode() in r.body and b"\n" not in r.body
    # Azure adds its content filters; otherwise the same answer, whatever
    # the route (deterministic).
    assert ans.pop("prompt_filter_results")[0]["prompt_index"] == 0
    assert choice.pop("content_filter_results")["hate"]["filtered"] is False
    again = answer_for(tmp_path, server, "o3-mini", "Say hello")
    assert again == ans


def test_ascii_knob(server, tmp_path):
    body = chat_body("o3-mini", stream=None)
    plain = curl(tmp_path, server.openai_url(), data=body)
    ascii_ = curl(tmp_path, server.openai_url(), "-H", "X-Test-Ascii: 1", data=body)
    assert max(ascii_.body) < 0x80
    assert b"\\ud83d\\ude00" in ascii_.body and b"\\u00e9" in ascii_.body
    assert json.loads(ascii_.body) == json.loads(plain.body)
    assert max(plain.body) >= 0x80


@pytest.mark.parametrize("prompt,check", [
    ("empty please", lambda c, f: c == "" and f == "stop"),
    ("long:5000", lambda c, f: len(c.encode()) == 5000),
    ("long:100 finish:length", lambda c, f: len(c.encode()) == 100 and f == "length"),
])
def test_prompt_triggers(server, tmp_path, prompt, check):
    ans = answer_for(tmp_path, server, "o3-mini", prompt)
    ch = ans["choices"][0]
    assert check(ch["message"]["content"], ch["finish_reason"])


# ---------------------------------------------------------------------------
# Native streaming for models that accept it

STREAM_CASES = [
    ("Say hello", {}),
    ("Say hello", {"stream_options": {"include_usage": True}}),
    ("empty", {}),
    ("long:20000 finish:length", {"stream_options": {"include_usage": True}}),
    ("refusal", {}),
    ("two choices", {"n": 2}),
    ("tool_call:2", {"tools": [{"type": "function", "function": {"name": "get_weather",
                                                                "parameters": {}}}]}),
]


@pytest.mark.parametrize("prompt,members", STREAM_CASES)
def test_native_sse_matches_json_answer(server, tmp_path, prompt, members):
    want = answer_for(tmp_path, server, "gpt-4o", prompt,
                      **{k: v for k, v in members.items() if k != "stream_options"})
    r = curl(tmp_path, server.openai_url(), "-N",
             data=chat_body("gpt-4o", prompt, stream=True, **members))
    assert r.status == 200
    assert r.header("Content-Type") == "text/event-stream; charset=utf-8"
    assert r.header("Transfer-Encoding") == "chunked"
    assert r.header("Content-Length") is None
    include_usage = "stream_options" in members
    got = check_chat_stream(r.body, want, expect_usage=include_usage)
    assert got["choices"][0]["message"]["role"] == "assistant"
    if include_usage:
        assert got["usage"] == want["usage"]


def test_native_sse_azure(server, tmp_path):
    r = curl(tmp_path, server.azure_url("gpt-4o"), "-H", "api-key: k", "-N",
             data=chat_body("ignored", "Say hello"))
    want = curl(tmp_path, server.azure_url("gpt-4o"), "-H", "api-key: k",
                data=chat_body("ignored", "Say hello", stream=None))
    check_chat_stream(r.body, want.body, expect_usage=False)


# ---------------------------------------------------------------------------
# Transport knobs

def test_gzip(server, tmp_path):
    body = chat_body("o3-mini", stream=None)
    plain = curl(tmp_path, server.openai_url(), data=body).body
    r = curl(tmp_path, server.openai_url(), "--compressed", data=body)
    assert r.header("Content-Encoding") == "gzip"
    assert int(r.header("Content-Length")) < len(plain)
    assert r.body == plain  # curl decoded it
    raw = curl(tmp_path, server.openai_url(), "-H", "Accept-Encoding: gzip", data=body)
    assert raw.body[:2] == b"\x1f\x8b" and gzip.decompress(raw.body) == plain
    # The knob never gzips what the client did not accept...
    r = curl(tmp_path, server.openai_url(), "-H", "X-Test-Gzip: 1", data=body)
    assert r.header("Content-Encoding") is None and r.body == plain
    # ...and 0 turns it off even when accepted.
    r = curl(tmp_path, server.openai_url(), "-H", "X-Test-Gzip: 0", "--compressed", data=body)
    assert r.header("Content-Encoding") is None and r.body == plain
    # q=0 refuses gzip.
    r = curl(tmp_path, server.openai_url(), "-H", "Accept-Encoding: gzip;q=0", data=body)
    assert r.header("Content-Encoding") is None


def test_chunked(server, tmp_path):
    body = chat_body("o3-mini", stream=None)
    plain = curl(tmp_path, server.openai_url(), data=body).body
    r = curl(tmp_path, server.openai_url(), "-H", "X-Test-Chunked: 1", data=body)
    assert r.header("Transfer-Encoding") == "chunked"
    assert r.header("Content-Length") is None
    assert r.body == plain
    r = curl(tmp_path, server.openai_url(), "-H", "X-Test-Chunked: 1", "--compressed",
             "-v", data=body)
    assert r.header("Transfer-Encoding") == "chunked"
    assert r.header("Content-Encoding") == "gzip"
    assert r.body == plain


def test_expect_100_continue(server, tmp_path):
    server.clear()
    body = chat_body("o3-mini", stream=None)
    r = curl(tmp_path, server.openai_url(), "-v", "-H", "Expect: 100-continue", data=body)
    assert "< HTTP/1.1 100 Continue" in r.stderr
    assert "Done waiting for 100-continue" not in r.stderr  # the server answered at once
    assert len(r.blocks) == 2 and r.blocks[0].startswith(b"HTTP/1.1 100")
    assert r.status == 200
    assert json.loads(r.body)["object"] == "chat.completion"
    (req,) = server.requests()
    assert req.header("Expect") == "100-continue"
    assert req["body"] == body


def test_expect_100_continue_with_delay(server, tmp_path):
    """X-Test-Delay comes before the 100 Continue: curl gives up waiting
    after its 1 s expect timeout and sends the body anyway."""
    body = chat_body("o3-mini", stream=None)
    start = time.monotonic()
    r = curl(tmp_path, server.openai_url(), "-v", "-H", "Expect: 100-continue",
             "-H", "X-Test-Delay: 1.5", data=body)
    assert time.monotonic() - start >= 1.5
    assert "Done waiting for 100-continue" in r.stderr
    assert r.status == 200


def test_delay(server, tmp_path):
    start = time.monotonic()
    r = curl(tmp_path, server.openai_url(), "-H", "X-Test-Delay: 0.7",
             data=chat_body("o3-mini", stream=None))
    assert time.monotonic() - start >= 0.7 and r.status == 200
    proc = run([CURL, "-sS", "--max-time", "0.5", "-H", "X-Test-Delay: 2",
                "--data-binary", chat_body("o3-mini", stream=None), server.openai_url()])
    assert proc.returncode == 28  # operation timed out, nothing received at all


def test_delay_on_each_kept_alive_request(server, tmp_path):
    server.clear()
    start = time.monotonic()
    proc = run([CURL, "-sS", "-o", "/dev/null", "-o", "/dev/null", "-H", "X-Test-Delay: 0.4",
                server.url + "/healthz", server.url + "/healthz"])
    assert proc.returncode == 0
    assert time.monotonic() - start >= 0.8
    assert len({r["client_port"] for r in server.requests()}) == 1


def test_stdlib_error_pages_carry_request_id(server, tmp_path):
    r = curl(tmp_path, server.url + "/healthz", "-I")  # HEAD: not implemented
    assert r.status == 501 and r.header("x-request-id")


def test_keep_alive(server, tmp_path):
    server.clear()
    body = tmp_path / "b"
    body.write_bytes(chat_body("o3-mini", stream=None))
    proc = run([CURL, "-sS", "-v", "-o", "/dev/null", "-o", "/dev/null",
                "-H", "Content-Type: application/json", "--data-binary", "@" + str(body),
                server.openai_url(), server.openai_url()])
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode()
    assert err.count("Re-using existing connection") == 1, err
    reqs = server.requests()
    assert len(reqs) == 2
    assert len({r["client_port"] for r in reqs}) == 1


def test_keep_alive_after_stream_and_errors(server, tmp_path):
    """Chunked SSE, a refusal and a 401 leave the connection reusable."""
    server.clear()
    (tmp_path / "s").write_bytes(chat_body("gpt-4o"))
    (tmp_path / "r").write_bytes(chat_body("o3-mini"))
    proc = run([CURL, "-sS", "-v",
                "--data-binary", "@" + str(tmp_path / "s"), server.openai_url(), "--next",
                "--data-binary", "@" + str(tmp_path / "r"), server.openai_url(), "--next",
                "--data-binary", "@" + str(tmp_path / "r"), server.azure_url(), "--next",
                server.url + "/plain/10"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode().count("Re-using existing connection") == 3
    assert proc.stdout.endswith(srv.plain_bytes(10))
    assert len({r["client_port"] for r in server.requests()}) == 1


def test_plain_and_healthz(server, tmp_path):
    r = curl(tmp_path, server.url + "/plain/100000")
    assert r.header("Content-Type") == "application/octet-stream"
    assert r.body == srv.plain_bytes(100000)
    assert r.header("x-request-id")
    assert curl(tmp_path, server.url + "/plain/0").body == b""
    r = curl(tmp_path, server.url + "/healthz")
    assert (r.status, r.body) == (200, b"ok")


def test_log_records_headers_and_body(server, tmp_path):
    server.clear()
    body = chat_body("o3-mini", "caf\u00e9 \U0001F600")
    curl(tmp_path, server.openai_url() + "?x=1", "-H", "X-B: 2", "-H", "X-A: 1",
         "-H", "api-key: secret", data=body)
    (req,) = server.requests()
    assert req["path"] == "/v1/chat/completions?x=1"
    assert req["body"] == body and req["body_len"] == len(body)
    names = [k for k, _ in req["headers"]]
    assert names.index("X-B") < names.index("X-A")
    assert req.header("api-key") == "secret"
    assert req["request_id"].startswith("req_")


def test_chunked_request_body(server, tmp_path):
    server.clear()
    body = chat_body("o3-mini", stream=None)
    r = curl(tmp_path, server.openai_url(), "-H", "Transfer-Encoding: chunked", data=body)
    assert r.status == 200
    assert server.requests()[0]["body"] == body


# ---------------------------------------------------------------------------
# The SSE helpers

def test_parse_sse_line_ends_and_fields():
    data = (b"\xef\xbb\xbf: comment\r\n"
            b"event: a\r\ndata: 1\r\ndata:2\r\n\r\n"
            b"data\rid: 7\r\r"
            b"event: nodata\n\n"
            b"retry: 100\ndata:  x \n\n"
            b"data: incomplete\n")
    evs = parse_sse(data)
    assert [(e.type, e.data) for e in evs] == [("a", "1\n2"), ("message", ""),
                                                ("message", " x ")]
    assert evs[1].id == "7" and evs[2].id == "7" and evs[2].retry == 100
    assert evs[0].fields == [("event", "a"), ("data", "1"), ("data", "2")]


def test_accumulate_chat_like_openai_node():
    def c(delta, finish=None, **top):
        return dict({"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}, **top)
    chunks = [
        c({"role": "assistant", "content": None, "reasoning_content": "th"}),
        c({"reasoning_content": "ink"}),
        c({"tool_calls": [{"index": 1, "id": "b", "type": "function",
                           "function": {"name": "g", "arguments": ""}}]}),
        c({"tool_calls": [{"index": 0, "id": "a", "type": "function",
                           "function": {"name": "f", "arguments": "{"}}]}),
        c({"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]}),
        c({}, "tool_calls", obfuscation="zz"),
        {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m",
         "choices": [], "usage": {"total_tokens": 3}},
    ]
    got = accumulate_chat(chunks)
    msg = got["choices"][0]["message"]
    assert msg["reasoning_content"] == "think" and msg["content"] is None
    assert [t["id"] for t in msg["tool_calls"]] == ["a", "b"]
    assert msg["tool_calls"][0]["function"] == {"name": "f", "arguments": "{}"}
    assert got["usage"] == {"total_tokens": 3} and "obfuscation" not in got
    assert got["choices"][0]["finish_reason"] == "tool_calls"


def test_check_chat_stream_catches_bad_streams():
    ans = srv.build_answer({"messages": [{"role": "user", "content": "hi"}]}, "o3-mini", True)
    good = b"".join(b"data: " + srv.dumps(c) + b"\n\n" for c in srv.build_stream(ans, False))
    check_chat_stream(good + b"data: [DONE]\n\n", ans, expect_usage=False)
    bad = [
        good,                                                   # no [DONE]
        good + b"data: [DONE]\n\ndata: [DONE]\n\n",             # two
        b"data: [DONE]\n\n" + good,                             # not last
        good + b": keepalive\n\ndata: [DONE]\n\n",              # comment (strict)
        good.replace(b"o3-mini-2025-01-31", b"o3-mini", 1) + b"data: [DONE]\n\n",  # model
        good.replace(b'"content":"Hello!"', b'"content":"Hullo!"') + b"data: [DONE]\n\n",
        good.replace(b'"stop"', b'"length"') + b"data: [DONE]\n\n",
        good + b"data: [DONE]\n",                               # unterminated
    ]
    for data in bad:
        with pytest.raises(AssertionError):
            check_chat_stream(data, ans)
    # A tool call replayed without index is lost by the SDK: caught.
    tool = srv.build_answer({"messages": [{"role": "user", "content": "tool_call"}],
                             "tools": [{"type": "function", "function": {"name": "f"}}]},
                            "gpt-4o", False)
    chunks = srv.build_stream(tool, False)
    del chunks[0]["choices"][0]["delta"]["tool_calls"][0]["index"]
    data = b"".join(b"data: " + srv.dumps(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    with pytest.raises(AssertionError):
        check_chat_stream(data, tool)
