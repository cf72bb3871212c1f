"""Stream-only edges a hostile review found (each test names the defect it
pins down): an answer that is not an event stream passes through whole; a
program that pauses while the joined answer is handed out at the end of the
transfer still gets all of it; a stream whose last event has no blank line
after it is whole; `curl -f` fails an empty error answer to a watched
request that does not stream; the learned cache keeps the lines older
versions read; a chunk with a stray "message" member is not written twice."""

import json

import pytest

import server as srv
from conftest import chat_body
from shimtest import body_calls
from test_c_clients import client, summaries
from test_stream_only import (MODEL, auto_env, dashscope, json_answer, log_text,
                              post, so_env)
from test_stream_only_clients import IFACE_IDS, IFACES, check_summary, so_settings

pytestmark = pytest.mark.needs_lib

PLAIN_MODEL = "gpt-4o"  # the server streams it as OpenAI does, and answers JSON without


def native_events(body):
    """The server's DashScope stream for body, as its list of events."""
    answer = dashscope(body)
    return srv.dashscope_events(answer, True), answer


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_an_answer_that_is_not_a_stream_passes_through_whole(server, tmp_path, chunked):
    """The server ignores "stream": true and answers one JSON: the program
    gets it byte for byte (its first body piece was once lost)."""
    body = chat_body(PLAIN_MODEL, "Say hello", stream=None)
    headers = ["X-Test-Ignore-Stream: 1"] + (["X-Test-Chunked: 1"] if chunked else [])
    plain = post(server.openai_url(), body, headers=headers)
    shimmed = post(server.openai_url(), body, headers=headers,
                   env=so_env(tmp_path, glob=PLAIN_MODEL))
    assert shimmed.rc == 0, shimmed
    assert shimmed.body == plain.body and len(plain.body) > 100
    assert json.loads(shimmed.body)["object"] == "chat.completion"
    assert "answer passed through unchanged: the answer is not an event stream" in \
        log_text(tmp_path)


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
@pytest.mark.parametrize("prompt", ["short", "long:30000"])
def test_pause_while_the_answer_is_handed_out_at_the_end(server, tmp_path, iface, prompt):
    """A stream without [DONE]: the answer is joined when libcurl reports
    the end, and a program that pauses on a write call then gets the same
    bytes again (it once lost the paused piece)."""
    body = chat_body(MODEL, prompt, stream=None)
    events, answer = native_events(body)
    assert events[-1] == b"data: [DONE]\n\n"
    f = tmp_path / "no-done.sse"
    f.write_bytes(b"".join(events[:-1]))
    for pause_after in (1, 2):
        r, frames = client(server, tmp_path, *iface, "--pause-after", str(pause_after),
                           "--header", f"X-Test-Stream-File: {f}", body=body,
                           settings=so_settings(tmp_path))
        if pause_after == 2 and len(body_calls(frames)) < 2:
            continue  # one write call: nothing to pause on the second
        assert r.returncode == 0, r.stderr
        assert b"paused at call %d" % pause_after in r.stderr
        assert json.loads(r.stdout) == answer
        check_summary(summaries(r)[0], r.stdout)


@pytest.mark.parametrize("tail", [b"data: [DONE]\n", b"data: [DONE]"], ids=["lf", "none"])
def test_a_last_event_without_its_blank_line_is_taken(server, tmp_path, tail):
    """The server closes right after "data: [DONE]\\n" (or without any line
    end): the stream is whole, as the SDK reads it."""
    body = chat_body(MODEL, "Say hello", stream=None)
    events, answer = native_events(body)
    f = tmp_path / "tail.sse"
    f.write_bytes(b"".join(events[:-1]) + tail)
    r = post(server.openai_url(), body, headers=[f"X-Test-Stream-File: {f}"],
             env=so_env(tmp_path))
    assert json_answer(r) == answer


def test_a_cut_last_event_still_passes_through(server, tmp_path):
    """A last event cut inside its JSON is no event: the stream passes
    through unchanged, never a joined answer without it."""
    body = chat_body(MODEL, "Say hello", stream=None)
    events, _ = native_events(body)
    usage = events[-2]  # the usage chunk, then [DONE]
    f = tmp_path / "cut.sse"
    f.write_bytes(b"".join(events[:-2]) + usage[:len(usage) // 2])
    r = post(server.openai_url(), body, headers=[f"X-Test-Stream-File: {f}"],
             env=so_env(tmp_path))
    assert r.rc == 0 and r.body == f.read_bytes()
    assert r.header("Content-Type") == "text/event-stream; charset=utf-8"
    assert "answer passed through unchanged" in log_text(tmp_path)


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_fail_on_error_fails_an_empty_error_answer(server, tmp_path, chunked):
    """Auto mode watches a request that does not stream; a 400 with an empty
    body is no refusal: `curl -f` fails it (exit 22) as without the shim."""
    body = chat_body(PLAIN_MODEL, "Say hello", stream=None)
    headers = ["X-Test-Status: 400", "X-Test-Empty-Body: 1"] + \
        (["X-Test-Chunked: 1"] if chunked else [])
    plain = post(server.openai_url(), body, "-f", headers=headers)
    shimmed = post(server.openai_url(), body, "-f", headers=headers, env=auto_env(tmp_path))
    assert plain.rc == 22 and shimmed.rc == 22, shimmed
    assert b"The requested URL returned error: 400" in shimmed.stderr
    assert shimmed.body == plain.body == b""


def test_a_chunk_with_a_message_member_is_written_once(server, tmp_path):
    """Some servers put "message" beside "delta" in a chunk's choice: the
    answer's choice has one "message", the joined one."""
    body = chat_body(MODEL, "Say hello", stream=None)
    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": MODEL,
             "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hello world"},
                          "message": {"content": ""}, "finish_reason": None}]}
    last = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": MODEL,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    f = tmp_path / "message.sse"
    f.write_bytes(b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in (chunk, last))
                  + b"data: [DONE]\n\n")
    r = post(server.openai_url(), body, headers=[f"X-Test-Stream-File: {f}"],
             env=so_env(tmp_path))
    assert r.body.count(b'"message"') == 1, r.body
    assert json_answer(r)["choices"][0]["message"]["content"] == "Hello world"


def test_learned_refusals_to_stream_stay_six_fields(server, tmp_path):
    """A refusal to stream is written as the six fields older versions read
    (a long-running process of an older release sharing the file keeps
    it); one of a model that only streams says so in a seventh."""
    env = auto_env(tmp_path)
    r = post(server.openai_url(), chat_body("o3-mini", "Say hello"), env=env)
    assert r.rc == 0, r
    r = post(server.openai_url(), chat_body(MODEL, "Say hello", stream=None), env=env)
    assert r.rc == 0, r
    lines = [ln.split("\t") for ln in (tmp_path / "refusals").read_text().splitlines()
             if not ln.startswith("#")]
    by_model = {f[1]: f for f in lines}
    assert len(by_model["o3-mini"]) == 6 and by_model["o3-mini"][5] == "built-in"
    assert by_model[MODEL][5:] == ["dashscope-stream-only", "stream-only"]



def test_the_capture_says_joined_or_passed_unchanged(server, tmp_path):
    """The capture's last word: "joined" for a joined answer,
    "passed-unchanged" (with why) for one that reached the program as it
    came."""
    cap = tmp_path / "capture.jsonl"
    body = chat_body(PLAIN_MODEL, "Say hello", stream=None)
    env = so_env(tmp_path, glob=PLAIN_MODEL, capture=str(cap))
    assert post(server.openai_url(), body, env=env).rc == 0
    assert post(server.openai_url(), body, headers=["X-Test-Ignore-Stream: 1"], env=env).rc == 0
    joined, passed = [json.loads(line)["shim"] for line in cap.read_text().splitlines()]
    assert joined["action"] == "joined" and PLAIN_MODEL in joined["why"]
    assert passed["action"] == "passed-unchanged"
    assert passed["why"] == "the answer is not an event stream"
    assert [n["action"] for n in passed["notes"]] == ["joined", "passed-unchanged"]
