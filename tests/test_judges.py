"""The official SDKs as judges: every answer of the corpus
(tests/fixtures/chat) goes through the real curl CLI under the shim, and
the openai SDK's own stream accumulator (ChatCompletionStream, run offline
by tests/judge/chat.mjs) must rebuild the non-streamed answer in every
field the SDK keeps. Our own accumulator (tests/sse.py) checks the rest:
strict framing, and the fields the SDK drops or mangles."""

import copy
import json
import re

import pytest

from conftest import CURL, ROOT, chat_body, run, shim_env
from sse import check_chat_stream

pytestmark = pytest.mark.needs_lib

FIXTURES = sorted((ROOT / "tests" / "fixtures" / "chat").glob("*.json"))


def replay(server, name, **body_members):
    """The shim's replay of fixture `name`, as the curl CLI prints it."""
    body = chat_body("o3-mini", "judge", **body_members)
    r = run([CURL, "-sS", "-N", server.openai_url(), "-H", "Content-Type: application/json",
             "-H", f"X-Test-Fixture: {name}", "--data-binary", "@-"],
            env=shim_env(models="o3-mini"), input=body)
    assert r.returncode == 0, r.stderr
    return r.stdout


STREAMED = {"id", "object", "created", "model", "service_tier", "system_fingerprint",
            "choices", "usage", "prompt_filter_results"}


def sdk_kept(answer, include_usage):
    """What openai-node 6.49's ChatCompletionStream can rebuild from a
    faithful stream of `answer` (its documented behaviours):
    - annotations, and reasoning_content (it keeps only the last piece:
      Object.assign per chunk) are not rebuilt;
    - an empty content or refusal string comes back null (`if (content)`);
    - only the members a chunk carries come back (vendor extras such as
      vLLM's prompt_logprobs are not streamed);
    - system_fingerprint null is dropped; usage only with include_usage
      (then null when the answer has none: every chunk says "usage":null);
    - numbers are JavaScript doubles: an integer above 2^53 is rounded (our
      own accumulator checks the exact bytes);
    - message.parsed and function.parsed_arguments are added (dropped here
      from the SDK's side);
    - choices[].logprobs come back exactly (entries appended to the role
      chunk's object, see tests/sse.py), null when the answer has none or
      omits the key (gpt-5-nano does)."""
    a = {k: v for k, v in copy.deepcopy(answer).items() if k in STREAMED}
    a["created"] = int(float(a["created"]))
    if a.get("system_fingerprint") is None:
        a.pop("system_fingerprint", None)
    if include_usage:
        a["usage"] = a.get("usage")
    else:
        a.pop("usage", None)
    for c in a["choices"]:
        c.setdefault("logprobs", None)
        m = c["message"]
        m.pop("annotations", None)
        m.pop("reasoning_content", None)
        for k in ("content", "refusal"):
            if not m.get(k):
                m[k] = None
        if not m.get("tool_calls"):
            m.pop("tool_calls", None)
        if m.get("function_call") is None:
            m.pop("function_call", None)
    return a


def sdk_clean(final):
    final.pop("obfuscation", None)
    for c in final["choices"]:
        m = c["message"]
        m.pop("parsed", None)
        for t in m.get("tool_calls") or []:
            t["function"].pop("parsed_arguments", None)
        m.pop("reasoning_content", None)
    return final


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
@pytest.mark.parametrize("usage", [False, True], ids=["plain", "include_usage"])
def test_openai_sdk_rebuilds_the_answer(server, judge, fixture, usage):
    answer = json.loads(fixture.read_bytes())
    members = {"stream_options": {"include_usage": True}} if usage else {}
    stream = replay(server, fixture.stem, **members)
    ours = check_chat_stream(stream, answer, expect_usage=(usage and bool(answer.get("usage"))) or None)
    for got, want in zip(ours["choices"], answer["choices"]):
        assert got["message"].get("reasoning_content") == want["message"].get("reasoning_content")
    assert sdk_clean(judge("chat", stream)) == sdk_kept(answer, usage)


TEXT_FIXTURES = sorted((ROOT / "tests" / "fixtures" / "completions").glob("*.json"))


def check_legacy_chunks(stream, answer):
    """Each legacy chunk's logprobs are those of its own text: the four
    arrays equally long, the tokens spelling the chunk's text (a
    "bytes:\\xHH" token stands for those bytes)."""
    def token_bytes(t):
        if t.startswith("bytes:"):
            rest = t[len("bytes:"):]
            return re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]),
                          rest.encode("utf-8"))
        return t.encode("utf-8")
    with_lp = {c["index"] for c in answer["choices"] if c.get("logprobs")}
    for ev in stream.split(b"\n\n")[:-2]:
        chunk = json.loads(ev[len(b"data: "):])
        for c in chunk["choices"]:
            lp = c["logprobs"]
            if c["index"] not in with_lp:
                assert lp is None
                continue
            arrays = [v for v in lp.values() if isinstance(v, list)]
            assert len({len(v) for v in arrays}) == 1, f"arrays of unequal length: {lp}"
            assert b"".join(token_bytes(t) for t in lp["tokens"]) == c["text"].encode("utf-8")


@pytest.mark.parametrize("fixture", TEXT_FIXTURES, ids=[f.stem for f in TEXT_FIXTURES])
@pytest.mark.parametrize("usage", [False, True], ids=["plain", "include_usage"])
def test_legacy_completions_through_the_openai_sdk(server, judge, fixture, usage):
    answer = json.loads(fixture.read_bytes())
    body = json.dumps({"model": "o3-mini", "prompt": "judge", "stream": True,
                       **({"stream_options": {"include_usage": True}} if usage else {})}).encode()
    server.clear()
    r = run([CURL, "-sS", "-N", server.url + "/v1/completions", "-H",
             "Content-Type: application/json", "-H", f"X-Test-Fixture: {fixture.stem}",
             "--data-binary", "@-"], env=shim_env(models="o3-mini"), input=body)
    assert r.returncode == 0, r.stderr
    assert "stream" not in server.requests()[0].json()
    events = r.stdout.split(b"\n\n")
    assert events[-2:] == [b"data: [DONE]", b""]
    assert all(e.startswith(b"data: {") for e in events[:-2])
    check_legacy_chunks(r.stdout, answer)
    got = judge("completions", r.stdout, include_usage=usage)
    want = {k: v for k, v in answer.items() if k in STREAMED}
    if not usage or want.get("usage") is None:
        want.pop("usage", None)
    assert got == want
