"""Server-Sent Events helpers for the tests: a spec-conformant parser, an
accumulator that rebuilds a chat.completion from chat.completion.chunk events
the way openai-node's ChatCompletionStream does, and `check_chat_stream`, the
assertion every de-streaming test uses.

    events = parse_sse(stdout)                 # list[Event]
    completion = accumulate_chat(events)       # dict, like finalChatCompletion()
    check_chat_stream(stdout, answer_bytes)    # asserts, returns the completion
"""

import json
import re

__all__ = ["Event", "parse_sse", "chunks_of", "accumulate_chat", "check_chat_stream",
           "same_message"]


class Event:
    """One dispatched SSE event.

    event: the `event:` field or None when absent (type is then "message");
    data: the `data:` lines joined with "\\n"; id: the last event ID (sticky,
    as the spec says); retry: the last valid `retry:` value or None;
    fields: the (name, value) pairs of this event's block, in order."""

    __slots__ = ("event", "data", "id", "retry", "fields")

    def __init__(self, event, data, id_, retry, fields):
        self.event, self.data, self.id, self.retry, self.fields = event, data, id_, retry, fields

    @property
    def type(self):
        return self.event if self.event else "message"

    def __repr__(self):
        return f"Event(event={self.event!r}, data={self.data!r})"

    def __eq__(self, other):
        return isinstance(other, Event) and (self.event, self.data) == (other.event, other.data)


_LINE = re.compile(r"\r\n|\r|\n")


def parse_sse(data):
    """Parse an SSE byte (or str) stream into a list of Event, following the
    WHATWG event-stream rules: a leading BOM is dropped, lines end with CRLF, LF
    or CR, lines starting with ':' are comments, 'field: value' loses one
    space after the colon, a line without a colon is a field with an empty
    value, an event is dispatched at a blank line only if it has data (an
    event with no data lines is dropped), and an unterminated event at the
    end is discarded. Bytes must be valid UTF-8 (UnicodeDecodeError otherwise:
    a test should fail on a broken character rather than see U+FFFD)."""
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = _LINE.split(text)
    # The last element is what follows the last line end: an incomplete line.
    lines.pop()
    events = []
    last_id, retry = None, None
    event, buf, fields = None, [], []
    for line in lines:
        if line == "":
            if buf:
                events.append(Event(event, "\n".join(buf), last_id, retry, fields))
            event, buf, fields = None, [], []
            continue
        if line.startswith(":"):
            continue
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        fields.append((name, value))
        if name == "event":
            event = value
        elif name == "data":
            buf.append(value)
        elif name == "id":
            if "\0" not in value:
                last_id = value
        elif name == "retry":
            if value.isdigit() and value.isascii():
                retry = int(value)
    return events


def chunks_of(events):
    """The JSON chunks of a parsed OpenAI stream, as openai-node's
    Stream.fromSSEResponse yields them: stops at the first data starting with
    [DONE], skips `thread.*` events, raises on a chunk with an `error` key or an
    `event: error`."""
    out = []
    for ev in events:
        if isinstance(ev, dict):
            out.append(ev)
            continue
        if ev.data.startswith("[DONE]"):
            break
        if ev.event and ev.event.startswith("thread."):
            continue
        obj = json.loads(ev.data)
        if ev.event == "error" or (isinstance(obj, dict) and "error" in obj):
            raise ValueError(f"error event in stream: {ev.data}")
        out.append(obj)
    return out


def _concat(old, piece):
    return (old or "") + piece


def _truthy(v):
    """JavaScript truthiness: null, false, 0, NaN and "" are false; every
    object and array, even empty, is true."""
    if v is None or v is False:
        return False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v == v and v != 0
    if isinstance(v, str):
        return v != ""
    return True


def _apply_logprobs(choice, logprobs):
    """openai-node's logprobs accumulation for one chunk's choice. The
    first chunk's object becomes the choice's (the same object: entries a
    first chunk carries are appended to themselves, i.e. counted twice);
    later chunks' "content" and "refusal" arrays are appended to it, a
    null one skipped; other members are assigned."""
    if not _truthy(logprobs):
        return
    if not _truthy(choice.get("logprobs")):
        choice["logprobs"] = dict(logprobs)
        return
    lp = choice["logprobs"]
    lp.update({k: v for k, v in logprobs.items() if k not in ("content", "refusal")})
    for k in ("content", "refusal"):
        piece = logprobs.get(k)
        if _truthy(piece):
            if lp.get(k) is None:
                lp[k] = []
            lp[k].extend(list(piece))


def _apply_tool_calls(message, tool_calls, lost):
    calls = message.setdefault("tool_calls", [])
    for entry in tool_calls:
        entry = dict(entry)
        index = entry.pop("index", None)
        ident = entry.pop("id", None)
        typ = entry.pop("type", None)
        fn = entry.pop("function", None)
        if not isinstance(index, int):
            # JS: tool_calls[undefined] is a property, not an element: lost.
            lost.append(entry)
            continue
        while len(calls) <= index:
            calls.append(None)
        call = calls[index]
        if call is None:
            call = calls[index] = {}
        call.update(entry)
        if ident:
            call["id"] = ident
        if typ:
            call["type"] = typ
        if fn is not None:
            if "function" not in call:
                call["function"] = {"name": fn.get("name") or "", "arguments": ""}
            if fn.get("name"):
                call["function"]["name"] = fn["name"]
            if fn.get("arguments"):
                call["function"]["arguments"] += fn["arguments"]


def _accumulate(chunks):
    """openai-node ChatCompletionStream#accumulateChatCompletion, chunk by chunk.
    Deviation asked for by the tests: string `reasoning_content` / `reasoning`
    deltas are concatenated (openai-node assigns them, last wins)."""
    snapshot = None
    lost = []
    for chunk in chunks:
        rest = {k: v for k, v in chunk.items() if k != "choices"}
        if snapshot is None:
            snapshot = dict(rest, choices=[])
        else:
            snapshot.update(rest)
        for ch in chunk.get("choices") or []:
            ch = dict(ch)
            delta = ch.pop("delta", None)
            finish = ch.pop("finish_reason", None)
            index = ch.pop("index", None)
            logprobs = ch.pop("logprobs", None)
            if not isinstance(index, int):
                raise ValueError(f"choice without an integer index: {chunk}")
            choices = snapshot["choices"]
            while len(choices) <= index:
                choices.append(None)
            choice = choices[index]
            if choice is None:
                choice = choices[index] = dict({"finish_reason": finish, "index": index,
                                                "message": {}, "logprobs": logprobs}, **ch)
            _apply_logprobs(choice, logprobs)
            if finish:
                choice["finish_reason"] = finish
            choice.update(ch)
            if not delta:
                continue
            delta = dict(delta)
            content = delta.pop("content", None)
            refusal = delta.pop("refusal", None)
            function_call = delta.pop("function_call", None)
            role = delta.pop("role", None)
            tool_calls = delta.pop("tool_calls", None)
            msg = choice["message"]
            for k, v in delta.items():
                if k in ("reasoning_content", "reasoning") and isinstance(v, str):
                    msg[k] = _concat(msg.get(k), v)
                else:
                    msg[k] = v
            if refusal:
                msg["refusal"] = _concat(msg.get("refusal"), refusal)
            if role:
                msg["role"] = role
            if function_call:
                if not msg.get("function_call"):
                    msg["function_call"] = dict(function_call)
                else:
                    if function_call.get("name"):
                        msg["function_call"]["name"] = function_call["name"]
                    if function_call.get("arguments"):
                        msg["function_call"]["arguments"] = _concat(
                            msg["function_call"].get("arguments"), function_call["arguments"])
            if content:
                msg["content"] = _concat(msg.get("content"), content)
            if tool_calls:
                _apply_tool_calls(msg, tool_calls, lost)
    return snapshot, lost


def _finalize(snapshot):
    """openai-node finalizeChatCompletion: the ChatCompletion the SDK returns."""
    if snapshot is None:
        raise ValueError("request ended without sending any chunks")
    rest = {k: v for k, v in snapshot.items()
            if k not in ("id", "choices", "created", "model", "system_fingerprint")}
    rest.pop("obfuscation", None)  # noise the API adds to streams, not in the answer
    choices = []
    for choice in snapshot["choices"]:
        if choice is None:
            choices.append(None)
            continue
        index = choice["index"]
        if not choice.get("finish_reason"):
            raise ValueError(f"missing finish_reason for choice {index}")
        msg = choice["message"]
        if not msg.get("role"):
            raise ValueError(f"missing role for choice {index}")
        choice_rest = {k: v for k, v in choice.items()
                       if k not in ("message", "finish_reason", "index", "logprobs")}
        content = msg.get("content")
        mrest = {k: v for k, v in msg.items()
                 if k not in ("content", "function_call", "tool_calls")}
        fc = msg.get("function_call")
        calls = msg.get("tool_calls")
        if fc:
            if fc.get("arguments") is None:
                raise ValueError(f"missing function_call.arguments for choice {index}")
            if not fc.get("name"):
                raise ValueError(f"missing function_call.name for choice {index}")
            message = {"content": content,
                       "function_call": {"arguments": fc["arguments"], "name": fc["name"]},
                       "role": msg["role"], "refusal": msg.get("refusal")}
        elif calls is not None:
            out_calls = []
            for i, call in enumerate(calls):
                if call is None:
                    out_calls.append(None)
                    continue
                fn = call.get("function") or {}
                for what, val in (("id", call.get("id")), ("type", call.get("type")),
                                  ("function.name", fn.get("name")),
                                  ("function.arguments", fn.get("arguments"))):
                    if val is None:
                        raise ValueError(f"missing choices[{index}].tool_calls[{i}].{what}")
                trest = {k: v for k, v in call.items() if k not in ("function", "type", "id")}
                frest = {k: v for k, v in fn.items() if k not in ("arguments", "name")}
                out_calls.append(dict(trest, id=call["id"], type=call["type"],
                                      function=dict(frest, name=fn["name"],
                                                    arguments=fn["arguments"])))
            message = dict(mrest, role=msg["role"], content=content,
                           refusal=msg.get("refusal"), tool_calls=out_calls)
        else:
            message = dict(mrest, content=content, role=msg["role"],
                           refusal=msg.get("refusal"))
        choices.append(dict(choice_rest, message=message, finish_reason=choice["finish_reason"],
                            index=index, logprobs=choice.get("logprobs")))
    out = dict(rest, id=snapshot.get("id"), choices=choices, created=snapshot.get("created"),
               model=snapshot.get("model"), object="chat.completion")
    if snapshot.get("system_fingerprint"):
        out["system_fingerprint"] = snapshot["system_fingerprint"]
    return out


def accumulate_chat(events):
    """Rebuild a chat.completion dict from parsed events (or chunk dicts), as
    openai-node's `finalChatCompletion()` would return it. Content, refusal,
    reasoning_content and function/tool-call arguments are concatenated;
    tool calls are merged by index (entries without an index are lost, as in
    the SDK); usage and the other top-level members come from the last chunk
    carrying them (Object.assign), which makes the usage chunk's usage win."""
    snapshot, _lost = _accumulate(chunks_of(events))
    return _finalize(snapshot)


_EMPTY = (None, "", [], {})
_MISSING = object()


def same_message(expected, got):
    """Message equality as an SDK user sees it: members equal, except that an
    empty value (null, "", [], {}) equals an absent or other empty one (a
    stream cannot tell content "" from null, and real streams omit
    `annotations: []`)."""
    for k in set(expected) | set(got):
        a, b = expected.get(k, _MISSING), got.get(k, _MISSING)
        if a == b:
            continue
        if (a is _MISSING or a in _EMPTY) and (b is _MISSING or b in _EMPTY):
            continue
        return False
    return True


_META = ("id", "created", "model", "system_fingerprint", "service_tier")


def check_chat_stream(data, answer, *, match_meta=True, expect_usage=None, strict=True):
    """Assert that `data` (bytes of an SSE body) is a well-formed chat
    completion stream equivalent to `answer` (chat.completion as bytes, str or
    dict). Returns the accumulated completion.

    Checks: every event is exactly one `data: <json>` line (strict: the bytes
    are nothing but `data: ...\\n\\n` blocks, as OpenAI sends them; otherwise
    any SSE framing is accepted but comments/other fields are still refused),
    exactly one `data: [DONE]` and it is last, every chunk is a
    chat.completion.chunk with the same id/created/model/system_fingerprint
    (and service_tier), every choice and tool-call delta has an index, the
    accumulated choices equal the answer's (message via same_message,
    finish_reason, logprobs exactly: null when the answer has none), usage
    equals the answer's when a chunk carries it. Logprobs are also checked
    chunk by chunk: no entries on a choice's first chunk (openai-node would
    count them twice), and every chunk's entries spell exactly the text
    of its delta (bytes, or the token's UTF-8 when bytes is null).
    match_meta: the chunks' id/created/model/system_fingerprint/service_tier
    equal the answer's. expect_usage: True requires a usage chunk; False
    requires that no chunk has a `usage` key (include_usage not asked)."""
    if isinstance(answer, (bytes, bytearray)):
        answer = json.loads(answer.decode("utf-8"))
    elif isinstance(answer, str):
        answer = json.loads(answer)
    assert isinstance(data, (bytes, bytearray)), "stream must be bytes"
    assert data, "empty stream"

    if strict:
        assert data.endswith(b"\n\n"), f"stream does not end with a blank line: {data[-80:]!r}"
        blocks = bytes(data[:-2]).split(b"\n\n")
        for i, block in enumerate(blocks):
            assert block.startswith(b"data: "), f"event {i} is not 'data: ...': {block[:120]!r}"
            assert b"\n" not in block and b"\r" not in block, \
                f"event {i} has more than one line: {block[:200]!r}"
    events = parse_sse(data)
    assert events, "no events in stream"
    for i, ev in enumerate(events):
        assert ev.event is None, f"event {i} has an event: field {ev.event!r}"
        assert [n for n, _ in ev.fields] == ["data"], f"event {i} fields: {ev.fields!r}"
    done = [i for i, ev in enumerate(events) if ev.data == "[DONE]"]
    assert len(done) == 1, f"expected exactly one [DONE], got {len(done)}"
    assert done[0] == len(events) - 1, "[DONE] is not the last event"

    chunks = []
    for i, ev in enumerate(events[:-1]):
        try:
            obj = json.loads(ev.data)
        except ValueError as exc:
            raise AssertionError(f"event {i} is not JSON ({exc}): {ev.data[:200]!r}") from None
        assert isinstance(obj, dict), f"event {i} is not a JSON object"
        assert "error" not in obj, f"event {i} is an error: {ev.data[:300]}"
        if i == 0 and "prompt_filter_results" in obj:
            # Azure's first chunk: blank metadata, no choices, the filters
            assert (obj["object"], obj["id"], obj["model"], obj["created"], obj["choices"]) \
                == ("", "", "", 0, []), f"Azure prompt filter chunk: {ev.data[:200]}"
            assert obj["prompt_filter_results"] == answer.get("prompt_filter_results")
            continue
        assert obj.get("object") == "chat.completion.chunk", f"event {i} object: {obj.get('object')!r}"
        assert isinstance(obj.get("choices"), list), f"event {i} has no choices list"
        for ch in obj["choices"]:
            assert isinstance(ch.get("index"), int), f"event {i}: choice without index"
            for tc in (ch.get("delta") or {}).get("tool_calls") or []:
                assert isinstance(tc.get("index"), int), f"event {i}: tool_calls entry without index"
        chunks.append(obj)
    assert chunks, "no chunks before [DONE]"

    first = chunks[0]
    for key in ("id", "created", "model", "system_fingerprint"):
        values = {json.dumps(c.get(key, "<absent>")) for c in chunks}
        assert len(values) == 1, f"chunks disagree on {key}: {sorted(values)}"
    if "service_tier" in first:
        values = {json.dumps(c.get("service_tier", "<absent>")) for c in chunks}
        assert len(values) == 1, f"chunks disagree on service_tier: {sorted(values)}"
    if match_meta:
        for key in _META:
            if key in answer:
                assert first.get(key) == answer[key], \
                    f"{key}: stream {first.get(key)!r} != answer {answer[key]!r}"

    usage_chunks = [c for c in chunks if c.get("usage") is not None]
    if expect_usage is True:
        assert usage_chunks, "no chunk carries usage"
    if expect_usage is False:
        assert not any("usage" in c for c in chunks), "a chunk has a usage key"
    if usage_chunks:
        assert len(usage_chunks) == 1, f"{len(usage_chunks)} chunks carry usage"
        assert usage_chunks[0]["choices"] == [], "usage chunk has choices"
        assert usage_chunks[0] is chunks[-1], "usage chunk is not the last chunk"
        assert usage_chunks[0]["usage"] == answer.get("usage"), \
            f"usage {usage_chunks[0]['usage']!r} != {answer.get('usage')!r}"

    _check_logprob_chunks(chunks)  # first: accumulating mutates the chunks
    snapshot, lost = _accumulate(chunks)
    assert not lost, f"tool_calls entries lost: {lost!r}"
    got = _finalize(snapshot)
    want_choices = answer.get("choices") or []
    assert len(got["choices"]) == len(want_choices), \
        f"{len(got['choices'])} choices, answer has {len(want_choices)}"
    for want, have in zip(want_choices, got["choices"]):
        assert have is not None, f"choice {want.get('index')} missing"
        assert have["index"] == want["index"]
        assert have["finish_reason"] == want["finish_reason"], \
            f"finish_reason {have['finish_reason']!r} != {want['finish_reason']!r}"
        assert same_message(want["message"], have["message"]), \
            f"message differs:\n stream: {have['message']!r}\n answer: {want['message']!r}"
        assert have["logprobs"] == want.get("logprobs"), \
            f"logprobs differ:\n stream: {have['logprobs']!r}\n answer: {want.get('logprobs')!r}"
    return got


def _entry_bytes(entry):
    """The bytes a chat logprobs entry stands for."""
    if entry.get("bytes") is not None:
        return bytes(entry["bytes"])
    return entry["token"].encode("utf-8")


def _check_logprob_chunks(chunks):
    """Per chunk: entries spell the delta's text; none on a first chunk."""
    seen = set()
    for i, chunk in enumerate(chunks):
        for ch in chunk.get("choices") or []:
            first = ch["index"] not in seen
            seen.add(ch["index"])
            lp = ch.get("logprobs")
            if not isinstance(lp, dict):
                continue
            for k in ("content", "refusal"):
                entries = lp.get(k)
                if not entries:
                    continue
                assert not first, f"chunk {i}: logprobs entries on a choice's first chunk"
                text = ((ch.get("delta") or {}).get(k) or "").encode("utf-8")
                spelled = b"".join(_entry_bytes(e) for e in entries)
                assert spelled == text, \
                    f"chunk {i}: {k} logprobs spell {spelled!r}, the delta has {text!r}"
