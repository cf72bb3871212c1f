"""The Responses API replay, judged by the official SDK: every answer of the
corpus (tests/fixtures/responses) goes through the real curl CLI under the
shim, on OpenAI's /v1/responses and (for a few) Azure's
/openai/responses?api-version=... and /openai/v1/responses, and

- the server received the request without `stream` / `stream_options`;
- the framing is strict: each event is exactly an `event:` line equal to
  the data's type and one `data:` line of JSON, sequence_number runs
  0..N-1, no [DONE], the stream ends after the terminal event;
- our own accumulator (below) rebuilds every item from its
  output_item.added form and the events after it, and that equals the
  answer's item; every done event equals the concatenated deltas;
- the openai SDK's ResponseStream (tests/judge/responses.mjs) ends with a
  final response equal to the answer, and its own accumulator rebuilds
  every item before the done event replaces it.

Answers the encoder refuses (tests/fixtures/responses/refused-*.json) must
reach curl byte-identical to the server's JSON."""

import copy
import json

import pytest

from conftest import CURL, ROOT, run, shim_env
from sse import parse_sse

pytestmark = pytest.mark.needs_lib

FIXDIR = ROOT / "tests" / "fixtures" / "responses"
ALL = sorted(FIXDIR.glob("*.json"))
FIXTURES = [f for f in ALL if not f.stem.startswith("refused-")]
REFUSED = [f for f in ALL if f.stem.startswith("refused-")]

ROUTES = {
    "openai": ("/v1/responses", []),
    "azure": ("/openai/responses?api-version=2025-04-01-preview", ["api-key: test-key"]),
    "azure-v1": ("/openai/v1/responses", ["api-key: test-key"]),
}
# The fixtures also replayed on the Azure routes.
AZURE_CASES = ["azure-o3-mini", "function-call-single", "reasoning-summary-message",
               "text-escapes-ascii"]
TERMINAL = {"completed": "response.completed", "incomplete": "response.incomplete",
            "failed": "response.failed"}
# Members of an item that its events do not rebuild: the done item sets
# them (status goes from "in_progress" to the final one; a
# web_search_call's action only comes with the done item).
NOT_STREAMED = ("status", "action")


def request_body(options):
    body = {"model": "o3-mini", "input": "judge", "stream": True}
    if options:
        body["stream_options"] = {"include_obfuscation": False}
    return json.dumps(body).encode()


def replay(server, name, route="openai", chunk=None, options=False):
    """The shim's replay of fixture `name`, as the curl CLI prints it; also
    checks what the server received."""
    path, headers = ROUTES[route]
    cmd = [CURL, "-sS", "-N", server.url + path, "-H", "Content-Type: application/json",
           "-H", f"X-Test-Fixture: {name}", "--data-binary", "@-"]
    for h in headers:
        cmd += ["-H", h]
    env = shim_env(models="o3-mini", **({"chunk": chunk} if chunk else {}))
    server.clear()
    r = run(cmd, env=env, input=request_body(options))
    assert r.returncode == 0, r.stderr
    (req,) = server.requests()
    assert req["path"] == path
    assert req.json() == {"model": "o3-mini", "input": "judge"}
    return r.stdout


def strict_events(stream):
    """The events of a replay, checked for strict framing: a list of
    (type, data dict)."""
    assert stream.endswith(b"\n\n") and b"\r" not in stream
    blocks = stream[:-2].split(b"\n\n")
    events = []
    for seq, block in enumerate(blocks):
        lines = block.split(b"\n")
        assert len(lines) == 2, block[:200]
        assert lines[0].startswith(b"event: ") and lines[1].startswith(b"data: {"), block[:200]
        etype = lines[0][7:].decode()
        data = json.loads(lines[1][6:])
        assert list(data)[:2] == ["type", "sequence_number"]
        assert data["type"] == etype and data["sequence_number"] == seq
        events.append((etype, data))
    assert b"data: [DONE]" not in stream.split(b"\n")
    # a spec-conformant SSE parser sees the same events
    parsed = parse_sse(stream)
    assert [(e.event, json.loads(e.data)) for e in parsed] == events
    return events


def start_form(answer):
    """The response as response.created must show it."""
    r = copy.deepcopy(answer)
    r["status"] = "in_progress"
    r["output"] = []
    for k, v in (("usage", None), ("error", None), ("incomplete_details", None),
                 ("completed_at", None), ("output_text", "")):
        if r.get(k) is not None:
            r[k] = v
    return r


def item_core(item):
    return {k: v for k, v in item.items() if k not in NOT_STREAMED}


class Rebuild:
    """Our accumulator: rebuilds every item from its added form and the
    events that follow, checking each done event against the deltas."""

    def __init__(self, answer):
        self.answer = answer
        self.items = []
        self.texts = {}     # (output_index, where, index) -> delta text so far
        self.lps = {}       # same key -> logprob entries from the deltas

    def part_list(self, ev, where):
        item = self.items[ev["output_index"]]
        assert ev["item_id"] == item["id"]
        if where == "summary":
            return item["summary"]
        return item.setdefault("content", [])

    def apply(self, etype, ev):
        kind = etype[len("response."):]
        if kind == "output_item.added":
            assert ev["output_index"] == len(self.items)
            self.items.append(copy.deepcopy(ev["item"]))
        elif kind == "output_item.done":
            got = self.items[ev["output_index"]]
            assert item_core(got) == item_core(ev["item"])
            assert ev["item"] == self.answer["output"][ev["output_index"]]
            self.items[ev["output_index"]] = ev["item"]
        elif kind in ("content_part.added", "reasoning_summary_part.added"):
            where = "summary" if "summary" in kind else "content"
            parts = self.part_list(ev, where)
            idx = ev["summary_index" if where == "summary" else "content_index"]
            assert idx == len(parts)
            parts.append(copy.deepcopy(ev["part"]))
        elif kind in ("content_part.done", "reasoning_summary_part.done"):
            where = "summary" if "summary" in kind else "content"
            parts = self.part_list(ev, where)
            idx = ev["summary_index" if where == "summary" else "content_index"]
            got, want = dict(parts[idx]), dict(ev["part"])
            if want.get("logprobs"):
                # entries with bytes come only with the done part; the deltas
                # carried them without (checked in done())
                assert [event_logprob(e) for e in want.pop("logprobs")] == \
                    self.lps[(ev["output_index"], "content", idx)]
                got.pop("logprobs")
            assert got == want
            parts[idx] = ev["part"]
        elif kind.endswith(".delta"):
            self.delta(kind, ev)
        elif kind.endswith(".done"):
            self.done(kind, ev)
        elif kind == "output_text.annotation.added":
            part = self.part_list(ev, "content")[ev["content_index"]]
            assert ev["annotation_index"] == len(part["annotations"])
            part["annotations"].append(ev["annotation"])
        elif kind.startswith("web_search_call."):
            assert ev["item_id"] == self.items[ev["output_index"]]["id"]
        else:
            raise AssertionError(f"unexpected event {etype}")

    # the member each streamed text lives in
    TEXT = {"output_text": ("content", "text"), "refusal": ("content", "refusal"),
            "reasoning_text": ("content", "text"), "reasoning_summary_text": ("summary", "text"),
            "function_call_arguments": (None, "arguments"),
            "custom_tool_call_input": (None, "input")}

    def target(self, family, ev):
        where, member = self.TEXT[family]
        if where is None:
            return self.items[ev["output_index"]], member, (ev["output_index"], None, None)
        idx = ev["summary_index" if where == "summary" else "content_index"]
        return self.part_list(ev, where)[idx], member, (ev["output_index"], where, idx)

    def delta(self, kind, ev):
        family = kind[:-len(".delta")]
        obj, member, key = self.target(family, ev)
        assert ev["delta"], "empty delta"
        obj[member] += ev["delta"]
        if family == "output_text" and "logprobs" in obj:
            self.lps.setdefault(key, []).extend(ev["logprobs"])
            self.check_token_text(ev, key)

    def check_token_text(self, ev, key):
        """A delta's text is what the bytes of its logprob entries spell."""
        want = self.answer["output"][key[0]]["content"][key[2]]["logprobs"]
        if not want:
            assert ev["logprobs"] == []
            return
        start = len(self.lps[key]) - len(ev["logprobs"])
        raw = b"".join(bytes(e["bytes"]) for e in want[start:start + len(ev["logprobs"])])
        assert raw.decode("utf-8") == ev["delta"]

    def done(self, kind, ev):
        family = kind[:-len(".done")]
        obj, member, key = self.target(family, ev)
        assert ev[member] == obj[member], f"{kind}: deltas do not spell the text"
        if family == "function_call_arguments":
            assert ev["name"] == obj["name"]
        if family == "output_text" and "logprobs" in obj:
            want = self.answer["output"][key[0]]["content"][key[2]]["logprobs"]
            stripped = [event_logprob(e) for e in want]
            assert ev["logprobs"] == stripped == self.lps.get(key, [])


def event_logprob(entry):
    """A part's logprob entry as the events carry it (no bytes)."""
    out = {"token": entry["token"], "logprob": entry["logprob"]}
    if "top_logprobs" in entry:
        out["top_logprobs"] = [{"token": t["token"], "logprob": t["logprob"]}
                               for t in entry["top_logprobs"]]
    return out


def check_stream(stream, answer):
    """Strict framing, our accumulator and the event ladder's ends."""
    events = strict_events(stream)
    assert events[0] == ("response.created", {"type": "response.created", "sequence_number": 0,
                                              "response": start_form(answer)})
    assert events[1][0] == "response.in_progress"
    assert events[1][1]["response"] == start_form(answer)
    etype, last = events[-1]
    assert etype == TERMINAL[answer["status"]]
    assert last["response"] == answer
    rebuild = Rebuild(answer)
    for etype, ev in events[2:-1]:
        rebuild.apply(etype, ev)
    assert rebuild.items == answer["output"]
    return events


def sdk_clean(final, answer):
    """The SDK's final response without what the SDK adds itself:
    - output_text (ResponsesParser.addOutputText: the joined message
      texts), unless the answer has one;
    - output_parsed, and parsed (message content parts) and
      parsed_arguments (function calls): maybeParseResponse adds them (null
      without a parseable format in the request)."""
    final = copy.deepcopy(final)
    if "output_text" not in answer:
        final.pop("output_text", None)
    final.pop("output_parsed", None)
    for item in final["output"]:
        item.pop("parsed_arguments", None)
        for part in item.get("content") or []:
            part.pop("parsed", None)
    return final


def judge_replay(judge, stream, answer):
    got = judge("responses", stream, items=True)
    assert sdk_clean(got["final"], answer) == answer
    assert len(got["items"]) == len(answer["output"])
    for rebuilt, want in zip(got["items"], answer["output"]):
        assert item_core(rebuilt) == item_core(want)


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_openai_sdk_rebuilds_the_answer(server, judge, fixture):
    answer = json.loads(fixture.read_bytes())
    stream = replay(server, fixture.stem)
    check_stream(stream, answer)
    judge_replay(judge, stream, answer)


AZURE = [(name, route) for name in AZURE_CASES for route in ("azure", "azure-v1")]


@pytest.mark.parametrize("name,route", AZURE, ids=[f"{n}-{r}" for n, r in AZURE])
def test_azure_routes(server, judge, name, route):
    answer = json.loads((FIXDIR / f"{name}.json").read_bytes())
    stream = replay(server, name, route=route, options=True)
    check_stream(stream, answer)
    judge_replay(judge, stream, answer)


@pytest.mark.parametrize("chunk", [1, 7, 100000])
@pytest.mark.parametrize("name", ["text-escapes-ascii", "text-unicode-emoji",
                                  "function-call-nested-args", "logprobs-top"])
def test_piece_sizes(server, judge, name, chunk):
    """Any piece size: one character per delta up to the whole text."""
    answer = json.loads((FIXDIR / f"{name}.json").read_bytes())
    stream = replay(server, name, chunk=chunk)
    events = check_stream(stream, answer)
    deltas = [ev for t, ev in events if t.endswith(".delta")]
    if chunk == 100000 and name != "logprobs-top":
        assert len(deltas) == sum(1 for t, _ in events if t.endswith("text.done")
                                  or t.endswith("arguments.done"))
    judge_replay(judge, stream, answer)


@pytest.mark.parametrize("fixture", REFUSED, ids=[f.stem for f in REFUSED])
def test_refused_answer_passes_through(server, fixture, tmp_path):
    log = tmp_path / "shim.log"
    server.clear()
    r = run([CURL, "-sS", "-N", server.url + "/v1/responses", "-H",
             "Content-Type: application/json", "-H", f"X-Test-Fixture: {fixture.stem}",
             "--data-binary", "@-"],
            env=shim_env(models="o3-mini", log=f"info:{log}"), input=request_body(True))
    assert r.returncode == 0, r.stderr
    assert server.requests()[0].json() == {"model": "o3-mini", "input": "judge"}
    assert r.stdout == fixture.read_bytes()
    assert "output item type not replayed" in log.read_text()
