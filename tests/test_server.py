"""The test server itself, driven by the real curl CLI without the shim, and
the SSE helpers it is checked with. These must pass before any C exists."""

import copy
import gzip
import json
import re
import time
import zlib

import pytest

import server as srv
from conftest import CURL, chat_body, run, start_server
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


# ---------------------------------------------------------------------------
# Stream-only models (DashScope), transcripts and the stream knobs

DASHSCOPE_MESSAGE = ("This model only support stream mode, please enable the stream parameter"
                     " to access the model. ")
THINKING_MESSAGE = "parameter.enable_thinking must be set to false for non-streaming calls"
THINKING_ZH_MESSAGE = "parameter.enable_thinking\u5fc5\u987b\u8bbe\u7f6e\u4e3afalse\u624d\u80fd" \
                      "\u8fdb\u884c\u975e\u6d41\u5f0f\u8c03\u7528"


def curl_any(tmp_path, url, *args, data=None):
    """curl -sS like curl() above, whatever its exit code: (exit code, Reply)."""
    head, out = tmp_path / "head", tmp_path / "body"
    for p in (head, out):
        if p.exists():
            p.unlink()
    cmd = [CURL, "-sS", "--max-time", "30", "-D", head, "-o", out]
    if data is not None:
        (tmp_path / "req").write_bytes(data)
        cmd += ["-H", "Content-Type: application/json", "--data-binary", "@" + str(tmp_path / "req")]
    proc = run(cmd + list(args) + [url])
    return proc.returncode, Reply(proc, head.read_bytes() if head.exists() else b"",
                                  out.read_bytes() if out.exists() else b"")


def refusal_of(r, message):
    """Check a DashScope stream-only refusal; returns its (id, request_id)."""
    assert r.status == 400, r.body
    assert r.header("Content-Type") == "application/json"
    assert int(r.header("Content-Length")) == len(r.body)
    obj = json.loads(r.body)
    assert list(obj) == ["error", "id", "request_id"]
    assert obj["error"] == {"code": "invalid_parameter_error", "param": None,
                            "message": message, "type": "invalid_request_error"}
    assert list(obj["error"]) == ["code", "param", "message", "type"]
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{32}", obj["id"]), obj["id"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                        obj["request_id"]), obj["request_id"]
    return obj["id"], obj["request_id"]


@pytest.mark.parametrize("model", ["qwq-plus", "qwq-32b", "qwen3-235b-a22b", "qwen-omni-turbo"])
@pytest.mark.parametrize("stream", [None, False], ids=["absent", "false"])
def test_stream_only_model_refuses_a_non_streaming_request(server, tmp_path, model, stream):
    body = chat_body(model, "hello", stream=stream)
    r = curl(tmp_path, server.openai_url(), data=body)
    first = refusal_of(r, DASHSCOPE_MESSAGE)
    assert r.body == srv.stream_only_refusal("dashscope", *first)
    again = refusal_of(curl(tmp_path, server.openai_url(), data=body), DASHSCOPE_MESSAGE)
    assert first[0] != again[0] and first[1] != again[1]  # fresh each time


@pytest.mark.parametrize("path", ["/v1/completions", "/v1/responses", "/v1/messages",
                                  "/openai/v1/chat/completions"])
def test_stream_only_refusal_on_every_llm_route(server, tmp_path, path):
    r = curl(tmp_path, server.url + path, data=json.dumps(
        {"model": "qwq-plus", "input": "x", "prompt": "x", "max_tokens": 5,
         "messages": [{"role": "user", "content": "x"}]}).encode())
    refusal_of(r, DASHSCOPE_MESSAGE)


def test_stream_only_azure_deployment_decides(server, tmp_path):
    r = curl(tmp_path, server.azure_url("qwq-plus"), "-H", "api-key: k",
             data=chat_body("gpt-4o", stream=None))
    refusal_of(r, DASHSCOPE_MESSAGE)
    r = curl(tmp_path, server.azure_url("gpt-4o"), "-H", "api-key: k",
             data=chat_body("qwq-plus", stream=None))
    assert r.status == 200 and json.loads(r.body)["object"] == "chat.completion"


@pytest.mark.parametrize("knob,members,message", [
    ("thinking", {}, THINKING_MESSAGE),
    ("thinking-zh", {}, THINKING_ZH_MESSAGE),
    ("dashscope", {"enable_thinking": True}, DASHSCOPE_MESSAGE),
    (None, {"enable_thinking": True}, THINKING_MESSAGE),
    (None, {"enable_thinking": False}, DASHSCOPE_MESSAGE),
])
def test_stream_only_refusal_wordings(server, tmp_path, knob, members, message):
    args = ["-H", f"X-Test-Stream-Only-Refusal: {knob}"] if knob else []
    r = curl(tmp_path, server.openai_url(), *args,
             data=chat_body("qwen3-32b", stream=None, **members))
    ident = refusal_of(r, message)
    # raw UTF-8 on the wire, as DashScope sends it
    assert r.body == srv.stream_only_refusal(knob or (
        "thinking" if members.get("enable_thinking") else "dashscope"), *ident)


def test_stream_only_bad_wording_knob(server, tmp_path):
    r = curl(tmp_path, server.openai_url(), "-H", "X-Test-Stream-Only-Refusal: nope",
             data=chat_body("qwq-plus", stream=None))
    assert r.status == 400 and json.loads(r.body)["error"]["message"] == \
        "bad X-Test-Stream-Only-Refusal"


def test_stream_only_globs_from_the_command_line(tmp_path):
    other = start_server("--stream-only", "only-stream*")
    refusal_of(curl(tmp_path, other.openai_url(), data=chat_body("only-stream-1", stream=None)),
               DASHSCOPE_MESSAGE)
    r = curl(tmp_path, other.openai_url(), data=chat_body("qwq-plus", stream=None))
    assert r.status == 200 and json.loads(r.body)["model"] == "qwq-plus"


def sent_for(server, r):
    """What the server logged as sent for the answer r (by its request id:
    a late record of an earlier test's transfer must not count)."""
    return server.sent().get(r.header("x-request-id"))


DASHSCOPE_CHUNK_KEYS = ["choices", "object", "usage", "created", "system_fingerprint", "model", "id"]


@pytest.mark.parametrize("usage", [False, True], ids=["plain", "include_usage"])
@pytest.mark.parametrize("prompt,members", [
    ("Say hello", {}), ("empty", {}), ("two", {"n": 2}), ("refusal", {}),
    ("tool_call:2", {"tools": [{"type": "function", "function": {"name": "get_weather"}}]}),
])
def test_dashscope_stream(server, tmp_path, judge, usage, prompt, members):
    opts = {"stream_options": {"include_usage": True}} if usage else {}
    body = chat_body("qwq-plus", prompt, stream=True, **members, **opts)
    server.clear()
    r = curl(tmp_path, server.openai_url(), "-N", data=body)
    assert r.status == 200
    assert r.header("Content-Type") == "text/event-stream; charset=utf-8"
    assert r.header("Transfer-Encoding") == "chunked" and r.header("Content-Length") is None
    req = json.loads(body)
    answer = srv.dashscope_answer(req, "qwq-plus")
    assert r.body == b"".join(srv.dashscope_events(answer, usage))
    assert sent_for(server, r) == (200, r.body)
    # DashScope's shape
    events = parse_sse(r.body)
    assert events[-1].data == "[DONE]"
    chunks = [json.loads(e.data) for e in events[:-1]]
    for c in chunks:
        assert list(c) == DASHSCOPE_CHUNK_KEYS
        assert c["object"] == "chat.completion.chunk" and c["system_fingerprint"] is None
        assert (c["id"], c["created"], c["model"]) == (answer["id"], answer["created"], "qwq-plus")
        for ch in c["choices"]:
            assert list(ch) == ["delta", "finish_reason", "index", "logprobs"]
            assert ch["logprobs"] is None
    # per choice: the reasoning comes before any content
    for i in range(len(answer["choices"])):
        deltas = [ch["delta"] for c in chunks for ch in c["choices"] if ch["index"] == i]
        assert deltas[0]["role"] == "assistant"
        kinds = ["r" if d.get("reasoning_content") else "c" if d.get("content") or
                 d.get("tool_calls") else "-" for d in deltas]
        assert "r" in kinds and "".join(kinds).strip("-").lstrip("r").count("r") == 0, kinds
        msg = answer["choices"][i]["message"]
        assert msg["reasoning_content"] == "".join(d.get("reasoning_content") or ""
                                                   for d in deltas)
        assert msg["content"] == "".join(d.get("content") or "" for d in deltas)
    tail = [c for c in chunks if not c["choices"]]
    if usage:
        assert tail == [chunks[-1]] and chunks[-1]["usage"] == answer["usage"]
    else:
        assert tail == [] and all(c["usage"] is None for c in chunks)
    # the answer that stream stands for: joined above; our accumulator and
    # the openai SDK on the rest (both assign reasoning_content, so the
    # content chunks' "reasoning_content": null leaves them null)
    assert answer["object"] == "chat.completion" and answer["system_fingerprint"] is None
    assert "service_tier" not in answer
    plain = copy.deepcopy(answer)
    for ch in plain["choices"]:
        ch["message"].pop("reasoning_content")
    check_chat_stream(r.body, plain, expect_usage=True if usage else None)
    from test_judges import sdk_clean, sdk_kept
    want = sdk_kept(answer, True)
    if not usage:  # every DashScope chunk says "usage": null
        want["usage"] = None
    assert sdk_clean(judge("chat", r.body)) == want


def test_dashscope_answer_is_deterministic():
    req = {"model": "qwq-plus", "messages": [{"role": "user", "content": "caf\u00e9?"}]}
    a = srv.dashscope_answer(req, "qwq-plus")
    assert a == srv.dashscope_answer(dict(req, stream=True, stream_options={}), "qwq-plus")
    assert a != srv.dashscope_answer(dict(req, messages=[{"role": "user", "content": "x"}]),
                                     "qwq-plus")
    msg = a["choices"][0]["message"]
    assert list(msg) == ["role", "content", "reasoning_content"]
    assert "caf\u00e9?" in msg["reasoning_content"] and "\\" in msg["reasoning_content"]
    assert "refusal" not in msg and a["choices"][0]["logprobs"] is None
    u = a["usage"]
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
    assert 0 < u["completion_tokens_details"]["reasoning_tokens"] < u["completion_tokens"]


def test_dashscope_stream_on_the_azure_route(server, tmp_path):
    body = chat_body("ignored", stream=True)
    r = curl(tmp_path, server.azure_url("qwq-plus"), "-H", "api-key: k", "-N", data=body)
    answer = srv.dashscope_answer(json.loads(body), "qwq-plus")
    assert r.body == b"".join(srv.dashscope_events(answer, False))


def test_split_events():
    data = (b"data: a\n\n" b"event: x\r\ndata: b\r\n\r\n" b": c\n\n" b"data: d\r\r"
            b"data: e\n\ndata: tail")
    assert srv.split_events(data) == [b"data: a\n\n", b"event: x\r\ndata: b\r\n\r\n",
                                      b": c\n\n", b"data: d\r\r", b"data: e\n\n", b"data: tail"]
    assert srv.split_events(b"") == []
    assert b"".join(srv.split_events(data)) == data


# A transcript of any shape; CRLF framing, a comment, and bytes after the
# last blank line must come out as they are.
TRANSCRIPT = (b"event: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\n"
              b": a comment\n\n"
              b"data: {\"x\":\"caf\xc3\xa9\"}\n\n"
              b"data: [DONE]\n\n"
              b"data: after")
FILE_ROUTES = [("chat", "/v1/chat/completions", []),
               ("azure", "/openai/deployments/o3-mini/chat/completions?api-version=2024-12-01-preview",
                ["-H", "api-key: k"]),
               ("completions", "/v1/completions", []),
               ("responses", "/v1/responses", []),
               ("azure-responses", "/openai/responses?api-version=2025-04-01-preview", []),
               ("messages", "/v1/messages", [])]


def chunk_sizes(raw):
    """The chunk sizes of a chunked body as curl --raw wrote it, and the
    data; asserts the final zero-size chunk is there."""
    sizes, data, pos = [], b"", 0
    while True:
        eol = raw.index(b"\r\n", pos)
        n = int(raw[pos:eol], 16)
        if n == 0:
            return sizes, data
        sizes.append(n)
        data += raw[eol + 2:eol + 2 + n]
        assert raw[eol + 2 + n:eol + 4 + n] == b"\r\n"
        pos = eol + 4 + n


@pytest.mark.parametrize("name,path,args", FILE_ROUTES, ids=[r[0] for r in FILE_ROUTES])
def test_stream_file_on_every_route(server, tmp_path, name, path, args):
    f = tmp_path / "stream.sse"
    f.write_bytes(TRANSCRIPT)
    # o3-mini would refuse to stream: the transcript comes first
    body = json.dumps({"model": "o3-mini", "stream": True, "input": "x", "prompt": "x",
                       "messages": [{"role": "user", "content": "x"}]}).encode()
    server.clear()
    r = curl(tmp_path, server.url + path, "--raw", "-H", f"X-Test-Stream-File: {f}", *args,
             data=body)
    assert r.status == 200
    assert r.header("Content-Type") == "text/event-stream; charset=utf-8"
    assert r.header("Transfer-Encoding") == "chunked"
    sizes, data = chunk_sizes(r.body)
    assert data == TRANSCRIPT
    assert sizes == [len(e) for e in srv.split_events(TRANSCRIPT)]  # one chunk per event
    assert sent_for(server, r) == (200, TRANSCRIPT)


def test_stream_file_only_for_streaming_requests(server, tmp_path):
    f = tmp_path / "stream.sse"
    f.write_bytes(TRANSCRIPT)
    r = curl(tmp_path, server.openai_url(), "-H", f"X-Test-Stream-File: {f}",
             data=chat_body("gpt-4o", stream=None))
    assert r.status == 200 and json.loads(r.body)["object"] == "chat.completion"
    refusal_of(curl(tmp_path, server.openai_url(), "-H", f"X-Test-Stream-File: {f}",
                    data=chat_body("qwq-plus", stream=None)), DASHSCOPE_MESSAGE)
    r = curl(tmp_path, server.openai_url(), "-H", f"X-Test-Stream-File: {tmp_path / 'none'}",
             data=chat_body("gpt-4o"))
    assert r.status == 400 and b"X-Test-Stream-File" in r.body


def native_events(model, prompt="knobs", usage=False):
    """The events tests/server.py streams for a chat request, and the body."""
    opts = {"stream_options": {"include_usage": True}} if usage else {}
    body = chat_body(model, prompt, **opts)
    req = json.loads(body)
    if srv.model_matches(model, srv.DEFAULT_STREAM_ONLY):
        return srv.dashscope_events(srv.dashscope_answer(req, model), usage), body
    chunks = srv.build_stream(srv.build_answer(req, model, False), usage)
    return [b"data: " + srv.dumps(c) + b"\n\n" for c in chunks] + [b"data: [DONE]\n\n"], body


@pytest.mark.parametrize("model", ["gpt-4o", "qwq-plus"])
def test_stream_gzip(server, tmp_path, model):
    events, body = native_events(model)
    plain = b"".join(events)
    r = curl(tmp_path, server.openai_url(), "--compressed", "-H", "X-Test-Stream-Gzip: 1",
             data=body)
    assert r.header("Content-Encoding") == "gzip" and r.body == plain
    # incremental: every chunk is one event, sync-flushed (then the trailer)
    r = curl(tmp_path, server.openai_url(), "--raw", "-H", "Accept-Encoding: gzip",
             "-H", "X-Test-Stream-Gzip: 1", data=body)
    assert r.header("Content-Encoding") == "gzip"
    sizes, data = chunk_sizes(r.body)
    assert len(sizes) == len(events) + 1
    d = zlib.decompressobj(31)
    pos = 0
    for ev, n in zip(events, sizes):
        assert d.decompress(data[pos:pos + n]) == ev
        pos += n
    assert d.decompress(data[pos:]) == b"" and d.eof
    assert gzip.decompress(data) == plain
    # not allowed, not encoded
    for extra in ([], ["-H", "Accept-Encoding: gzip;q=0"]):
        r = curl(tmp_path, server.openai_url(), "-H", "X-Test-Stream-Gzip: 1", *extra,
                 data=body)
        assert r.header("Content-Encoding") is None and r.body == plain


@pytest.mark.parametrize("model", ["gpt-4o", "qwq-plus"])
@pytest.mark.parametrize("n", [0, 3])
@pytest.mark.parametrize("etype", [None, "rate_limit_error"])
def test_stream_error_knob_chat(server, tmp_path, model, n, etype):
    events, body = native_events(model)
    args = ["-H", f"X-Test-Stream-Error: {n}"]
    if etype:
        args += ["-H", f"X-Test-Stream-Error-Type: {etype}"]
    server.clear()
    r = curl(tmp_path, server.openai_url(), *args, data=body)
    err = srv.stream_error_event("chat", n, etype)
    assert r.status == 200 and r.body == b"".join(events[:n]) + err
    assert json.loads(err[len(b"data: "):]) == {"error": {
        "message": srv.STREAM_ERROR_MESSAGE, "type": etype or "server_error",
        "param": None, "code": None}}
    assert sent_for(server, r) == (200, r.body)


def test_stream_error_events_by_shape():
    assert srv.stream_error_event("messages", 4) == (
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
        b'"message":"Overloaded"}}\n\n')
    assert srv.stream_error_event("responses", 4) == (
        b'event: error\ndata: {"type":"error","code":"server_error","message":"'
        + srv.STREAM_ERROR_MESSAGE.encode() + b'","param":null,"sequence_number":4}\n\n')
    assert srv.stream_error_event("completions", 1) == srv.stream_error_event("chat", 1)


@pytest.mark.parametrize("shape,path", [("messages", "/v1/messages"),
                                        ("responses", "/v1/responses"),
                                        ("completions", "/v1/completions")])
def test_stream_knobs_on_a_transcript(server, tmp_path, shape, path):
    f = tmp_path / "stream.sse"
    f.write_bytes(TRANSCRIPT)
    events = srv.split_events(TRANSCRIPT)
    body = json.dumps({"model": "m", "stream": True}).encode()
    hdr = ["-H", f"X-Test-Stream-File: {f}"]
    r = curl(tmp_path, server.url + path, *hdr, "-H", "X-Test-Stream-Error: 2", data=body)
    assert r.body == b"".join(events[:2]) + srv.stream_error_event(shape, 2)
    r = curl(tmp_path, server.url + path, *hdr, "-H", "X-Test-Stream-End: 2", data=body)
    assert r.body == b"".join(events[:2])
    rc, r = curl_any(tmp_path, server.url + path, *hdr, "-H", "X-Test-Stream-Cut: 2", data=body)
    assert rc == 18 and r.body == b"".join(events[:2])


@pytest.mark.parametrize("model", ["gpt-4o", "qwq-plus"])
def test_stream_cut_and_end_knobs(server, tmp_path, model):
    events, body = native_events(model, usage=True)
    server.clear()
    rc, r = curl_any(tmp_path, server.openai_url(), "-H", "X-Test-Stream-Cut: 4", data=body)
    assert rc == 18, r.stderr  # transfer closed with outstanding read data remaining
    assert r.status == 200 and r.body == b"".join(events[:4])
    assert sent_for(server, r) == (200, r.body)
    r = curl(tmp_path, server.openai_url(), "--raw", "-H", "X-Test-Stream-End: 4", data=body)
    sizes, data = chunk_sizes(r.body)  # a clean end: the zero-size chunk came
    assert data == b"".join(events[:4]) and len(sizes) == 4
    # cut and gzip: no gzip trailer either
    rc, r = curl_any(tmp_path, server.openai_url(), "--compressed", "-H", "X-Test-Stream-Gzip: 1",
                     "-H", "X-Test-Stream-Cut: 2", data=body)
    assert rc == 18 and r.header("Content-Encoding") == "gzip"
    assert r.body == b"".join(events[:2])
    # the knobs count the events as they would have been sent: more than
    # there are changes nothing
    r = curl(tmp_path, server.openai_url(), "-H", "X-Test-Stream-End: 100000", data=body)
    assert r.body == b"".join(events)
