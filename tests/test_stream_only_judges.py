"""The corpus round trip, judged by the official SDKs: for every answer of
tests/fixtures/{chat,completions,responses,messages}, the stream it stands
for (the de-streaming shim's own replay, which the judge tests prove the
SDKs rebuild into that answer) is served to a *non-streaming* request of a
stream-only model (X-Test-Stream-File), and the program (the curl CLI
under the shim, STREAMSHIM_STREAM_ONLY=qwq*) must get:

- exactly the answer as the non-streaming API gives it, compared as a
  value: the fixture itself, except the members a stream cannot carry
  (chat_expected() lists each; Responses and Messages have none);
- on the members the SDK keeps, what the official SDK accumulates from
  the same stream (openai 6.49 ChatCompletionStream, the legacy
  completions join, ResponseStream's final response, @anthropic-ai/sdk
  MessageStream);
- the headers of a non-streamed answer: 200, Content-Type:
  application/json, Content-Length the body's, no Transfer-Encoding;

and the server must have received the program's body plus "stream": true
(and, for chat and completions, "stream_options":{"include_usage":true})
only. Before the shim runs, each test checks that a literal join of the
transcript (below: join_chat, join_completions, the terminal event of a
Responses stream, test_judge_messages.check_stream) gives the expected
answer: the expectations follow from the stream, not from the shim.

One curl invocation makes the transcript, one the round trip; the judge
process is the session's."""

import copy
import json

import pytest

from conftest import ROOT
from sse import parse_sse
from test_judge_messages import check_stream as messages_rebuild, events_of
from test_judge_messages import sdk_clean as messages_sdk_clean
from test_judge_responses import sdk_clean as responses_sdk_clean
from test_judges import STREAMED, sdk_clean as chat_sdk_clean, sdk_kept
from test_stream_only import (AZURE_KEY, GLOB, ROUTES, WITH_OPTIONS, check_sent, json_answer,
                              only_request, post, request_body, so_env, transcript)

pytestmark = pytest.mark.needs_lib

FIX = ROOT / "tests" / "fixtures"


def corpus(shape):
    return sorted(f for f in (FIX / shape).glob("*.json") if not f.stem.startswith("refused-"))


CHAT = corpus("chat")
COMPLETIONS = corpus("completions")
RESPONSES = corpus("responses")
MESSAGES = corpus("messages")

ANTHROPIC = ["x-api-key: test", "anthropic-version: 2023-06-01"]


# --- literal joins of a transcript (what the events carry) ----------------------

def join_chat(stream):
    """The chat.completion the chunks of `stream` carry, joined literally: a
    member is there when a chunk carried it; content, refusal and
    reasoning_content are the concatenation of their string pieces (a null
    piece adds nothing; only nulls: null); tool calls merged by index,
    their arguments concatenated; logprobs: the first object, with every
    later chunk's entries appended; finish_reason the last non-null one;
    content_filter_results as the chunks carry it; the metadata from the
    chunks; Azure's first chunk gives prompt_filter_results; usage from
    the usage chunk (null when chunks said only "usage": null)."""
    out, choices, saw_usage, usage = {}, {}, False, None
    for ev in parse_sse(stream):
        if ev.data == "[DONE]":
            break
        c = json.loads(ev.data)
        assert "error" not in c, ev.data
        if "prompt_filter_results" in c:
            out["prompt_filter_results"] = c["prompt_filter_results"]
        if c.get("id") == "" and c.get("choices") == []:  # Azure's filter chunk
            continue
        for k in ("id", "created", "model", "system_fingerprint", "service_tier"):
            if k in c:
                out[k] = c[k]
        if "usage" in c:
            saw_usage = True
            usage = c["usage"] if c["usage"] is not None else usage
        for ch in c["choices"]:
            s = choices.setdefault(ch["index"], {"index": ch["index"], "message": {},
                                                 "logprobs": None, "finish_reason": None})
            if ch.get("finish_reason") is not None:
                s["finish_reason"] = ch["finish_reason"]
            if "content_filter_results" in ch:
                s["content_filter_results"] = ch["content_filter_results"]
            lp = ch.get("logprobs")
            if lp is not None:
                if s["logprobs"] is None:
                    s["logprobs"] = copy.deepcopy(lp)
                else:
                    for k in ("content", "refusal"):
                        if lp.get(k):
                            s["logprobs"][k] = (s["logprobs"].get(k) or []) + lp[k]
            m = s["message"]
            for k, v in (ch.get("delta") or {}).items():
                if k in ("content", "refusal", "reasoning_content"):
                    m[k] = (m.get(k) or "") + v if isinstance(v, str) else m.get(k)
                elif k == "tool_calls":
                    calls = m.setdefault("tool_calls", [])
                    for t in v:
                        while len(calls) <= t["index"]:
                            calls.append({})
                        d = calls[t["index"]]
                        d.update({kk: t[kk] for kk in ("id", "type") if kk in t})
                        if "function" in t:
                            f = d.setdefault("function", {})
                            if "name" in t["function"]:
                                f["name"] = t["function"]["name"]
                            f["arguments"] = f.get("arguments", "") + \
                                t["function"].get("arguments", "")
                elif k == "function_call":
                    f = m.setdefault("function_call", {})
                    if "name" in v:
                        f["name"] = v["name"]
                    f["arguments"] = f.get("arguments", "") + v.get("arguments", "")
                else:
                    m[k] = v
    out["object"] = "chat.completion"
    out["choices"] = [choices[i] for i in sorted(choices)]
    if usage is not None or saw_usage:
        out["usage"] = usage
    return out


def join_completions(stream):
    """The text_completion legacy chunks carry, joined literally: text per
    choice concatenated, logprobs arrays concatenated (null stays null),
    finish_reason the last non-null, usage from the usage chunk."""
    out, choices, saw_usage, usage = {}, {}, False, None
    for ev in parse_sse(stream):
        if ev.data == "[DONE]":
            break
        c = json.loads(ev.data)
        for k in ("id", "object", "created", "model", "system_fingerprint"):
            if k in c:
                out[k] = c[k]
        if "usage" in c:
            saw_usage = True
            usage = c["usage"] if c["usage"] is not None else usage
        for ch in c["choices"]:
            s = choices.setdefault(ch["index"], {"index": ch["index"], "text": "",
                                                 "finish_reason": None})
            s["text"] += ch.get("text") or ""
            if ch.get("finish_reason") is not None:
                s["finish_reason"] = ch["finish_reason"]
            if "logprobs" in ch:
                lp = ch["logprobs"]
                if lp is None:
                    s.setdefault("logprobs", None)
                elif s.get("logprobs") is None:
                    s["logprobs"] = copy.deepcopy(lp)
                else:
                    for k, v in lp.items():
                        if isinstance(v, list):
                            s["logprobs"][k] = (s["logprobs"].get(k) or []) + v
    out["choices"] = [choices[i] for i in sorted(choices)]
    if usage is not None or saw_usage:
        out["usage"] = usage
    return out


def terminal_response(stream):
    """The bytes of the terminal Responses event's `response` member, and
    the event's type."""
    block = stream.rstrip(b"\n").rsplit(b"\n\n", 1)[-1]
    name, data = block.split(b"\n", 1)
    assert name.startswith(b"event: response.") and data.startswith(b"data: {")
    head = b'"response":'
    start = data.index(head) + len(head)
    assert data.endswith(b"}")
    value = data[start:-1]
    assert json.loads(data[len(b"data: "):])["response"] == json.loads(value)
    return name[len(b"event: "):].decode(), value


# --- what the program must get ---------------------------------------------------

def chat_expected(answer):
    """The chat.completion a program gets for the stream of `answer`: the
    answer, except what a chat stream does not carry (found by joining
    every replay of the corpus, see join_chat):
    - message.annotations (always [] in the corpus): the encoder sends
      them nowhere (hooks/pure/sse_chat.c), no chunk carries them;
    - top-level members other than the streamed ones (STREAMED: vLLM's
      prompt_logprobs and kv_transfer_params): not streamed;
    - reasoning_content null, function_call null, tool_calls []: nothing
      is streamed for them (text-vllm-empty-tool-calls);
    - a choice without a logprobs member (gpt-5 answers omit it): every
      chunk says "logprobs": null, so the answer has logprobs null;
    - a message without a refusal member (DeepSeek, vLLM): the role chunk
      says "refusal": null, so the message has refusal null.
    Usage absent or null (usage-absent, usage-null) is compared apart:
    every chunk says "usage": null, so neither can be told from the
    other (check_usage)."""
    want = {k: v for k, v in copy.deepcopy(answer).items() if k in STREAMED}
    for c in want["choices"]:
        c.setdefault("logprobs", None)
        m = c["message"]
        m.pop("annotations", None)
        m.setdefault("refusal", None)
        for k in ("reasoning_content", "function_call"):
            if m.get(k) is None:
                m.pop(k, None)
        if m.get("tool_calls") == []:
            m.pop("tool_calls")
    return want


def same_answer(got, want):
    """got == want, where a usage absent or null in want may be either in
    got (every chunk says "usage": null: the stream cannot tell them apart)."""
    got, want = copy.deepcopy(got), copy.deepcopy(want)
    if want.get("usage") is None:
        want.pop("usage", None)
        assert got.pop("usage", None) is None, got
    assert got == want


def stream_file(tmp_path, server, shape, name):
    """The transcript of fixture shape/name: (file, bytes)."""
    return transcript(tmp_path, server, shape, name)


def round_trip(tmp_path, server, shape, f, route=None, extra_headers=()):
    """Serve transcript f to a non-streaming request of qwq-plus through the
    shim (configured) with the curl CLI: the reply, after checking that the
    server got the program's body plus the stream members only."""
    body = request_body(shape)
    headers = [f"X-Test-Stream-File: {f}", *extra_headers]
    if shape == "messages":
        headers += ANTHROPIC
    server.clear()
    r = post(server.url + (route or ROUTES[shape]), body, env=so_env(tmp_path, GLOB),
             headers=headers)
    assert r.rc == 0, r
    req = only_request(server)
    check_sent(req["body"], body, options=WITH_OPTIONS[shape])
    return r


# --- Chat Completions -------------------------------------------------------------

@pytest.mark.parametrize("fixture", CHAT, ids=[f.stem for f in CHAT])
def test_chat_round_trip(server, judge, tmp_path, fixture):
    answer = json.loads(fixture.read_bytes())
    want = chat_expected(answer)
    f, stream = stream_file(tmp_path, server, "chat", fixture.stem)
    same_answer(join_chat(stream), want)  # the expectation follows from the stream
    r = round_trip(tmp_path, server, "chat", f)
    got = json_answer(r)
    assert chat_sdk_clean(judge("chat", stream)) == sdk_kept(got, True)
    same_answer(got, want)


AZURE_CHAT = [f for f in CHAT if "azure" in f.stem]


@pytest.mark.parametrize("fixture", AZURE_CHAT, ids=[f.stem for f in AZURE_CHAT])
def test_chat_round_trip_on_azure(server, judge, tmp_path, fixture):
    """Azure's filter results (prompt_filter_results in a first chunk of
    its own, content_filter_results on each choice's chunks) come back in
    the answer; the deployment matches the glob."""
    answer = json.loads(fixture.read_bytes())
    route = "/openai/deployments/qwq-plus/chat/completions?api-version=2024-12-01-preview"
    f, stream = stream_file(tmp_path, server, "chat", fixture.stem)
    r = round_trip(tmp_path, server, "chat", f, route=route, extra_headers=[AZURE_KEY])
    got = json_answer(r)
    assert got["prompt_filter_results"] == answer["prompt_filter_results"]
    assert chat_sdk_clean(judge("chat", stream)) == sdk_kept(got, True)
    same_answer(got, chat_expected(answer))


# --- legacy Completions -------------------------------------------------------------

@pytest.mark.parametrize("fixture", COMPLETIONS, ids=[f.stem for f in COMPLETIONS])
def test_completions_round_trip(server, judge, tmp_path, fixture):
    """Legacy Completions: the answer exactly (nothing it has is left out
    of the stream)."""
    answer = json.loads(fixture.read_bytes())
    f, stream = stream_file(tmp_path, server, "completions", fixture.stem)
    same_answer(join_completions(stream), answer)
    r = round_trip(tmp_path, server, "completions", f)
    got = json_answer(r)
    kept = {k: v for k, v in got.items() if k in STREAMED}
    if kept.get("usage") is None:
        kept.pop("usage", None)
    assert judge("completions", stream, include_usage=True) == kept
    same_answer(got, answer)


# --- Responses ------------------------------------------------------------------------

TERMINAL = {"completed": "response.completed", "incomplete": "response.incomplete",
            "failed": "response.failed"}


@pytest.mark.parametrize("fixture", RESPONSES, ids=[f.stem for f in RESPONSES])
def test_responses_round_trip(server, judge, tmp_path, fixture):
    """The answer is the terminal event's response, byte for byte (the
    incomplete and failed answers too: their terminal events carry the
    response the non-streaming API answers with 200)."""
    answer = json.loads(fixture.read_bytes())
    f, stream = stream_file(tmp_path, server, "responses", fixture.stem)
    kind, raw = terminal_response(stream)
    assert kind == TERMINAL[answer["status"]] and json.loads(raw) == answer
    r = round_trip(tmp_path, server, "responses", f)
    got = json_answer(r)
    final = judge("responses", stream, items=True)["final"]
    assert responses_sdk_clean(final, got) == got
    assert got == answer
    assert r.body == raw


AZURE_RESPONSES = ["azure-o3-mini", "function-call-single", "text-escapes-ascii"]
AZURE_ROUTES = ["/openai/responses?api-version=2025-04-01-preview", "/openai/v1/responses"]


@pytest.mark.parametrize("route", AZURE_ROUTES, ids=["azure", "azure-v1"])
@pytest.mark.parametrize("name", AZURE_RESPONSES)
def test_responses_round_trip_on_azure(server, tmp_path, name, route):
    answer = json.loads((FIX / "responses" / f"{name}.json").read_bytes())
    f, stream = stream_file(tmp_path, server, "responses", name)
    r = round_trip(tmp_path, server, "responses", f, route=route, extra_headers=[AZURE_KEY])
    assert json_answer(r) == answer
    assert r.body == terminal_response(stream)[1]


def test_responses_item_the_encoder_refuses(server, tmp_path):
    """An image_generation_call item cannot be replayed from JSON
    (refused-image-generation), but the way back needs no item events: the
    terminal event's response is the answer. A minimal stream of it."""
    raw = (FIX / "responses" / "refused-image-generation.json").read_bytes()
    answer = json.loads(raw)
    start = dict(answer, status="in_progress", output=[], usage=None)
    events = [("response.created", {"type": "response.created", "sequence_number": 0,
                                    "response": start}),
              ("response.in_progress", {"type": "response.in_progress", "sequence_number": 1,
                                        "response": start})]
    stream = b"".join(f"event: {t}\ndata: ".encode() + json.dumps(d).encode() + b"\n\n"
                      for t, d in events)
    compact = json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()
    stream += (b'event: response.completed\ndata: {"type":"response.completed",'
               b'"sequence_number":2,"response":' + compact + b"}\n\n")
    f = tmp_path / "image.sse"
    f.write_bytes(stream)
    body = request_body("responses")
    server.clear()
    r = post(server.url + "/v1/responses", body, env=so_env(tmp_path),
             headers=[f"X-Test-Stream-File: {f}"])
    check_sent(only_request(server)["body"], body, options=False)
    assert r.body == compact
    assert json_answer(r) == answer


# --- Anthropic Messages -------------------------------------------------------------

@pytest.mark.parametrize("fixture", MESSAGES, ids=[f.stem for f in MESSAGES])
def test_messages_round_trip(server, judge, tmp_path, fixture):
    answer = json.loads(fixture.read_bytes())
    f, stream = stream_file(tmp_path, server, "messages", fixture.stem)
    assert messages_rebuild(events_of(stream), answer) == answer
    r = round_trip(tmp_path, server, "messages", f)
    got = json_answer(r)
    assert messages_sdk_clean(judge("messages", stream)) == got
    assert got == answer
