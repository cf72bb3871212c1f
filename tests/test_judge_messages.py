"""The Anthropic SDK as judge of the Messages replay: every answer of the
corpus (tests/fixtures/messages) goes through the real curl CLI under the
shim on /v1/messages, and @anthropic-ai/sdk's own MessageStream (run
offline by tests/judge/messages.mjs) must rebuild the non-streamed answer
exactly. Our own checks cover the rest: strict framing (every event has an
`event:` line equal to data.type and one `data:` line), the order of the
events, and that each block's deltas concatenate to its text, thinking,
signature, citations or input. Fixtures named refused-* are answers the
encoder must refuse: they reach the program byte for byte."""

import json

import pytest

from conftest import CURL, ROOT, run, shim_env

pytestmark = pytest.mark.needs_lib

DIR = ROOT / "tests" / "fixtures" / "messages"
FIXTURES = sorted(f for f in DIR.glob("*.json") if not f.stem.startswith("refused-"))
REFUSED = sorted(DIR.glob("refused-*.json"))

TOOL_KINDS = ("tool_use", "server_tool_use")


def post(server, name, env, *args):
    """POST a streaming Messages request for fixture `name` with the curl
    CLI (extra curl arguments in args); the CompletedProcess and the
    requests the server received."""
    body = json.dumps({"model": "o3-mini", "max_tokens": 1024, "stream": True,
                       "messages": [{"role": "user", "content": "judge"}]}).encode()
    server.clear()
    r = run([CURL, "-sS", "-N", server.url + "/v1/messages",
             "-H", "Content-Type: application/json", "-H", "x-api-key: test",
             "-H", "anthropic-version: 2023-06-01", "-H", f"X-Test-Fixture: {name}",
             "--data-binary", "@-", *args], env=env, input=body)
    assert r.returncode == 0, r.stderr
    return r, server.requests()


def replay(server, name, chunk=None):
    """The shim's replay of fixture `name`, as the curl CLI prints it; the
    server must have received the request once, without `stream`."""
    settings = {"models": "o3-mini", "mode": "force"}
    if chunk:
        settings["chunk"] = chunk
    r, reqs = post(server, name, shim_env(**settings))
    assert len(reqs) == 1
    sent = reqs[0].json()
    assert "stream" not in sent and sent["model"] == "o3-mini"
    assert reqs[0].header("x-api-key") == "test"
    return r.stdout


def events_of(stream):
    """Split a replay into (type, data) pairs, asserting strict framing:
    each event is exactly `event: T` + one `data: {json}` line + a blank
    line, with data.type == T; no [DONE], nothing after the last event."""
    assert stream.endswith(b"\n\n")
    out = []
    for block in stream[:-2].split(b"\n\n"):
        lines = block.split(b"\n")
        assert len(lines) == 2, block[:200]
        assert lines[0].startswith(b"event: ") and lines[1].startswith(b"data: "), block[:200]
        assert b"\r" not in block
        name = lines[0][len(b"event: "):].decode()
        data = json.loads(lines[1][len(b"data: "):])
        assert isinstance(data, dict) and data["type"] == name, block[:200]
        out.append((name, data))
    return out


def compact(text):
    """Is the JSON text free of whitespace outside its strings?"""
    in_str = esc = False
    for c in text:
        if in_str:
            esc, in_str = (False, in_str) if esc else (c == "\\", c != '"')
        elif c == '"':
            in_str = True
        elif c in " \t\r\n":
            return False
    return True


def check_stream(events, answer):
    """Check the event order and the deltas against the answer; returns the
    message our own accumulator rebuilds."""
    names = [n for n, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert names.count("ping") == 1 and names.count("message_start") == 1
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["stop_sequence"] is None
    assert {k: v for k, v in start.items() if k not in ("content", "usage", "stop_reason",
                                                        "stop_sequence", "stop_details")} == \
        {k: v for k, v in answer.items() if k not in ("content", "usage", "stop_reason",
                                                      "stop_sequence", "stop_details")}
    # usage as the API reports it at the start: every member of the
    # answer's, output_tokens small (1, or 0 when the answer says 0)
    assert {k: v for k, v in start["usage"].items() if k != "output_tokens"} == \
        {k: v for k, v in answer["usage"].items() if k != "output_tokens"}
    assert start["usage"]["output_tokens"] == min(1, answer["usage"]["output_tokens"])
    # the ping comes right after the first content_block_start (or after
    # message_start when there is no block)
    first = names.index("content_block_start") if answer["content"] else 0
    assert names[first + 1] == "ping"
    body = [e for e in events[1:-2] if e[0] != "ping"]
    content, i = [], 0
    for index, block in enumerate(answer["content"]):
        name, ev = body[i]
        assert name == "content_block_start" and ev["index"] == index
        got = dict(ev["content_block"])
        i += 1
        deltas = []
        while body[i][0] == "content_block_delta":
            assert body[i][1]["index"] == index
            deltas.append(body[i][1]["delta"])
            i += 1
        assert body[i] == ("content_block_stop", {"type": "content_block_stop", "index": index})
        i += 1
        kinds = [d["type"] for d in deltas]
        if block["type"] == "text":
            assert got["text"] == ""
            ncite = kinds.count("citations_delta")
            assert kinds == ["citations_delta"] * ncite + ["text_delta"] * (len(kinds) - ncite)
            assert all(d["text"] for d in deltas[ncite:])
            got["text"] = "".join(d["text"] for d in deltas[ncite:])
            if ncite or got.get("citations") == []:
                got["citations"] = got["citations"] + [d["citation"] for d in deltas[:ncite]]
        elif block["type"] == "thinking":
            assert got["thinking"] == "" and got["signature"] == ""
            assert kinds == ["thinking_delta"] * (len(kinds) - 1) + ["signature_delta"]
            got["thinking"] = "".join(d["thinking"] for d in deltas[:-1])
            got["signature"] = deltas[-1]["signature"]
        elif block["type"] in TOOL_KINDS:
            assert got["input"] == {}
            assert kinds and set(kinds) == {"input_json_delta"}
            assert deltas[0]["partial_json"] == "" and all(d["partial_json"] for d in deltas[1:])
            text = "".join(d["partial_json"] for d in deltas)
            got["input"] = json.loads(text)
            assert compact(text)
        else:
            assert deltas == []  # redacted_thinking, server tool results: whole
        content.append(got)
    assert i == len(body)
    delta = events[-2][1]
    assert delta["delta"]["stop_reason"] == answer["stop_reason"]
    assert delta["delta"]["stop_sequence"] == answer["stop_sequence"]
    assert delta["usage"]["output_tokens"] == answer["usage"]["output_tokens"]
    usage = dict(start["usage"], **delta["usage"])
    rebuilt = dict(start, content=content, usage=usage, **delta["delta"])
    return rebuilt


def sdk_clean(final):
    """What MessageStream adds on its own: finalMessage() goes through
    maybeParseMessage, which sets a top-level parsed_output (null without
    structured outputs). Its other additions (parsed_output on text blocks,
    __json_buf on tool blocks) are not enumerable and never reach JSON."""
    final.pop("parsed_output")
    return final


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_anthropic_sdk_rebuilds_the_answer(server, judge, fixture):
    answer = json.loads(fixture.read_bytes())
    stream = replay(server, fixture.stem)
    assert check_stream(events_of(stream), answer) == answer
    assert sdk_clean(judge("messages", stream)) == answer


@pytest.mark.parametrize("chunk", [1, 7])
@pytest.mark.parametrize("name", ["text-escapes", "tool-unicode-input", "thinking-signature-text",
                                  "web-search-citations"])
def test_small_pieces(server, judge, name, chunk):
    """Pieces of one or a few characters: escapes, surrogate pairs and
    UTF-8 sequences are never split (each data line is valid JSON)."""
    answer = json.loads((DIR / f"{name}.json").read_bytes())
    stream = replay(server, name, chunk=chunk)
    events = events_of(stream)
    assert check_stream(events, answer) == answer
    if chunk == 1:
        for _, ev in events:
            d = ev.get("delta", {})
            for k in ("text", "thinking"):
                if k in d:
                    assert len(d[k]) == 1  # one code point (a pair of escapes is one)
    assert sdk_clean(judge("messages", stream)) == answer


@pytest.mark.parametrize("fixture", REFUSED, ids=[f.stem for f in REFUSED])
def test_refused_answer_passes_through_unchanged(server, fixture, tmp_path):
    """An answer with a block the encoder does not replay reaches the
    program byte for byte, and the log says why."""
    log = tmp_path / "shim.log"
    r, reqs = post(server, fixture.stem,
                   shim_env(models="o3-mini", mode="force", log=f"info:{log}"))
    assert len(reqs) == 1 and "stream" not in reqs[0].json()
    assert r.stdout == fixture.read_bytes()
    text = log.read_text()
    assert "a content block type is not replayed" in text


def test_headers_announce_an_event_stream(server):
    """The program sees the headers of a stream: text/event-stream, no
    Content-Length of the non-streamed answer."""
    r, _ = post(server, "text-basic", shim_env(models="o3-mini", mode="force"), "-i")
    head, _, stream = r.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith("HTTP/1.1 200")
    names = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    assert names["content-type"].startswith("text/event-stream")
    assert "content-length" not in names
    answer = json.loads((DIR / "text-basic.json").read_bytes())
    assert check_stream(events_of(stream), answer) == answer
