"""A mitmproxy addon that de-streams chat completions, the proxy way of
doing the shim's job, for the benchmark's comparison (tests/bench/mitm.py):
a POST whose JSON body has "stream": true for a model matching
MITM_DESTREAM_MODELS (globs, default gpt-4o*) goes out without "stream"
and "stream_options"; its 2xx JSON answer comes back as a chat completion
event stream: a role chunk, one content chunk, a finish chunk with the
usage, then [DONE]. Deliberately small: the figure is the proxy's cost,
not a faithful encoder.

    mitmdump --mode reverse:http://HOST:PORT -s tests/bench/mitm_destream.py
"""
import fnmatch
import json
import os

MODELS = os.environ.get("MITM_DESTREAM_MODELS", "gpt-4o*").split(",")


def _event(obj):
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def to_events(answer):
    """The event stream of one chat.completion answer (a dict)."""
    head = {k: answer.get(k) for k in ("id", "created", "model", "system_fingerprint")}
    head["object"] = "chat.completion.chunk"
    out = []
    for choice in answer.get("choices", []):
        msg = choice.get("message") or {}
        i = choice.get("index", 0)
        out.append(_event(dict(head, choices=[{"index": i, "delta": {
            "role": msg.get("role", "assistant"), "content": ""}, "finish_reason": None}])))
        if msg.get("content"):
            out.append(_event(dict(head, choices=[{"index": i, "delta": {
                "content": msg["content"]}, "finish_reason": None}])))
        out.append(_event(dict(head, choices=[{"index": i, "delta": {},
                                               "finish_reason": choice.get("finish_reason")}])))
    if answer.get("usage") is not None:
        out.append(_event(dict(head, choices=[], usage=answer["usage"])))
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


class Destream:
    def request(self, flow):
        if flow.request.method != "POST":
            return
        try:
            body = json.loads(flow.request.content)
        except ValueError:
            return
        if not isinstance(body, dict) or body.get("stream") is not True:
            return
        if not any(fnmatch.fnmatchcase(str(body.get("model", "")), g) for g in MODELS):
            return
        body.pop("stream")
        body.pop("stream_options", None)
        flow.request.content = json.dumps(body, separators=(",", ":")).encode()
        flow.metadata["destream"] = True

    def response(self, flow):
        if not flow.metadata.get("destream") or not 200 <= flow.response.status_code < 300:
            return
        try:
            answer = json.loads(flow.response.content)
        except ValueError:
            return
        flow.response.content = to_events(answer)
        flow.response.headers["content-type"] = "text/event-stream"


addons = [Destream()]
