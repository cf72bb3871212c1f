"""Stream-only models, the mirror image of de-streaming: Alibaba DashScope's
OpenAI-compatible mode answers a request without `"stream": true` for
qwq-plus, the qwen3 thinking models and qwen-omni with HTTP 400
(tests/server.py's --stream-only models do the same). The shim sends such a
request streaming (STREAMSHIM_STREAM_ONLY=glob,glob, or in auto mode after
that refusal, learned) and hands the program the one non-streamed JSON
answer the events stand for: 200, Content-Type: application/json, a
Content-Length, no Transfer-Encoding / Content-Encoding. An error event
becomes the error answer; a stream cut short or ended before its terminal
event passes through unchanged.

This file: the behaviour with the curl CLI against the server's DashScope
streams and served transcripts (X-Test-Stream-File), configured and in auto
mode, errors, cuts, incomplete ends. The corpus round trip judged by the
official SDKs is in test_stream_only_judges.py, the other client ways in
test_stream_only_clients.py; both import the helpers below.

Helpers:
  so_env(tmp_path, glob=...)  configured (STREAMSHIM_STREAM_ONLY), logging to tmp_path/shim.log
  auto_env(tmp_path)          auto mode, nothing configured, a cache file in tmp_path
  post(url, body, ...)        the curl CLI posting body: Reply (status, headers,
                              body, curl's getinfo via -w, exit code, stderr)
  json_answer(reply)          asserts the headers of a non-streamed answer, returns its JSON
  check_sent(sent, body, options)  the request went out streaming, every other
                              byte as the program wrote it
  request_body(shape, model, **members)  a non-streaming request of each shape
  replay(server, shape, fixture)   the stream a corpus answer stands for (the
                              de-streaming shim's replay: the curl CLI, force mode)
"""

import json
import re
import tempfile
from pathlib import Path

import pytest

import server as srv
from conftest import CURL, chat_body, plain_env, run, shim_env

pytestmark = pytest.mark.needs_lib

MODEL = "qwq-plus"
GLOB = "qwq*"
AZURE_KEY = "api-key: sk-azure-SECRET-1234"

# the route of each shape, and whether the shim adds stream_options there
ROUTES = {"chat": "/v1/chat/completions", "completions": "/v1/completions",
          "responses": "/v1/responses", "messages": "/v1/messages"}
WITH_OPTIONS = {"chat": True, "completions": True, "responses": False, "messages": False}


# --- environments -------------------------------------------------------------

def log_path(tmp_path):
    return tmp_path / "shim.log"


def log_text(tmp_path):
    p = log_path(tmp_path)
    return p.read_text() if p.exists() else ""


def so_env(tmp_path, glob=GLOB, **settings):
    """Configured: STREAMSHIM_STREAM_ONLY=glob, an info log in tmp_path."""
    settings.setdefault("log", f"info:{log_path(tmp_path)}")
    return shim_env(stream_only=glob, **settings)


def auto_env(tmp_path, **settings):
    """Auto mode with nothing configured, learning into tmp_path/refusals."""
    settings.setdefault("cache", str(tmp_path / "refusals"))
    settings.setdefault("log", f"info:{log_path(tmp_path)}")
    return shim_env(**settings)


# --- what the program got -------------------------------------------------------

WRITE_OUT = "%{http_code}\t%{content_type}\t%{size_download}"


class Reply:
    """What the curl CLI got: every header block (-D), the body (-o), curl's
    getinfo (-w: http_code, content_type, size_download), exit code, stderr."""

    def __init__(self, proc, head, body):
        self.rc = proc.returncode
        self.stderr = proc.stderr
        self.body = body
        self.blocks = []
        for block in head.split(b"\r\n\r\n"):
            if not block.strip():
                continue
            lines = block.decode("latin-1").split("\r\n")
            fields = [tuple(x.strip() for x in ln.split(":", 1)) for ln in lines[1:] if ":" in ln]
            self.blocks.append((lines[0], fields))
        self.status_line, self.fields = self.blocks[-1] if self.blocks else ("", [])
        self.status = int(self.status_line.split()[1]) if self.status_line else 0
        info = proc.stdout.decode("latin-1").split("\t")
        self.info = {"http_code": info[0], "content_type": info[1] if len(info) > 1 else "",
                     "size_download": info[2] if len(info) > 2 else ""}

    def header(self, name):
        vals = self.headers(name)
        return vals[0] if vals else None

    def headers(self, name):
        return [v for k, v in self.fields if k.lower() == name.lower()]

    def __repr__(self):
        return (f"Reply(rc={self.rc}, {self.status_line!r}, {self.fields!r}, "
                f"body={self.body[:300]!r}, stderr={self.stderr[-500:]!r})")


def post(url, body, *extra, env=None, headers=(), timeout=60):
    """The curl CLI posting body (from stdin, `-d @-` style) to url."""
    with tempfile.TemporaryDirectory(prefix="ss-so-") as d:
        head, out = Path(d) / "head", Path(d) / "body"
        cmd = [CURL, "-sS", url, "-H", "Content-Type: application/json", "--data-binary", "@-",
               "-D", head, "-o", out, "-w", WRITE_OUT, *extra]
        for h in headers:
            cmd += ["-H", h]
        proc = run(cmd, env=env, input=body, timeout=timeout)
        return Reply(proc, head.read_bytes() if head.exists() else b"",
                     out.read_bytes() if out.exists() else b"")


def json_answer(r, status=200):
    """Assert that the program got one non-streamed JSON answer of `status`
    (one header block; Content-Type application/json, Content-Length the
    body's, no Transfer-Encoding or Content-Encoding; curl's getinfo
    agrees) and return it parsed."""
    assert r.status == status, r
    assert len(r.blocks) == 1, r.blocks
    assert r.header("Content-Type") == "application/json", r
    assert r.headers("Content-Length") == [str(len(r.body))], r
    assert not r.headers("Transfer-Encoding") and not r.headers("Content-Encoding"), r
    assert r.info == {"http_code": str(status), "content_type": "application/json",
                      "size_download": str(len(r.body))}, r.info
    return json.loads(r.body)


def raw_stream(r):
    """Assert that a stream reached the program as the server sent it
    (text/event-stream, chunked); returns the body."""
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/event-stream; charset=utf-8", r
    assert r.header("Transfer-Encoding") == "chunked", r
    assert r.info["content_type"] == "text/event-stream; charset=utf-8", r.info
    return r.body


# --- what the server got --------------------------------------------------------

_APPENDED_STREAM = re.compile(rb',\s*"stream"\s*:\s*true')
_APPENDED_OPTIONS = re.compile(rb',\s*"stream_options"\s*:\s*\{\s*"include_usage"\s*:\s*true\s*\}')
_STREAM_FALSE = re.compile(rb'"stream"(\s*):(\s*)false')


def _drop_last(regex, data, what):
    found = list(regex.finditer(data))
    assert found, f"no {what} in the request sent: {data[:400]!r}"
    m = found[-1]
    return data[:m.start()] + data[m.end():]


def check_sent(sent, body, options):
    """The request the server got for the program's non-streaming `body`:
    the same JSON with "stream": true ("false" replaced in place, else
    appended as a member) and, when `options` (Chat Completions, legacy
    Completions) and the body has none, "stream_options":
    {"include_usage":true} appended; every other byte as written."""
    want = json.loads(body)
    add_options = options and "stream_options" not in want
    want["stream"] = True
    if add_options:
        want["stream_options"] = {"include_usage": True}
    assert json.loads(sent) == want, f"the server got {sent[:600]!r}"
    rest = sent
    if add_options:
        rest = _drop_last(_APPENDED_OPTIONS, rest, "stream_options appended")
    if _STREAM_FALSE.search(body):
        assert rest == _STREAM_FALSE.sub(rb'"stream"\1:\2true', body, count=1), rest
    else:
        assert _drop_last(_APPENDED_STREAM, rest, '"stream": true appended') == body, rest
    assert b'"stream_options"' not in body or sent.count(b'"stream_options"') == 1


def only_request(server):
    reqs = server.requests()
    assert len(reqs) == 1, [q["body"][:200] for q in reqs]
    return reqs[0]


# --- requests and transcripts ---------------------------------------------------

def request_body(shape, model=MODEL, **members):
    """server.request_body, for this file's model by default."""
    return srv.request_body(shape, model, **members)


def replay(server, shape, name):
    """The stream fixture tests/fixtures/<shape>/<name>.json stands for: the
    de-streaming shim's replay of it through the curl CLI (force mode,
    models=o3-mini; chat and completions with include_usage), as the
    judge tests get it."""
    body = json.loads(request_body(shape, "o3-mini", stream=True))
    if WITH_OPTIONS[shape]:
        body["stream_options"] = {"include_usage": True}
    r = run([CURL, "-sS", "-N", server.url + ROUTES[shape], "-H", "Content-Type: application/json",
             "-H", "x-api-key: test", "-H", "anthropic-version: 2023-06-01",
             "-H", f"X-Test-Fixture: {name}", "--data-binary", "@-"],
            env=shim_env(models="o3-mini", mode="force"), input=json.dumps(body).encode())
    assert r.returncode == 0, r.stderr
    assert not r.stdout.lstrip().startswith(b"{"), f"{name} was not replayed: {r.stdout[:200]!r}"
    return r.stdout


def transcript(tmp_path, server, shape, name):
    """replay() written to a file for X-Test-Stream-File: (path, bytes)."""
    stream = replay(server, shape, name)
    f = tmp_path / f"{shape}-{name}.sse"
    f.write_bytes(stream)
    return f, stream


def dashscope(body, model=MODEL):
    """The non-streamed answer the server's DashScope stream for the
    program's body stands for (tests/server.py dashscope_answer)."""
    return srv.dashscope_answer(json.loads(body), model)


def learned_text(tmp_path):
    """What auto mode wrote to its cache (every file in tmp_path but the log)."""
    return "".join(p.read_text(errors="replace") for p in sorted(tmp_path.iterdir())
                   if p.is_file() and p.name != log_path(tmp_path).name)


def sent_for(server, req):
    """(status, body) the server sent for a logged request."""
    return server.sent()[req["request_id"]]


# =============================================================================
# Configured: STREAMSHIM_STREAM_ONLY

@pytest.mark.parametrize("path", ["/v1/chat/completions", "/openai/v1/chat/completions"])
@pytest.mark.parametrize("stream", [None, False], ids=["no-stream-member", "stream-false"])
def test_configured_model_gets_the_one_json_answer(server, tmp_path, path, stream):
    """qwq-plus without "stream": true goes out streaming (with
    include_usage), and the program gets the JSON DashScope's events stand
    for: reasoning_content, content and usage included."""
    body = chat_body(MODEL, "configured, please", stream=stream)
    server.clear()
    r = post(server.url + path, body, env=so_env(tmp_path))
    assert r.rc == 0 and r.stderr == b"", r
    check_sent(only_request(server)["body"], body, options=True)
    got = json_answer(r)
    assert got == dashscope(body)
    assert got["choices"][0]["message"]["reasoning_content"].startswith("Okay, the user wrote")
    assert "passed through unchanged" not in log_text(tmp_path)


@pytest.mark.parametrize("prompt,members", [
    ("two choices", {"n": 2}),
    ("tool_call:2", {"tools": [{"type": "function", "function": {"name": "get_weather"}}]}),
    ("empty", {}),
    ("long:70000", {}),
])
def test_configured_answers_of_every_form(server, tmp_path, prompt, members):
    """Several choices, parallel tool calls, an empty content, an answer
    over 64 KiB."""
    body = chat_body(MODEL, prompt, stream=None, **members)
    server.clear()
    r = post(server.openai_url(), body, env=so_env(tmp_path))
    assert r.rc == 0, r
    check_sent(only_request(server)["body"], body, options=True)
    assert json_answer(r) == dashscope(body)


def test_strings_are_copied_as_the_server_escaped_them(server, tmp_path):
    """An ASCII-only stream (\\uXXXX escapes, the emoji as a surrogate
    pair): the answer joins the pieces' own bytes, escapes as written
    (hooks/pure/assemble.h), and means the same text."""
    body = chat_body(MODEL, "caf\u00e9 \U0001F914", stream=None)
    r = post(server.openai_url(), body, env=so_env(tmp_path), headers=["X-Test-Ascii: 1"])
    got = json_answer(r)
    assert got == dashscope(body)
    assert max(r.body) < 0x80
    assert b"\\u00e9" in r.body and b"\\ud83e\\udd14" in r.body and b"\\u201c" in r.body


def test_curl_piped_to_jq(server, tmp_path):
    """The shell scripts this is for: `curl -d @req.json ... | jq`."""
    f = tmp_path / "req.json"
    body = chat_body(MODEL, "for jq", stream=None)
    f.write_bytes(body)
    script = (f"{CURL} -sS {server.openai_url()} -H 'Content-Type: application/json' "
              f"-d @{f} | jq -r '.choices[0].message.content, .usage.total_tokens'")
    r = run(["/bin/sh", "-c", script], env=so_env(tmp_path))
    assert r.returncode == 0, r.stderr
    want = dashscope(body)
    assert r.stdout.decode() == "%s\n%d\n" % (want["choices"][0]["message"]["content"],
                                               want["usage"]["total_tokens"])


def test_program_stream_options_are_kept(server, tmp_path):
    """A body that has stream_options already gets "stream": true only."""
    body = chat_body(MODEL, "own options", stream=None, stream_options={"include_usage": True})
    server.clear()
    r = post(server.openai_url(), body, env=so_env(tmp_path))
    sent = only_request(server)["body"]
    check_sent(sent, body, options=True)
    assert sent.count(b"stream_options") == 1
    assert json_answer(r) == dashscope(body)


def test_pretty_printed_body(server, tmp_path):
    """A body as a person writes it in a file (`curl -d @req.json`):
    indented, newline at the end, "stream": false in the middle."""
    body = (b'{\n  "model": "qwq-plus",\n  "stream": false,\n  "messages": [\n'
            b'    {"role": "user", "content": "pretty \\u00e9"}\n  ]\n}\n')
    server.clear()
    r = post(server.openai_url(), body, env=so_env(tmp_path))
    check_sent(only_request(server)["body"], body, options=True)
    assert json_answer(r) == dashscope(body)


def test_azure_deployment_matches(server, tmp_path):
    """Azure: the deployment decides, the body's model is ignored."""
    url = server.azure_url("qwq-plus")
    body = chat_body("whatever", "on Azure", stream=None)
    server.clear()
    r = post(url, body, env=so_env(tmp_path), headers=[AZURE_KEY])
    assert r.rc == 0, r
    req = only_request(server)
    check_sent(req["body"], body, options=True)
    assert req.header("api-key") == "sk-azure-SECRET-1234"
    assert json_answer(r) == dashscope(body, "qwq-plus")
    # a deployment that does not match is left alone, whatever the body says
    body = chat_body("qwq-plus", "on Azure", stream=None)
    server.clear()
    a = post(server.azure_url("gpt-4o"), body, env=plain_env(), headers=[AZURE_KEY])
    b = post(server.azure_url("gpt-4o"), body, env=so_env(tmp_path), headers=[AZURE_KEY])
    first, second = server.requests()
    assert first["body"] == second["body"] == body
    assert json.loads(a.body) == json.loads(b.body) and b.header("Content-Length") == \
        a.header("Content-Length")


def strip_volatile(head):
    return [(k, v) for k, v in head if k.lower() not in ("date", "x-request-id")]


@pytest.mark.parametrize("case", ["other-model", "streaming-request", "not-llm"])
def test_configured_leaves_the_rest_alone(server, tmp_path, case):
    """Another model, a request that streams already (DashScope's own
    stream) and a URL that is no LLM endpoint pass byte for byte."""
    url = server.openai_url()
    body = {"other-model": chat_body("gpt-4o", stream=None),
            "streaming-request": chat_body(MODEL, stream_options={"include_usage": True}),
            "not-llm": chat_body(MODEL, stream=None)}[case]
    if case == "not-llm":
        url = server.url + "/echo"
    server.clear()
    a = post(url, body, env=plain_env())
    b = post(url, body, env=so_env(tmp_path))
    first, second = server.requests()
    assert first["body"] == second["body"] == body
    assert (a.rc, a.status, strip_volatile(a.fields), a.body, a.info) == \
        (b.rc, b.status, strip_volatile(b.fields), b.body, b.info)


def test_force_mode_applies_the_configuration_only(server, tmp_path):
    body = chat_body(MODEL, stream=None)
    r = post(server.openai_url(), body, env=shim_env(mode="force"))
    assert r.status == 400 and json.loads(r.body)["error"]["code"] == "invalid_parameter_error"
    server.clear()
    r = post(server.openai_url(), body, env=so_env(tmp_path, mode="force"))
    check_sent(only_request(server)["body"], body, options=True)
    assert json_answer(r) == dashscope(body)


def test_mode_off_passes_everything(server, tmp_path):
    body = chat_body(MODEL, stream=None)
    server.clear()
    r = post(server.openai_url(), body, env=so_env(tmp_path, mode="off"))
    assert only_request(server)["body"] == body
    assert r.status == 400


# =============================================================================
# Auto mode: refused, retried streaming, learned

WORDINGS = [("dashscope", "qwq-plus", {}),
            ("thinking", "qwen3-235b-a22b", {"enable_thinking": True}),
            ("thinking-zh", "qwen3-32b", {"enable_thinking": True})]


@pytest.mark.parametrize("wording,model,members", WORDINGS, ids=[w[0] for w in WORDINGS])
@pytest.mark.parametrize("fail", [[], ["-f"]], ids=["plain", "f"])
def test_auto_refusal_is_retried_streaming_and_learned(server, tmp_path, wording, model,
                                                       members, fail):
    """The request goes out as written; DashScope's 400 never reaches the
    program: the retry streams and the program gets the one JSON answer.
    A new process (the same cache file) sends it streaming at once."""
    body = chat_body(model, "auto, please", stream=None, **members)
    hdr = [f"X-Test-Stream-Only-Refusal: {wording}"]
    env = auto_env(tmp_path)
    server.clear()
    r = post(server.openai_url(), body, *fail, env=env, headers=hdr)
    assert r.rc == 0 and r.stderr == b"", r
    first, retry = server.requests()
    assert first["body"] == body  # the program's own request first
    status, refusal = sent_for(server, first)
    assert status == 400 and srv.STREAM_ONLY_MESSAGES[wording].encode() in refusal
    check_sent(retry["body"], body, options=True)
    assert [b[0].split()[1] for b in r.blocks] == ["200"]  # no trace of the 400
    assert json_answer(r) == dashscope(body, model)
    assert b"invalid_parameter_error" not in r.body
    assert model in learned_text(tmp_path)
    # learned: the next process sends it streaming at once
    server.clear()
    r = post(server.openai_url(), body, *fail, env=env, headers=hdr)
    check_sent(only_request(server)["body"], body, options=True)
    assert json_answer(r) == dashscope(body, model)
    # the log names the decision for the model, and says it was learned
    second_run = [l for l in log_text(tmp_path).splitlines() if model in l]
    assert any("learned" in l for l in second_run), log_text(tmp_path)


def test_auto_learned_within_the_process(server, tmp_path):
    """Two transfers in one curl run: the second goes out streaming at once
    (learned in memory), both get the JSON answer."""
    body = chat_body(MODEL, "twice", stream=None)
    f = tmp_path / "b.json"
    f.write_bytes(body)
    out1, out2 = tmp_path / "o1", tmp_path / "o2"
    server.clear()
    r = run([CURL, "-sS", server.openai_url(), "-H", "Content-Type: application/json",
             "--data-binary", f"@{f}", "-o", out1, "--next",
             server.openai_url(), "-H", "Content-Type: application/json",
             "--data-binary", f"@{f}", "-o", out2], env=auto_env(tmp_path, cache="off"))
    assert r.returncode == 0, r.stderr
    refused, retry, second = server.requests()
    assert refused["body"] == body
    check_sent(retry["body"], body, options=True)
    check_sent(second["body"], body, options=True)
    assert json.loads(out1.read_bytes()) == json.loads(out2.read_bytes()) == dashscope(body)


def test_auto_learning_is_per_credential(server, tmp_path):
    env = auto_env(tmp_path)
    body = chat_body(MODEL, stream=None)
    post(server.openai_url(), body, env=env, headers=["Authorization: Bearer sk-one-SECRET"])
    server.clear()
    r = post(server.openai_url(), body, env=env, headers=["Authorization: Bearer sk-two-SECRET"])
    first, retry = server.requests()  # another account: tried as written again
    assert first["body"] == body
    check_sent(retry["body"], body, options=True)
    assert json_answer(r) == dashscope(body)
    text = learned_text(tmp_path) + log_text(tmp_path)
    assert "SECRET" not in text


def test_auto_azure_deployment(server, tmp_path):
    url = server.azure_url("qwq-plus")
    body = chat_body("whatever", stream=None)
    server.clear()
    r = post(url, body, env=auto_env(tmp_path), headers=[AZURE_KEY])
    first, retry = server.requests()
    assert first["body"] == body
    check_sent(retry["body"], body, options=True)
    assert json_answer(r) == dashscope(body, "qwq-plus")


@pytest.mark.parametrize("case", ["status-400", "stream-options-400", "other-model"])
@pytest.mark.parametrize("fail", [[], ["-f"], ["--fail-with-body"]], ids=["plain", "f", "fwb"])
def test_auto_other_answers_pass_through_untouched(server, tmp_path, case, fail):
    """A 400 that is no stream-only refusal (the test server's error, and
    OpenAI's "stream_options only allowed when stream is enabled"), and an
    ordinary JSON answer: exactly what the program gets without the shim,
    sent once, nothing learned."""
    headers, body = [], chat_body(MODEL, stream=None)
    if case == "status-400":
        headers = ["X-Test-Status: 400"]
    elif case == "stream-options-400":
        body = chat_body("gpt-4o", stream=None, stream_options={"include_usage": True})
    else:
        body = chat_body("gpt-4o", stream=None)
    server.clear()
    a = post(server.openai_url(), body, *fail, env=plain_env(), headers=headers)
    b = post(server.openai_url(), body, *fail, env=auto_env(tmp_path), headers=headers)
    assert (a.rc, a.status, strip_volatile(a.fields), a.body, a.info, a.stderr) == \
        (b.rc, b.status, strip_volatile(b.fields), b.body, b.info, b.stderr)
    first, second = server.requests()
    assert first["body"] == second["body"] == body
    assert not (tmp_path / "refusals").exists() and learned_text(tmp_path) == ""


def test_auto_retry_whose_stream_is_an_error(server, tmp_path):
    """The streaming retry's stream is an error event: the program gets
    that error as the non-streaming API gives it (its status, its body),
    nothing of the refusal."""
    body = chat_body(MODEL, stream=None)
    server.clear()
    r = post(server.openai_url(), body, env=auto_env(tmp_path), headers=["X-Test-Stream-Error: 0"])
    first, retry = server.requests()
    assert first["body"] == body
    check_sent(retry["body"], body, options=True)
    got = json_answer(r, 500)
    assert got == json.loads(srv.stream_error_event("chat", 0)[len(b"data: "):])


# =============================================================================
# Errors inside the stream, cut streams, incomplete streams

@pytest.mark.parametrize("n", [0, 3])
@pytest.mark.parametrize("etype,status", [(None, 500), ("rate_limit_error", 429),
                                          ("invalid_request_error", 400),
                                          ("overloaded_error", 529)])
def test_chat_error_event_becomes_the_error_answer(server, tmp_path, n, etype, status):
    """{"error": {...}} in the stream: the status its type stands for, the
    error as the body (what the non-streaming API answers)."""
    body = chat_body(MODEL, "an error", stream=None)
    hdr = [f"X-Test-Stream-Error: {n}"] + ([f"X-Test-Stream-Error-Type: {etype}"] if etype else [])
    server.clear()
    r = post(server.openai_url(), body, env=so_env(tmp_path), headers=hdr)
    assert r.rc == 0, r
    check_sent(only_request(server)["body"], body, options=True)
    want = json.loads(srv.stream_error_event("chat", n, etype)[len(b"data: "):])
    assert json_answer(r, status) == want
    # curl -f: libcurl's failure for that status, no body
    r = post(server.openai_url(), body, "-f", env=so_env(tmp_path), headers=hdr)
    assert r.rc == 22 and r.body == b"", r
    assert r.stderr == f"curl: (22) The requested URL returned error: {status}\n".encode()


@pytest.mark.parametrize("shape,fixture,status", [("messages", "text-basic", 529),
                                                  ("responses", "text-escapes-ascii", 500),
                                                  ("completions", "text-basic", 500)])
def test_error_event_of_other_shapes(server, tmp_path, shape, fixture, status):
    """Anthropic's `event: error` (overloaded_error: 529, the event's data as
    the body), the Responses API's `event: error` (server_error: 500) and a
    legacy Completions error chunk (500), after three events."""
    f, _ = transcript(tmp_path, server, shape, fixture)
    body = request_body(shape)
    server.clear()
    r = post(server.url + ROUTES[shape], body, env=so_env(tmp_path),
             headers=[f"X-Test-Stream-File: {f}", "X-Test-Stream-Error: 3",
                      "x-api-key: test", "anthropic-version: 2023-06-01"])
    assert r.rc == 0, r
    check_sent(only_request(server)["body"], body, options=WITH_OPTIONS[shape])
    got = json_answer(r, status)
    event = srv.stream_error_event(shape, 3)
    data = json.loads(event.split(b"data: ", 1)[1])
    if shape == "responses":
        # the error the API answers: its message and code, whatever the wrapping
        err = got.get("error", got)
        assert err["message"] == srv.STREAM_ERROR_MESSAGE
        assert "server_error" in (err.get("code"), err.get("type"))
    else:
        assert got == data


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_stream_cut_short_passes_through(server, tmp_path, gzip):
    """The connection drops mid-stream: the program gets the raw events and
    libcurl's error (18), and the log says why."""
    body = chat_body(MODEL, "cut", stream=None)
    hdr = ["X-Test-Stream-Cut: 4"] + (["X-Test-Stream-Gzip: 1"] if gzip else [])
    server.clear()
    r = post(server.openai_url(), body, *(["--compressed"] if gzip else []),
             env=so_env(tmp_path), headers=hdr)
    assert r.rc == 18, r
    req = only_request(server)
    check_sent(req["body"], body, options=True)
    assert raw_stream(r) == sent_for(server, req)[1]
    assert r.body.count(b"data: ") == 4
    assert "passed through unchanged" in log_text(tmp_path)


@pytest.mark.parametrize("shape,n", [("chat", 4), ("messages", 3), ("responses", 3),
                                     ("completions", 2)])
def test_clean_but_incomplete_stream_passes_through(server, tmp_path, shape, n):
    """The body ends cleanly before [DONE] with a choice unfinished, before
    message_stop, before response.completed: the raw events reach the
    program, text/event-stream, exit 0."""
    hdr = [f"X-Test-Stream-End: {n}", "x-api-key: test", "anthropic-version: 2023-06-01"]
    if shape == "chat":
        body = chat_body(MODEL, "incomplete", stream=None)
    else:
        f, _ = transcript(tmp_path, server, shape, "text-basic" if shape != "responses"
                          else "text-escapes-ascii")
        body = request_body(shape)
        hdr.append(f"X-Test-Stream-File: {f}")
    server.clear()
    r = post(server.url + ROUTES[shape], body, env=so_env(tmp_path), headers=hdr)
    assert r.rc == 0, r
    req = only_request(server)
    check_sent(req["body"], body, options=WITH_OPTIONS[shape])
    assert raw_stream(r) == sent_for(server, req)[1]
    assert len(srv.split_events(r.body)) == n
    assert "passed through unchanged" in log_text(tmp_path)
