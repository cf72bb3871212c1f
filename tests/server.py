#!/usr/bin/python3
"""Loopback test server that behaves like an LLM deployment refusing streaming.

Standard library only. Run it as a program (see --help) or import it for the
answer builders (`build_answer`, `build_stream`; for the stream-only models
`dashscope_answer`, `dashscope_stream`, `dashscope_events`; for transcripts
`split_events`, `stream_error_event`, `stream_only_refusal`) to compute
expectations.

Routes (POST, JSON body):
  /v1/chat/completions, /openai/v1/chat/completions,
  /compatible-mode/v1/chat/completions (DashScope)         OpenAI style; the
      model comes from the body; non-stream answers are pretty-printed with
      two-space indent, as api.openai.com does.
  /v1/completions, /v1/responses, /openai/v1/responses, /openai/responses,
  /v1/messages      canned answers only (X-Test-Fixture), refusals as for chat.
  /openai/deployments/{deployment}/chat/completions?api-version=...
      Azure style; the deployment is the model (the body's model is ignored);
      needs a non-empty `api-key` header (else 401) and an api-version query
      (else 404); answers are compact JSON.
  POST /echo           returns the request body (application/octet-stream).
  GET  /plain/N        N deterministic bytes (see plain_bytes()).
  GET  /healthz        200 "ok".

Behaviour of the chat routes:
  - body not JSON (or not an object) -> 400 invalid_request_error
  - `stream_options` present while `stream` is not true -> 400 (OpenAI text)
  - model matching --refuse with stream true -> 400, the Azure o3-mini body
  - stream false/absent -> one chat.completion JSON (Content-Length)
  - other models with stream true -> native SSE (chunked)
  - model matching --stream-only (default qwq*,qwen3*,qwen-omni*, as Alibaba
    DashScope's OpenAI-compatible mode) without `"stream": true` -> 400 with
    DashScope's body ({"error":{"code":"invalid_parameter_error","param":null,
    "message":"This model only support stream mode, ...","type":
    "invalid_request_error"},"id":"chatcmpl-...","request_id":"..."}, a fresh
    id and request_id each time; stream_only_refusal()), on every LLM route;
    with `"stream": true` on the chat routes -> DashScope's native stream of
    dashscope_answer(): reasoning_content pieces, then the content, in
    DashScope's chunk shape ("usage":null and "system_fingerprint":null on
    every chunk, no service_tier), the include_usage chunk ("choices":[])
    when asked, then data: [DONE] (dashscope_events()).
The answer is chosen by the last user message:
  "long:N" content of exactly N UTF-8 bytes; "empty" content "";
  "finish:length" finish_reason "length"; "refusal" a refusal message;
  "tool_call" / "tool_call:N" N tool calls to the request's first tool (only
  when the request has `tools`); otherwise a few sentences with non-ASCII and
  JSON escapes that quote the start of the prompt. `n` (1..8) gives n choices.

Test knobs (request headers):
  X-Test-Delay: S       sleep S seconds before sending anything (100 Continue
                        included)
  X-Test-Event-Delay: S sleep S seconds between SSE events / body chunks
  X-Test-Chunked: 1     JSON bodies with Transfer-Encoding: chunked, small chunks
  X-Test-Gzip: 0|1|force  JSON bodies are gzipped when Accept-Encoding allows
                        gzip (1 or absent); 0 never; force even if not allowed
  X-Test-Status: N      answer status N with a JSON error body
  X-Test-Refusal: NAME  which refusal a refusing model gets for stream:true
                        (REFUSALS: azure (default), o1-preview, verify, relay,
                        llamacpp, plain500: text, not JSON)
  X-Test-Nonstream-Status: N  answer non-streaming requests with status N
                        (a retry without stream that fails)
  X-Test-Ascii: 1       JSON with ensure_ascii (\\uXXXX escapes, surrogate pairs)
  X-Test-Close: 1       answer with Connection: close and close the socket
  X-Test-Truncate: N    send only the first N bytes of a JSON body, then close
  X-Test-Fixture: NAME  answer a non-stream request with tests/fixtures/SHAPE/NAME.json,
                        SHAPE by route (SHAPES: chat, completions, responses,
                        messages); the shapes other than chat have only these
  X-Test-Encoding: E    br or zstd: compress JSON bodies with that coding
  X-Test-Auth: U:P      401 with a Basic challenge unless the request has it
  X-Test-Header: N: V   add the field N: V to the answer (may repeat)
  X-Test-Info-Header: N: V  add it to the 100 Continue answer (may repeat)
  X-Test-Trailer: N: V  send it as a trailer of a chunked answer (may repeat)
  X-Test-Ignore-Stream: 1  answer a "stream": true request as if it did not
                        stream (one JSON answer: a server that ignores it)
  X-Test-Empty-Body: 1  with X-Test-Status: an empty body (Content-Length: 0)
  X-Test-Stream-Only-Refusal: dashscope|thinking|thinking-zh  the wording of a
                        stream-only model's refusal: "This model only support
                        stream mode, ..." (dashscope), "parameter.enable_thinking
                        must be set to false for non-streaming calls" (thinking)
                        or its Chinese form (thinking-zh); absent: thinking when
                        the body has "enable_thinking": true, else dashscope
Stream knobs (every SSE answer: native chat, DashScope, X-Test-Stream-File;
N counts the events of the stream as it would have been sent):
  X-Test-Stream-File: PATH  a "stream": true request on any LLM route (chat,
                        Azure, completions, responses, messages; before any
                        refusal) gets PATH's bytes as its SSE answer: 200,
                        text/event-stream, chunked, one chunk per event (split
                        after each blank line; bytes after the last one are a
                        chunk of their own)
  X-Test-Stream-Gzip: 1 the stream is gzip-encoded (Content-Encoding: gzip),
                        incrementally: a sync flush per event, when
                        Accept-Encoding allows gzip
  X-Test-Stream-Error: N  after N events, an error event in the route's shape
                        (stream_error_event(): chat and completions a data: line
                        {"error":{"message":...,"type":"server_error","param":
                        null,"code":null}}; messages event: error with {"type":
                        "error","error":{"type":"overloaded_error","message":
                        "Overloaded"}}; responses event: error with {"type":
                        "error","code":"server_error","message":...,"param":null,
                        "sequence_number":N}), then the body ends cleanly
  X-Test-Stream-Error-Type: T  the error's type (chat, messages) or code
                        (responses) instead of the default
  X-Test-Stream-Cut: N  after N events, close the connection without the final
                        chunk (a stream cut short: curl exits 18)
  X-Test-Stream-End: N  after N events, end the chunked body cleanly (no [DONE],
                        no terminal event)
  What a stream sent (after the knobs, before the gzip coding) is logged as for
  every answer (LOG.sent, ServerProcess.sent()).
  (path /redirect/...)  307 to the same path without /redirect
  POST /dns-query       a DNS-over-HTTPS answer: 127.0.0.1 for every name
Every response carries x-request-id (req_<n>_<hex>).
"""

import argparse
import base64
import fnmatch
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import uuid
import zlib
from pathlib import Path
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

REFUSAL_BODY = (b'{"error":{"message":"Unsupported value: \'stream\' does not support true'
                b' with this model. Supported values are: false.","type":'
                b'"invalid_request_error","param":"stream","code":"unsupported_value"}}')
STREAM_OPTIONS_BODY = (b'{"error":{"message":"The \'stream_options\' parameter is only allowed'
                       b' when \'stream\' is enabled.","type":"invalid_request_error",'
                       b'"param":"stream_options","code":null}}')
# The refusals of the public record (README, "Which models refused
# streaming"), and what other servers say (for user rules), by
# X-Test-Refusal name.
REFUSALS = {
    "azure": (400, REFUSAL_BODY),
    "o1-preview": (400, b'{"error":{"message":"Unsupported value: \'stream\' does not support'
                        b' true with this model. Only the default (false) value is supported.",'
                        b'"type":"invalid_request_error","param":"stream","code":'
                        b'"unsupported_value"}}'),
    "verify": (400, b'{\n  "error": {\n    "message": "Your organization must be verified to'
                    b' stream this model. Please go to: https://platform.openai.com/settings/'
                    b'organization/general and click on Verify Organization. If you just'
                    b' verified, it can take up to 15 minutes for access to propagate.",\n'
                    b'    "type": "invalid_request_error",\n    "param": "stream",\n'
                    b'    "code": "unsupported_value"\n  }\n}\n'),
    "relay": (400, b'{"error":{"message":"Unsupported value: \'stream\' does not support true'
                   b' with this model. Supported values are: false. (request id:'
                   b' 2025020112345678901234567890)","type":"invalid_request_error",'
                   b'"param":"stream","code":"unsupported_value"}}'),
    "llamacpp": (500, b'{"error":{"code":500,"message":"Cannot use tools with stream",'
                      b'"type":"server_error"}}'),
    "plain500": (500, b"streaming is not available for this model\n", "text/plain"),
}
AZURE_401_BODY = (b'{"error":{"code":"401","message":"Access denied due to invalid subscription'
                  b' key or wrong API endpoint. Make sure to provide a valid key for an active'
                  b' subscription and use a correct regional API endpoint for your resource."}}')
AZURE_404_BODY = b'{"error":{"code":"404","message":"Resource not found"}}'

DEFAULT_REFUSE = "o3-mini*,o1*"
# Alibaba DashScope's OpenAI-compatible mode answers these only streaming.
DEFAULT_STREAM_ONLY = "qwq*,qwen3*,qwen-omni*"
# The messages of DashScope's refusals of a non-streaming request, by
# X-Test-Stream-Only-Refusal name (the trailing blank is DashScope's own).
STREAM_ONLY_MESSAGES = {
    "dashscope": "This model only support stream mode, please enable the stream parameter"
                 " to access the model. ",
    "thinking": "parameter.enable_thinking must be set to false for non-streaming calls",
    "thinking-zh": "parameter.enable_thinking\u5fc5\u987b\u8bbe\u7f6e\u4e3afalse"
                   "\u624d\u80fd\u8fdb\u884c\u975e\u6d41\u5f0f\u8c03\u7528",
}
# What an error event mid-stream says (chat, completions, responses).
STREAM_ERROR_MESSAGE = ("The server had an error while processing your request."
                        " Sorry about that!")

# Dated snapshots the API reports for a requested model name.
SNAPSHOTS = {
    "o3-mini": "o3-mini-2025-01-31",
    "o1": "o1-2024-12-17",
    "o1-mini": "o1-mini-2024-09-12",
    "o1-preview": "o1-preview-2024-09-12",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4.1": "gpt-4.1-2025-04-14",
}

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# ---------------------------------------------------------------------------
# Answers (pure functions: request dict in, answer dict out)

def request_body(shape, model, **members):
    """A compact non-streaming request of shape (chat, completions,
    responses, messages) for model (the tests' and the fuzz seeds')."""
    body = {"model": model}
    if shape == "chat":
        body["messages"] = [{"role": "user", "content": "judge"}]
    elif shape == "completions":
        body["prompt"] = "judge"
    elif shape == "responses":
        body["input"] = "judge"
    else:
        body.update(max_tokens=1024, messages=[{"role": "user", "content": "judge"}])
    body.update(members)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def model_matches(model, globs):
    """True when model matches one of the comma-separated shell globs."""
    return any(fnmatch.fnmatchcase(model, g.strip()) for g in globs.split(",") if g.strip())


def snapshot_name(model, refusing):
    """The model name an answer reports: a dated snapshot for known names."""
    if model in SNAPSHOTS:
        return SNAPSHOTS[model]
    if refusing and not re.search(r"-\d{4}-\d{2}-\d{2}$", model):
        return model + "-2025-01-31"
    return model


def _digest(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass") if isinstance(p, str) else p)
        h.update(b"\0")
    return h.digest()


def _alnum(digest, n):
    num = int.from_bytes(digest, "big")
    out = []
    for _ in range(n):
        num, r = divmod(num, 62)
        out.append(_ALNUM[r])
    return "".join(out)


def message_text(msg):
    """The text of a chat message whose content is a string or a list of parts."""
    content = msg.get("content") if isinstance(msg, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content
                       if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def last_user_text(req):
    msgs = req.get("messages")
    if isinstance(msgs, list):
        for msg in reversed(msgs):
            if isinstance(msg, dict) and msg.get("role") == "user":
                return message_text(msg)
    return ""


def long_content(n):
    """Deterministic text of exactly n UTF-8 bytes with multi-byte characters
    (2, 3 and 4 bytes) and characters JSON must escape."""
    out, size, i = [], 0, 0
    while size < n:
        line = f"line {i}: caf\u00e9 \u6f22\u5b57 \U0001F600 \"q\" \\ \t end\n"
        b = len(line.encode("utf-8"))
        if size + b > n:
            break
        out.append(line)
        size += b
        i += 1
    out.append("x" * (n - size))
    return "".join(out)


def default_content(prompt):
    quoted = prompt[:60]
    return ("Hello! This is the streamshim test server answering.\n"
            f"You said: \u201c{quoted}\u201d.\n"
            "Here are some characters: caf\u00e9, \u6f22\u5b57 and an emoji \U0001F600.\n"
            "Escapes: a \"quoted\" word, a backslash \\ and a tab\there.\n"
            "The end.")


def answer_choices(req, prompt):
    """The list of (message, finish_reason) for a request."""
    finish = "length" if "finish:length" in prompt else "stop"
    message = {"role": "assistant"}
    m_tool = re.search(r"tool_call(?::(\d+))?", prompt)
    tools = req.get("tools") if isinstance(req.get("tools"), list) else []
    m_long = re.search(r"long:(\d+)", prompt)
    if m_tool and tools:
        count = max(1, min(int(m_tool.group(1) or 1), 16))
        calls = []
        for i in range(count):
            tool = tools[i % len(tools)]
            fn = tool.get("function", {}) if isinstance(tool, dict) else {}
            name = fn.get("name", "tool") if isinstance(fn, dict) else "tool"
            args = json.dumps({"query": f"q{i} caf\u00e9 \"x\"", "n": i}, ensure_ascii=False)
            calls.append({"id": "call_" + _alnum(_digest(prompt, str(i)), 24),
                          "type": "function",
                          "function": {"name": name, "arguments": args}})
        message.update(content=None, tool_calls=calls, refusal=None, annotations=[])
        if finish == "stop":
            finish = "tool_calls"
    elif "refusal" in prompt:
        message.update(content=None, refusal="I'm sorry, I can\u2019t help with that.",
                       annotations=[])
    else:
        if m_long:
            content = long_content(int(m_long.group(1)))
        elif "empty" in prompt:
            content = ""
        else:
            content = default_content(prompt)
        message.update(content=content, refusal=None, annotations=[])
    n = req.get("n") if isinstance(req.get("n"), int) else 1
    n = max(1, min(n, 8))
    out = []
    for i in range(n):
        msg = dict(message)
        if i and isinstance(msg.get("content"), str):
            msg["content"] = msg["content"] + f" [choice {i}]"
        out.append((msg, finish))
    return out


def _tokens(text):
    return max(1, len(text.encode("utf-8")) // 4) if text else 0


def build_answer(req, model, refusing):
    """The chat.completion dict answering request dict `req` for `model`.
    Deterministic: the same model and messages give the same id and created,
    whether or not the request asked for a stream."""
    msgs = json.dumps(req.get("messages"), sort_keys=True, ensure_ascii=False)
    reported = snapshot_name(model, refusing)
    d = _digest(reported, msgs, str(req.get("n")), json.dumps(req.get("tools"), sort_keys=True))
    prompt = last_user_text(req)
    choices = []
    completion = 0
    for i, (msg, finish) in enumerate(answer_choices(req, prompt)):
        choices.append({"index": i, "message": msg, "logprobs": None, "finish_reason": finish})
        completion += _tokens(msg.get("content") or "") + _tokens(msg.get("refusal") or "")
        for call in msg.get("tool_calls") or []:
            completion += _tokens(call["function"]["arguments"]) + 3
    reasoning = 192 if refusing else 0
    completion += reasoning
    prompt_tokens = _tokens(msgs) + 7
    return {
        "id": "chatcmpl-" + _alnum(d, 29),
        "object": "chat.completion",
        "created": 1738000000 + int.from_bytes(d[:4], "big") % 10000000,
        "model": reported,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0,
                                          "rejected_prediction_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_" + d[8:13].hex(),
    }


def split_pieces(text):
    """Token-like pieces: a word with its leading space, or a run of spaces."""
    return re.findall(r"\s*\S{1,8}|\s+", text)


def build_stream(answer, include_usage):
    """The list of chat.completion.chunk dicts a native stream sends for an
    answer (role chunk, pieces, finish chunk per choice, then usage)."""
    head = {k: answer[k] for k in ("id", "created", "model", "service_tier",
                                   "system_fingerprint")}

    def chunk(choices, usage=False):
        c = {"id": head["id"], "object": "chat.completion.chunk", "created": head["created"],
             "model": head["model"], "service_tier": head["service_tier"],
             "system_fingerprint": head["system_fingerprint"], "choices": choices}
        if include_usage:
            c["usage"] = answer["usage"] if usage else None
        return c

    def one(index, delta, finish=None):
        return chunk([{"index": index, "delta": delta, "logprobs": None,
                       "finish_reason": finish}])

    out = []
    for ch in answer["choices"]:
        i, msg = ch["index"], ch["message"]
        calls = msg.get("tool_calls")
        if calls:
            first = {"role": "assistant", "content": None, "refusal": None}
            for k, call in enumerate(calls):
                start = {"index": k, "id": call["id"], "type": call["type"],
                         "function": {"name": call["function"]["name"], "arguments": ""}}
                if k == 0:
                    first["tool_calls"] = [start]
                    out.append(one(i, first))
                else:
                    out.append(one(i, {"tool_calls": [start]}))
                for piece in split_pieces(call["function"]["arguments"]):
                    out.append(one(i, {"tool_calls": [{"index": k,
                                                       "function": {"arguments": piece}}]}))
        elif msg.get("refusal") is not None:
            out.append(one(i, {"role": "assistant", "content": None, "refusal": ""}))
            for piece in split_pieces(msg["refusal"]):
                out.append(one(i, {"refusal": piece}))
        else:
            out.append(one(i, {"role": "assistant", "content": "", "refusal": None}))
            for piece in split_pieces(msg.get("content") or ""):
                out.append(one(i, {"content": piece}))
        out.append(one(i, {}, ch["finish_reason"]))
    if include_usage:
        out.append(chunk([], usage=True))
    return out


SAFE = {"filtered": False, "severity": "safe"}
CHOICE_FILTERS = {"hate": SAFE, "self_harm": SAFE, "sexual": SAFE, "violence": SAFE}
PROMPT_FILTERS = [{"prompt_index": 0, "content_filter_results": {
    "hate": SAFE, "jailbreak": {"filtered": False, "detected": False},
    "self_harm": SAFE, "sexual": SAFE, "violence": SAFE}}]


def azure_answer(answer):
    """An answer as Azure OpenAI sends it: prompt_filter_results, and each
    choice's content_filter_results."""
    answer = dict(answer, prompt_filter_results=PROMPT_FILTERS)
    answer["choices"] = [dict(c, content_filter_results=CHOICE_FILTERS)
                         for c in answer["choices"]]
    return answer


def azure_stream(chunks):
    """Azure's stream: a first chunk with blank metadata and the prompt
    filters; choices carry content_filter_results ({} on the role and
    finish chunks, as observed)."""
    first = {"choices": [], "created": 0, "id": "", "model": "", "object": "",
             "prompt_filter_results": PROMPT_FILTERS}
    out = [first]
    for c in chunks:
        c = dict(c, choices=[dict(ch, content_filter_results=(
            CHOICE_FILTERS if (ch["delta"].keys() - {"role"}) and ch["finish_reason"] is None
            and "role" not in ch["delta"] else {})) for ch in c["choices"]])
        out.append(c)
    return out


# ---------------------------------------------------------------------------
# Stream-only models (DashScope) and stream transcripts (pure functions)

def stream_only_refusal(kind="dashscope", ident=None, request_id=None):
    """The body DashScope answers a non-streaming request for a stream-only
    model with (HTTP 400): compact JSON, raw UTF-8, a fresh id and
    request_id unless given. kind: a STREAM_ONLY_MESSAGES name."""
    ident = ident or "chatcmpl-" + uuid.uuid4().hex
    request_id = request_id or str(uuid.uuid4())
    return dumps({"error": {"code": "invalid_parameter_error", "param": None,
                            "message": STREAM_ONLY_MESSAGES[kind],
                            "type": "invalid_request_error"},
                  "id": ident, "request_id": request_id})


def reasoning_text(prompt, index=0):
    """The reasoning_content a stream-only model thinks before answering: a
    few sentences with non-ASCII characters and JSON escapes."""
    quoted = prompt[:40]
    text = (f"Okay, the user wrote \u201c{quoted}\u201d. Let me think about what they want.\n"
            "I should answer briefly, with a few characters: caf\u00e9, \u4e2d\u6587 and"
            " \U0001F914.\nA \"quoted\" word, a backslash \\ and a tab\tmust survive."
            " Done thinking.")
    return text + (f" [choice {index}]" if index else "")


def dashscope_answer(req, model):
    """The chat.completion a stream-only model's stream (dashscope_stream)
    stands for: what joining its events gives, the members the chunks
    carry. Per choice: message {role, content, reasoning_content[,
    tool_calls]} (no refusal: DashScope's deltas have none), logprobs null,
    finish_reason; id, created, model as asked, system_fingerprint null,
    no service_tier; usage as the include_usage chunk carries it.
    Deterministic: the same model and messages give the same answer."""
    base = build_answer(req, model, False)
    msgs = json.dumps(req.get("messages"), sort_keys=True, ensure_ascii=False)
    d = _digest("dashscope", model, msgs, str(req.get("n")),
                json.dumps(req.get("tools"), sort_keys=True))
    prompt = last_user_text(req)
    choices, completion, reasoning_tokens = [], 0, 0
    for ch in base["choices"]:
        m = ch["message"]
        reasoning = reasoning_text(prompt, ch["index"])
        if m.get("tool_calls"):
            content = ""
        elif m.get("refusal") is not None:  # no refusal member: DashScope says it
            content = m["refusal"]
        else:
            content = m.get("content") or ""
        msg = {"role": "assistant", "content": content, "reasoning_content": reasoning}
        if m.get("tool_calls"):
            msg["tool_calls"] = [{"id": c["id"], "type": c["type"],
                                  "function": dict(c["function"])} for c in m["tool_calls"]]
            completion += sum(_tokens(c["function"]["arguments"]) + 3 for c in m["tool_calls"])
        completion += _tokens(msg["content"])
        reasoning_tokens += _tokens(reasoning)
        choices.append({"message": msg, "finish_reason": ch["finish_reason"],
                        "index": ch["index"], "logprobs": None})
    completion += reasoning_tokens
    prompt_tokens = base["usage"]["prompt_tokens"]
    return {
        "choices": choices,
        "object": "chat.completion",
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                  "total_tokens": prompt_tokens + completion,
                  "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
                  "prompt_tokens_details": {"cached_tokens": 0}},
        "created": 1745000000 + int.from_bytes(d[:4], "big") % 10000000,
        "system_fingerprint": None,
        "model": model,
        "id": "chatcmpl-" + d[4:20].hex(),
    }


def dashscope_stream(answer, include_usage):
    """The chunk dicts DashScope streams for dashscope_answer(): per choice a
    role chunk, reasoning_content pieces (content ""), content pieces
    (reasoning_content null), tool call fragments, a finish chunk; then the
    usage chunk ("choices": []) when include_usage; every chunk in
    DashScope's member order with "usage": null, "system_fingerprint": null."""
    def chunk(choices, usage=None):
        return {"choices": choices, "object": "chat.completion.chunk", "usage": usage,
                "created": answer["created"], "system_fingerprint": None,
                "model": answer["model"], "id": answer["id"]}

    def one(index, delta, finish=None):
        return chunk([{"delta": delta, "finish_reason": finish, "index": index,
                       "logprobs": None}])

    out = []
    for ch in answer["choices"]:
        i, msg = ch["index"], ch["message"]
        out.append(one(i, {"content": "", "role": "assistant", "reasoning_content": ""}))
        for piece in split_pieces(msg["reasoning_content"]):
            out.append(one(i, {"content": "", "reasoning_content": piece}))
        for piece in split_pieces(msg["content"]):
            out.append(one(i, {"content": piece, "reasoning_content": None}))
        for k, call in enumerate(msg.get("tool_calls") or []):
            out.append(one(i, {"content": None, "reasoning_content": None, "tool_calls": [
                {"index": k, "id": call["id"], "type": call["type"],
                 "function": {"name": call["function"]["name"], "arguments": ""}}]}))
            for piece in split_pieces(call["function"]["arguments"]):
                out.append(one(i, {"content": None, "reasoning_content": None, "tool_calls": [
                    {"index": k, "function": {"arguments": piece}}]}))
        out.append(one(i, {"content": "", "reasoning_content": None}, ch["finish_reason"]))
    if include_usage:
        out.append(chunk([], answer["usage"]))
    return out


def dashscope_events(answer, include_usage, ascii_only=False):
    """The SSE events (bytes) of dashscope_stream(), data: [DONE] last."""
    events = [b"data: " + dumps(c, ascii_only) + b"\n\n"
              for c in dashscope_stream(answer, include_usage)]
    return events + [b"data: [DONE]\n\n"]


_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r|\r\n\n|\n\r\n")


def split_events(data):
    """An SSE transcript's bytes as events: each piece ends just after a
    blank line (any of the SSE line ends); what follows the last blank line
    is a piece of its own. b"".join() of the result is data."""
    out, pos = [], 0
    for m in _EVENT_END.finditer(data):
        out.append(data[pos:m.end()])
        pos = m.end()
    if pos < len(data):
        out.append(data[pos:])
    return out


def stream_error_event(shape, n, etype=None):
    """The error event a stream of route shape `shape` (chat, completions,
    responses, messages) sends after n events; etype: the error's type
    (chat, completions, messages) or code (responses) instead of the
    default. Bytes of one SSE event."""
    if shape == "messages":
        data = {"type": "error", "error": {"type": etype or "overloaded_error",
                                           "message": "Overloaded"}}
        return b"event: error\ndata: " + dumps(data) + b"\n\n"
    if shape == "responses":
        data = {"type": "error", "code": etype or "server_error",
                "message": STREAM_ERROR_MESSAGE, "param": None, "sequence_number": n}
        return b"event: error\ndata: " + dumps(data) + b"\n\n"
    data = {"error": {"message": STREAM_ERROR_MESSAGE, "type": etype or "server_error",
                      "param": None, "code": None}}
    return b"data: " + dumps(data) + b"\n\n"


def plain_bytes(n, offset=0):
    """n deterministic bytes (period 251), starting at offset."""
    block = bytes((i * 31 + 7) % 251 for i in range(251))
    start = offset % 251
    reps = (start + n) // 251 + 1
    return (block * reps)[start:start + n]


def dumps(obj, ascii_only=False, pretty=False):
    if pretty:
        return json.dumps(obj, ensure_ascii=ascii_only, indent=2).encode("utf-8")
    return json.dumps(obj, ensure_ascii=ascii_only, separators=(",", ":")).encode("utf-8")


FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The LLM routes other than Azure's deployments, and the answer shape (the
# folder of tests/fixtures) each serves.
SHAPES = {
    "/v1/chat/completions": "chat",
    "/openai/v1/chat/completions": "chat",
    "/compatible-mode/v1/chat/completions": "chat",  # DashScope's
    "/v1/completions": "completions",
    "/v1/responses": "responses",
    "/openai/v1/responses": "responses",
    "/openai/responses": "responses",
    "/v1/messages": "messages",
}


def dns_answer(query):
    """A DNS-over-HTTPS answer (RFC 8484 wire format): every A question is
    answered 127.0.0.1; other types get no answer."""
    qid, qd = query[:2], query[12:]
    end = 0
    while qd[end]:
        end += qd[end] + 1
    question = qd[:end + 5]
    qtype = int.from_bytes(question[-4:-2], "big")
    answers = b""
    if qtype == 1:
        answers = (b"\xc0\x0c" + (1).to_bytes(2, "big") + (1).to_bytes(2, "big") +
                   (60).to_bytes(4, "big") + (4).to_bytes(2, "big") + bytes([127, 0, 0, 1]))
    header = qid + b"\x81\x80" + (1).to_bytes(2, "big") + \
        (1 if answers else 0).to_bytes(2, "big") + b"\x00\x00\x00\x00"
    return header + question + answers


def error_body(message, etype="invalid_request_error", param=None, code=None):
    return dumps({"error": {"message": message, "type": etype, "param": param, "code": code}})


# ---------------------------------------------------------------------------
# HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "streamshim-test-server/1"
    timeout = 300
    disable_nagle_algorithm = True

    # -- helpers ------------------------------------------------------------

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        if self.server.verbose:
            sys.stderr.write("server: " + (format % args) + "\n")

    def _hdr(self, name, default=None):
        v = self.headers.get(name)
        return default if v is None else v.strip()

    def _delay_once(self):
        if self._delayed:
            return
        self._delayed = True
        try:
            delay = float(self._hdr("X-Test-Delay", "0"))
        except ValueError:
            delay = 0.0
        if delay > 0:
            time.sleep(delay)

    def _event_delay(self):
        try:
            return max(0.0, float(self._hdr("X-Test-Event-Delay", "0")))
        except ValueError:
            return 0.0

    def parse_request(self):
        # A handler serves every request of a keep-alive connection: reset.
        self.request_id = None
        self._delayed = False
        self.azure = False
        return super().parse_request()

    def handle_expect_100(self):
        # The delay comes before anything at all is sent, 100 Continue included.
        self._delay_once()
        extra = self.headers.get_all("X-Test-Info-Header") or []
        if not extra:
            return super().handle_expect_100()
        self.send_response_only(100)
        for line in extra:
            k, v = line.split(":", 1)
            self.send_header(k.strip(), v.strip())
        self.end_headers()
        return True

    def _read_body(self):
        te = self._hdr("Transfer-Encoding", "").lower()
        if "chunked" in te:
            data = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline(65537)
            return bytes(data)
        length = int(self._hdr("Content-Length", "0") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _log_request(self, body):
        path = self.server.log_path
        if not path:
            return
        rec = {
            "time": time.time(),
            "request_id": self.request_id,
            "method": self.command,
            "path": self.path,
            "http_version": self.request_version,
            "client_port": self.client_address[1],
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_len": len(body),
            "body_b64": base64.b64encode(body).decode("ascii"),
        }
        line = (json.dumps(rec, ensure_ascii=True) + "\n").encode("ascii")
        with self.server.log_lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def _log_sent(self, status, body):
        """What the server sent: LOG.sent gets one line per answer (status,
        request id, the body before any content coding), for tests that
        compare a capture with it."""
        path = self.server.log_path
        if not path:
            return
        rec = {"request_id": self.request_id, "status": status,
               "body_b64": base64.b64encode(body).decode("ascii")}
        line = (json.dumps(rec) + "\n").encode("ascii")
        with self.server.log_lock:
            fd = os.open(path + ".sent", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def send_response(self, code, message=None):
        # Every final response, the stdlib's own error pages included.
        super().send_response(code, message)
        rid = self.request_id
        if rid is None:
            rid = self.request_id = "req_%d_%s" % (next(self.server.counter),
                                                   os.urandom(6).hex())
        self.send_header("x-request-id", rid)

    def _start(self, status, headers=()):
        self.send_response(status)
        self.send_header("openai-processing-ms", "1")
        if self.azure:
            self.send_header("apim-request-id", self.request_id)
            self.send_header("x-ms-region", "Loopback")
        for k, v in headers:
            self.send_header(k, v)
        for line in self.headers.get_all("X-Test-Header") or []:
            k, v = line.split(":", 1)
            self.send_header(k.strip(), v.strip())
        if self._hdr("X-Test-Close") == "1":
            self.send_header("Connection", "close")
            self.close_connection = True

    def _gzip_allowed(self):
        knob = self._hdr("X-Test-Gzip", "1")
        if knob == "0":
            return False
        if knob == "force":
            return True
        return self._accepts_gzip()

    def _accepts_gzip(self):
        """Does the request's Accept-Encoding allow gzip (q > 0)?"""
        for part in self._hdr("Accept-Encoding", "").split(","):
            fields = [f.strip() for f in part.split(";")]
            if fields[0].lower() in ("gzip", "x-gzip", "*"):
                q = 1.0
                for f in fields[1:]:
                    if f.lower().startswith("q="):
                        try:
                            q = float(f[2:])
                        except ValueError:
                            q = 0.0
                if q > 0:
                    return True
        return False

    def send_body(self, status, body, ctype="application/json", extra=()):
        """A complete response: gzip and chunking by the test knobs."""
        headers = [("Content-Type", ctype)] + list(extra)
        self._log_sent(status, body if status >= 200 else b"")
        if status in (204, 304) or status < 200:
            self._start(status, headers)
            self.end_headers()
            return
        coding = self._hdr("X-Test-Encoding")  # br or zstd, via the CLIs
        if ctype.startswith("application/json") and body and coding in ("br", "zstd"):
            tool = ["brotli", "-c"] if coding == "br" else ["zstd", "-q", "-c"]
            body = subprocess.run(tool, input=body, stdout=subprocess.PIPE,
                                  check=True).stdout
            headers.append(("Content-Encoding", coding))
        elif ctype.startswith("application/json") and body and self._gzip_allowed():
            body = gzip.compress(body, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
        if self._hdr("X-Test-Chunked") == "1":
            self._start(status, headers + [("Transfer-Encoding", "chunked")])
            self.end_headers()
            sizes, pos, k = (1, 3, 7, 16, 29, 5, 64, 2), 0, 0
            delay = self._event_delay()
            while pos < len(body):
                piece = body[pos:pos + sizes[k % len(sizes)]]
                pos += len(piece)
                k += 1
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                if delay:
                    time.sleep(delay)
            trailers = "".join(t.strip() + "\r\n" for t in
                               self.headers.get_all("X-Test-Trailer") or [])
            self.wfile.write(b"0\r\n" + trailers.encode() + b"\r\n")
        else:
            self._start(status, headers + [("Content-Length", str(len(body)))])
            self.end_headers()
            cut = self._hdr("X-Test-Truncate")
            if cut is not None:  # announce it all, send a part, hang up
                self.wfile.write(body[:int(cut)])
                self.wfile.flush()
                self.close_connection = True
            elif self.command != "HEAD":
                self.wfile.write(body)

    def _count_knob(self, name):
        """A knob's event count (an int >= 0), or None when absent."""
        v = self._hdr(name)
        if v is None:
            return None
        return max(0, int(v))

    def send_sse(self, events, shape="chat"):
        """An SSE stream, one chunk per event, shaped by the stream knobs
        (X-Test-Stream-Error/-Cut/-End/-Gzip; shape: the route's, for the
        error event)."""
        events = list(events)
        cut = False
        n_err = self._count_knob("X-Test-Stream-Error")
        n_cut = self._count_knob("X-Test-Stream-Cut")
        n_end = self._count_knob("X-Test-Stream-End")
        if n_err is not None:
            events = events[:n_err] + [stream_error_event(
                shape, n_err, self._hdr("X-Test-Stream-Error-Type"))]
        elif n_cut is not None:
            events, cut = events[:n_cut], True
        elif n_end is not None:
            events = events[:n_end]
        comp = None
        headers = [("Content-Type", "text/event-stream; charset=utf-8"),
                   ("Cache-Control", "no-cache"), ("Transfer-Encoding", "chunked")]
        if self._hdr("X-Test-Stream-Gzip") == "1" and self._accepts_gzip():
            comp = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: the gzip wrapper
            headers.append(("Content-Encoding", "gzip"))
        self._start(200, headers)
        self.end_headers()
        self._log_sent(200, b"".join(events))
        delay = self._event_delay()
        for ev in events:
            data = comp.compress(ev) + comp.flush(zlib.Z_SYNC_FLUSH) if comp else ev
            if data:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            if delay:
                time.sleep(delay)
        if cut:  # hang up without the last chunk (nor the gzip trailer)
            self.wfile.flush()
            self.close_connection = True
            return
        if comp:
            tail = comp.flush(zlib.Z_FINISH)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(tail), tail))
        self.wfile.write(b"0\r\n\r\n")

    # -- dispatch -----------------------------------------------------------

    def _handle(self):
        self.request_id = "req_%d_%s" % (next(self.server.counter),
                                          os.urandom(6).hex())
        self.azure = False
        body = self._read_body()
        self._log_request(body)
        self._delay_once()
        url = urlsplit(self.path)
        path = url.path
        m_azure = re.fullmatch(r"/openai/deployments/([^/]+)/chat/completions", path)
        self.azure = bool(m_azure)

        # A redirect first: /redirect<path> answers 307 to <path>.
        if path.startswith("/redirect/"):
            self._start(307, [("Location", self.path[len("/redirect"):]),
                              ("Content-Type", "text/plain"),
                              ("Content-Length", "9")])
            self.end_headers()
            self.wfile.write(b"redirect\n")
            return
        # An auth challenge first: X-Test-Auth: user:pass wants Basic auth.
        auth = self._hdr("X-Test-Auth")
        if auth:
            want = "Basic " + base64.b64encode(auth.encode()).decode()
            if self._hdr("Authorization") != want:
                body = b'{"error":"auth"}'
                self._start(401, [("WWW-Authenticate", 'Basic realm="test"'),
                                  ("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
                self.end_headers()
                self.wfile.write(body)
                return

        status = self._hdr("X-Test-Status")
        if status:
            code = int(status)
            if self._hdr("X-Test-Empty-Body") == "1":
                return self.send_body(code, b"")
            return self.send_body(code, error_body(f"Test status {code}", "test_error",
                                                   None, str(code)))

        if self.command == "POST" and path == "/dns-query":
            return self.send_body(200, dns_answer(body), "application/dns-message")
        if self.command == "GET" and path == "/healthz":
            return self.send_body(200, b"ok", "text/plain")
        if self.command == "GET" and path.startswith("/plain/"):
            try:
                n = int(path[len("/plain/"):])
            except ValueError:
                return self.send_body(404, error_body("bad size", "not_found"))
            self._start(200, [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(n))])
            self.end_headers()
            if n <= 4 << 20:
                self._log_sent(200, plain_bytes(n, 0))
            pos = 0
            while pos < n:
                piece = plain_bytes(min(65536 - 65536 % 251, n - pos), pos)
                self.wfile.write(piece)
                pos += len(piece)
            return None
        if self.command == "POST" and path == "/echo":
            return self.send_body(200, body, "application/octet-stream")

        shape = "chat" if m_azure else SHAPES.get(path)
        if shape is None:
            return self.send_body(404, error_body(f"Unknown request URL: {self.command} {path}.",
                                                  "invalid_request_error", None,
                                                  "unknown_url"))
        if self.command != "POST":
            return self.send_body(405, error_body("Method not allowed", "invalid_request_error"))
        if m_azure:
            if not self._hdr("api-key"):
                return self.send_body(401, AZURE_401_BODY)
            if not parse_qs(url.query).get("api-version"):
                return self.send_body(404, AZURE_404_BODY)
        try:
            req = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self.send_body(400, error_body(
                "We could not parse the JSON body of your request. (HINT: This likely means"
                " you aren't using your HTTP library correctly. The OpenAI API expects a JSON"
                " payload, but what was sent was not valid JSON. If you have trouble figuring"
                " out how to fix this, please contact us through our help center at"
                " help.openai.com.)"))
        if not isinstance(req, dict):
            return self.send_body(400, error_body("Invalid request body: expected an object"))
        model = m_azure.group(1) if m_azure else req.get("model")
        if not isinstance(model, str) or not model:
            return self.send_body(400, error_body("you must provide a model parameter"))
        stream = req.get("stream") is True
        transcript = self._hdr("X-Test-Stream-File")
        if stream and transcript:  # any transcript, before any refusal
            try:
                with open(transcript, "rb") as f:
                    data = f.read()
            except OSError as exc:
                return self.send_body(400, error_body(f"X-Test-Stream-File: {exc}"))
            return self.send_sse(split_events(data), shape)
        if "stream_options" in req and not stream:
            return self.send_body(400, STREAM_OPTIONS_BODY)
        if self._hdr("X-Test-Ignore-Stream") == "1":
            stream = False  # a server that ignores "stream": true
        stream_only = model_matches(model, self.server.stream_only)
        if stream_only and not stream:
            kind = self._hdr("X-Test-Stream-Only-Refusal") or \
                ("thinking" if req.get("enable_thinking") is True else "dashscope")
            if kind not in STREAM_ONLY_MESSAGES:
                return self.send_body(400, error_body("bad X-Test-Stream-Only-Refusal"))
            return self.send_body(400, stream_only_refusal(kind))
        refusing = model_matches(model, self.server.refuse)
        if refusing and stream:
            refusal = REFUSALS.get(self._hdr("X-Test-Refusal", "azure"))
            if refusal is None:
                return self.send_body(400, error_body("bad X-Test-Refusal"))
            status, text, *ctype = refusal
            return self.send_body(status, text, *ctype)
        failing = self._hdr("X-Test-Nonstream-Status")
        if failing and not stream:
            code = int(failing)
            return self.send_body(code, error_body(f"Test status {code}", "test_error",
                                                   None, str(code)))

        fixture = self._hdr("X-Test-Fixture")
        if fixture and not stream:  # a canned answer, byte for byte
            if not re.fullmatch(r"[a-z0-9-]+", fixture):
                return self.send_body(400, error_body("bad fixture name"))
            with open(FIXTURES / shape / f"{fixture}.json", "rb") as f:
                return self.send_body(200, f.read())
        if shape != "chat":  # only canned answers for the other shapes
            return self.send_body(400, error_body(f"{shape} requests need X-Test-Fixture"))
        ascii_only = self._hdr("X-Test-Ascii") == "1"
        if stream_only:  # stream is true here: DashScope's native stream
            opts = req.get("stream_options")
            include_usage = isinstance(opts, dict) and opts.get("include_usage") is True
            return self.send_sse(dashscope_events(dashscope_answer(req, model), include_usage,
                                                  ascii_only), shape)
        answer = build_answer(req, model, refusing)
        if not stream:
            if m_azure:
                answer = azure_answer(answer)
            return self.send_body(200, dumps(answer, ascii_only, pretty=not m_azure))
        opts = req.get("stream_options")
        include_usage = isinstance(opts, dict) and opts.get("include_usage") is True
        chunks = build_stream(answer, include_usage)
        if m_azure:
            chunks = azure_stream(chunks)
        events = [b"data: " + dumps(c, ascii_only) + b"\n\n" for c in chunks]
        events.append(b"data: [DONE]\n\n")
        return self.send_sse(events, shape)

    def _safe(self):
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # pragma: no cover - diagnostic path
            self.close_connection = True
            sys.stderr.write(f"server: error: {exc!r}\n")
            try:
                self.send_body(500, error_body(f"server error: {exc!r}", "server_error"))
            except OSError:
                pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _safe


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # bursts of connections from multi tests
    allow_reuse_address = True

    def __init__(self, addr, refuse, log_path, verbose, stream_only=DEFAULT_STREAM_ONLY):
        self.refuse = refuse
        self.stream_only = stream_only
        self.log_path = log_path
        self.verbose = verbose
        self.log_lock = threading.Lock()
        self.counter = iter(range(1, 1 << 62))
        super().__init__(addr, Handler)


def main(argv=None):
    ap = argparse.ArgumentParser(description="streamshim loopback test server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--log", default=None, help="append one JSON line per request")
    ap.add_argument("--refuse", default=DEFAULT_REFUSE,
                    help="comma-separated globs of models refusing stream:true")
    ap.add_argument("--stream-only", default=DEFAULT_STREAM_ONLY,
                    help="comma-separated globs of models answering only with stream:true"
                         " (DashScope's 400 otherwise)")
    ap.add_argument("-v", "--verbose", action="store_true", help="access log on stderr")
    args = ap.parse_args(argv)
    srv = Server((args.host, args.port), args.refuse, args.log, args.verbose,
                 args.stream_only)
    print(f"PORT {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
