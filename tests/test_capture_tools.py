"""`streamshim har` and `streamshim stats`: the readers of a capture file
(scripts/streamshim-capture.c and scripts/capture_*.c, run through the
wrapper scripts/streamshim; the format is scripts/man/streamshim-capture.5).

The fixtures (tests/fixtures/capture/*.jsonl) are records made by hand
after the format: a pass-through GET, a de-streamed Azure chat POST with
the events the program was handed, an auto-mode retry (two attempts),
base64 bodies, a truncated body, records of two processes (a streamed
pass-through, a failed connection, a cancelled transfer, a form POST) and
a file with malformed lines between good ones. The HAR is checked with the
npm har-validator (tests/har, installed by scripts/install-deps)."""

import json
import re
import shutil
import subprocess

import pytest

from conftest import BUILD_DIR, ROOT, plain_env, run

WRAPPER = ROOT / "scripts" / "streamshim"
TOOL = BUILD_DIR / "streamshim-capture"
FIX = ROOT / "tests" / "fixtures" / "capture"
HAR_DIR = ROOT / "tests" / "har"
MAN = ROOT / "scripts" / "man" / "streamshim-capture.5"


def env(**extra):
    """The wrapper finds streamshim-capture next to this build's library."""
    return plain_env(STREAMSHIM_LIBRARY=BUILD_DIR / "libstreamshim.so", **extra)


@pytest.fixture(autouse=True)
def built():
    if not TOOL.is_file():
        pytest.fail(f"{TOOL} is not built (make BUILD={BUILD_DIR.name} all)", pytrace=False)


def tool(*args, input=None):
    r = run([WRAPPER, *args], env=env(), input=input)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def har(name_or_dash, input=None):
    path = name_or_dash if name_or_dash == "-" else FIX / name_or_dash
    rc, out, err = tool("har", path, input=input)
    return rc, (json.loads(out) if out else None), err


def entries(name):
    rc, doc, err = har(name)
    assert rc == 0, err
    return doc["log"]["entries"]


def records(name):
    return [json.loads(l) for l in (FIX / name).read_text().splitlines() if l.strip()]


def validate_har(tmp_path, *docs):
    """Run har-validator on each HAR document; fails clearly when Node or
    the package is missing (scripts/install-deps installs both)."""
    node = shutil.which("node")
    if not node:
        pytest.fail("node is not installed: run scripts/install-deps (it installs nodejs "
                    "and npm, then har-validator in tests/har)", pytrace=False)
    if not (HAR_DIR / "node_modules" / "har-validator").is_dir():
        pytest.fail(f"har-validator is not installed in {HAR_DIR}: run scripts/install-deps "
                    "(npm ci in tests/har)", pytrace=False)
    files = []
    for i, d in enumerate(docs):
        f = tmp_path / f"doc{i}.har"
        f.write_text(json.dumps(d))
        files.append(str(f))
    r = subprocess.run([node, str(HAR_DIR / "validate.js"), *files], cwd=str(HAR_DIR),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
                       env=plain_env())
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    assert r.stdout.decode().count("ok ") == len(docs)


FIXTURES = sorted(p.name for p in FIX.glob("*.jsonl"))


# ---------------------------------------------------------------------------
# har

def test_har_is_valid_with_one_entry_per_attempt(tmp_path):
    docs = []
    for name in FIXTURES:
        rc, doc, err = har(name)
        assert rc == (1 if name == "malformed.jsonl" else 0), (name, err)
        good = [r for r in (json.loads(l) for l in (FIX / name).read_text().splitlines()
                            if _is_record(l))]
        assert len(doc["log"]["entries"]) == sum(len(r["attempts"]) for r in good), name
        assert doc["log"]["version"] == "1.2"
        assert doc["log"]["creator"] == {"name": "streamshim", "version": "0.1.0"}
        for e in doc["log"]["entries"]:
            t = e["timings"]
            assert t["send"] >= 0 and t["wait"] >= 0 and t["receive"] >= 0, (name, t)
            parts = [t[k] for k in ("blocked", "dns", "connect", "send", "wait", "receive")]
            assert e["time"] == pytest.approx(sum(v for v in parts if v > 0)), (name, e)
            assert e["cache"] == {} and e["request"]["cookies"] == []
            assert e["request"]["headersSize"] == -1 and e["response"]["headersSize"] == -1
        docs.append(doc)
    validate_har(tmp_path, *docs)


def _is_record(line):
    try:
        r = json.loads(line)
    except ValueError:
        return False
    return isinstance(r, dict) and bool(r.get("attempts"))


def test_har_pass_through_get():
    (e,) = entries("passthrough-get.jsonl")
    assert e["startedDateTime"] == "2026-12-02T03:50:14.123Z"
    rq = e["request"]
    assert rq["method"] == "GET" and rq["httpVersion"] == "HTTP/1.1"
    # The redaction marker's brackets and space are not URI characters.
    assert rq["url"] == ("https://api.example.com/v1/models?limit=2&"
                         "api_key=%5Bredacted%2012%5D&q=two+words%21")
    assert rq["queryString"] == [{"name": "limit", "value": "2"},
                                 {"name": "api_key", "value": "[redacted 12]"},
                                 {"name": "q", "value": "two words!"}]
    assert rq["headers"] == [{"name": "Host", "value": "api.example.com"},
                             {"name": "Authorization", "value": "Bearer [redacted 51]"},
                             {"name": "Accept", "value": "*/*"},
                             {"name": "X-Tag", "value": "a"}, {"name": "X-Tag", "value": "b"}]
    assert rq["bodySize"] == 0 and "postData" not in rq
    rs = e["response"]
    assert (rs["status"], rs["statusText"], rs["httpVersion"]) == (200, "OK", "HTTP/1.1")
    assert rs["content"] == {"size": 59, "mimeType": "application/json",
                             "text": records("passthrough-get.jsonl")[0]["attempts"][0]
                             ["response"]["body"]["text"]}
    assert rs["redirectURL"] == "" and rs["bodySize"] == 59 and rs["cookies"] == []
    assert {"name": "Set-Cookie", "value": "[redacted 20]"} in rs["headers"]
    # info: connect 200, pretransfer 300, starttransfer 800, total 5100 (us), https
    assert e["timings"] == {"blocked": -1, "dns": -1, "connect": 0.3, "ssl": 0.1,
                            "send": 0, "wait": 0.5, "receive": 4.3}
    assert e["time"] == pytest.approx(5.1)
    s = e["_streamshim"]
    assert (s["pid"], s["transfer"], s["attempt"], s["attempts"], s["retry"]) == (4242, 1, 1, 1, None)
    assert (s["action"], s["result"], s["end"]) == ("pass-through", 0, "seen")
    assert "_handed" not in e


def test_har_destreamed_chat_keeps_the_server_answer_and_adds_handed():
    rec = records("destreamed-chat.jsonl")[0]
    a = rec["attempts"][0]
    (e,) = entries("destreamed-chat.jsonl")
    rq = e["request"]
    assert rq["method"] == "POST"
    assert rq["queryString"] == [{"name": "api-version", "value": "2024-12-01-preview"}]
    assert rq["postData"] == {"mimeType": "application/json", "text": a["request"]["body"]["text"]}
    assert rq["bodySize"] == a["request"]["body"]["size"]
    assert {"name": "api-key", "value": "[redacted 32]"} in rq["headers"]
    rs = e["response"]
    assert rs["status"] == 200
    assert rs["content"]["mimeType"] == "application/json"
    assert rs["content"]["text"] == a["response"]["body"]["text"]
    h = e["_handed"]
    assert h["status"] == 200
    assert h["headers"] == [{"name": "Content-Type", "value": "text/event-stream; charset=utf-8"}]
    assert h["content"] == {"size": a["handed"]["body"]["size"],
                            "mimeType": "text/event-stream; charset=utf-8",
                            "text": a["handed"]["body"]["text"]}
    assert h["events_us"] == [50100, 50150, 50200]
    s = e["_streamshim"]
    assert s["action"] == "destreamed" and s["why"] == "model o3-mini matches o3-mini*"
    assert s["program_body"] == a["request"]["program_body"]
    assert s["info"] == a["info"]
    assert e["timings"]["connect"] == 9 and e["timings"]["ssl"] == 6
    assert e["timings"]["wait"] == 39 and e["timings"]["receive"] == pytest.approx(4.3)


def test_har_retry_is_two_linked_entries():
    rec = records("auto-retry.jsonl")[0]
    first, second = entries("auto-retry.jsonl")
    s1, s2 = first["_streamshim"], second["_streamshim"]
    for s in (s1, s2):
        assert (s["pid"], s["transfer"], s["attempts"]) == (4242, 3, 2)
        assert s["action"] == "retried" and s["start"] == rec["start"]
        assert s["transfer_end_us"] == 91000
    assert (s1["attempt"], s1["retry"]) == (1, None)
    assert (s2["attempt"], s2["retry"]) == (2, "without_stream")
    assert [n["action"] for n in s1["notes"]] == ["watching", "refused"]
    assert [n["action"] for n in s2["notes"]] == ["destreamed"]
    # transfer start .500000 + attempt start_us
    assert first["startedDateTime"] == "2026-12-02T03:50:20.500Z"
    assert second["startedDateTime"] == "2026-12-02T03:50:20.521Z"
    # The refusal as the server sent it; the program was handed nothing.
    assert first["response"]["status"] == 400 and first["response"]["httpVersion"] == "HTTP/2"
    assert json.loads(first["response"]["content"]["text"])["error"]["param"] == "stream"
    assert first["_handed"] == {"status": 0, "headers": [],
                                "content": {"size": 0, "mimeType": "", "text": ""}}
    assert json.loads(first["request"]["postData"]["text"])["stream"] is True
    assert "stream" not in json.loads(second["request"]["postData"]["text"])
    assert second["_streamshim"]["program_body"] == rec["attempts"][1]["request"]["program_body"]
    assert second["response"]["status"] == 200
    assert second["_handed"]["events_us"] == [88000, 88100, 88200]
    # A reused connection (connect_us 0): its setup is blocked time.
    assert second["timings"]["connect"] == -1 and second["timings"]["blocked"] == 0.1
    assert second["timings"]["wait"] == 63.4 and second["timings"]["receive"] == 6
    assert second["time"] == pytest.approx(69.5)


def test_har_base64_bodies():
    rec = records("base64-body.jsonl")[0]["attempts"][0]
    (e,) = entries("base64-body.jsonl")
    pd = e["request"]["postData"]
    assert pd == {"mimeType": "application/octet-stream",
                  "text": rec["request"]["body"]["base64"], "_encoding": "base64"}
    assert e["request"]["bodySize"] == 6
    c = e["response"]["content"]
    assert c == {"size": 10, "mimeType": "image/png", "text": rec["response"]["body"]["base64"],
                 "encoding": "base64"}
    assert e["response"]["redirectURL"] == "http://127.0.0.1:8080/upload/blob.bin"
    # No info: the timings come from start_us, first_byte_us, end_us.
    assert e["timings"] == {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1,
                            "send": 0, "wait": 1.5, "receive": 1.5}
    assert e["startedDateTime"] == "2026-12-02T03:51:00.000Z"


def test_har_truncated_body():
    (e,) = entries("truncated.jsonl")
    c = e["response"]["content"]
    assert c["size"] == 2097152 and c["text"] == "x" * 64 and c["_truncated"] is True
    assert "truncated" in c["comment"]
    assert e["response"]["bodySize"] == 2097152


def test_har_two_pids_failed_connection_form_and_extra_blocks():
    es = entries("two-pids.jsonl")
    assert [(e["_streamshim"]["pid"], e["_streamshim"]["transfer"]) for e in es] == \
        [(100, 1), (200, 1), (100, 2), (200, 2)]
    stream, failed, cancelled, form = es
    assert stream["response"]["_events_us"] == [15000, 39000]
    assert stream["response"]["content"]["mimeType"] == "text/event-stream"
    # No answer at all: an empty response with the error.
    r = failed["response"]
    assert (r["status"], r["httpVersion"], r["bodySize"]) == (0, "", -1)
    assert r["_error"] == "Couldn't connect to server"
    assert failed["_streamshim"]["result"] == 7
    assert cancelled["_streamshim"]["end"] == "cancelled"
    assert cancelled["request"]["url"].endswith("/openai/deployments/my%20dep/embeddings?api-version=1")
    pd = form["request"]["postData"]
    assert pd["mimeType"] == "application/x-www-form-urlencoded"
    assert pd["params"] == [{"name": "user", "value": "ann"},
                            {"name": "password", "value": "[redacted 6]"},
                            {"name": "note", "value": "a b&c"}]
    assert form["response"]["redirectURL"] == "/next"
    assert form["response"]["_informational"] == [{"status": 100, "headers": []}]
    assert form["response"]["_trailers"] == [{"name": "X-Checksum", "value": "abc"}]
    assert "_earlier" not in form["response"]  # empty: left out


def test_har_skips_malformed_lines(tmp_path):
    rc, doc, err = har("malformed.jsonl")
    assert rc == 1
    lines = [l for l in err.splitlines() if ": line " in l]
    assert [l.split(": line ")[1].split(":")[0] for l in lines] == ["2", "3", "4"], err
    assert "malformed.jsonl: line 3: attempts: empty; skipped" in err
    assert "3 malformed lines skipped" in err
    assert [e["_streamshim"]["transfer"] for e in doc["log"]["entries"]] == [1, 2]
    validate_har(tmp_path, doc)


def test_har_reads_standard_input():
    text = (FIX / "auto-retry.jsonl").read_text()
    rc, doc, err = har("-", input=text)
    assert rc == 0, err
    assert len(doc["log"]["entries"]) == 2


# ---------------------------------------------------------------------------
# stats

HEAD = ["TRANSFER", "METHOD", "PATH", "MODEL", "STATUS", "BYTES_UP", "BYTES_DOWN",
        "TOTAL_MS", "TTFB_MS", "TTFT_MS", "SHIM"]


def table(out):
    """The table as lists of cells, cut at the headings' columns (numbers
    are right-aligned under theirs)."""
    lines = out.rstrip("\n").split("\n")
    head = lines[0]
    assert head.split() == HEAD, head
    starts = [head.index(h) for h in HEAD]
    # a right-aligned column ends where its heading ends
    right = {"STATUS", "BYTES_UP", "BYTES_DOWN", "TOTAL_MS", "TTFB_MS", "TTFT_MS"}
    rows = []
    for l in lines[1:]:
        cells = []
        for k, h in enumerate(HEAD):
            a = starts[k]
            b = starts[k + 1] if k + 1 < len(HEAD) else len(l)
            cells.append(l[a:b].strip())
        rows.append(cells)
        for k, h in enumerate(HEAD[:-1]):  # aligned: two spaces before each column
            assert l[starts[k + 1] - 2:starts[k + 1]] == "  ", (l, h)
    return rows


def stats(*args, input=None):
    return tool("stats", *args, input=input)


def test_stats_table_rows():
    expect = {
        "passthrough-get.jsonl": [
            ["4242:1", "GET", "/v1/models", "-", "200", "0", "59", "5.1", "0.8", "-", "pass-through"]],
        "destreamed-chat.jsonl": [
            ["4242:2", "POST", "/openai/deployments/o3-mini/chat/completions", "o3-mini", "200",
             "52", "262", "52.3", "48.0", "50.1", "destreamed"]],
        # both attempts' bytes; status, TTFB and TTFT of what the program got
        "auto-retry.jsonl": [
            ["4242:3", "POST", "/v1/chat/completions", "o1", "200", "130", "384", "91.0", "85.0",
             "88.0", "retried"]],
        "base64-body.jsonl": [
            ["4242:4", "PUT", "/upload/blob.bin", "-", "201", "6", "10", "3.0", "1.5", "-",
             "pass-through"]],
        "truncated.jsonl": [
            ["4242:5", "GET", "/big.txt", "-", "200", "0", "2097152", "250.0", "1.0", "-",
             "pass-through"]],
        # the Azure deployment wins over the body's model (Azure routes by it)
        "two-pids.jsonl": [
            ["100:1", "POST", "/v1/chat/completions", "gpt-4o", "200", "46", "61", "40.0", "10.0",
             "15.0", "pass-through"],
            ["200:1", "GET", "/health", "-", "-", "0", "0", "0.7", "-", "-", "pass-through"],
            ["100:2", "POST", "/openai/deployments/my%20dep/embeddings", "my dep", "200", "31",
             "4", "2.5", "2.0", "-", "passed-unchanged"],
            ["200:2", "POST", "/form", "-", "302", "43", "0", "1.0", "0.4", "-", "pass-through"]],
    }
    for name, rows in expect.items():
        rc, out, err = stats(FIX / name)
        assert rc == 0 and err == "", (name, err)
        got = table(out)
        assert got[:-1] == rows, name
    rc, out, err = stats(FIX / "two-pids.jsonl")
    assert table(out)[-1] == ["total", "", "4 transfers, 4 attempts", "", "", "120", "65",
                              "44.2", "", "", "3 pass-through, 1 passed-unchanged"]
    rc, out, err = stats(FIX / "auto-retry.jsonl")
    assert table(out)[-1] == ["total", "", "1 transfer, 2 attempts", "", "", "130", "384",
                              "91.0", "", "", "1 retried"]


def test_stats_json():
    rc, out, err = stats("--json", FIX / "auto-retry.jsonl")
    assert rc == 0, err
    doc = json.loads(out)
    (t,) = doc["transfers"]
    assert t == {"pid": 4242, "transfer": 3, "start": "2026-12-02T03:50:20.500000Z",
                 "method": "POST", "url": "https://api.openai.com/v1/chat/completions",
                 "path": "/v1/chat/completions", "model": "o1", "status": 200, "attempts": 2,
                 "bytes_up": 130, "bytes_down": 384, "total_ms": 91.0, "ttfb_ms": 85.0,
                 "ttft_ms": 88.0, "action": "retried",
                 "why": "refused: rule built-in; retried without stream", "result": 0,
                 "error": "No error", "end": "seen"}
    assert doc["totals"] == {"transfers": 1, "attempts": 2, "bytes_up": 130, "bytes_down": 384,
                             "total_ms": 91.0, "actions": {"retried": 1}, "skipped_lines": 0}

    rc, out, err = stats("--json", FIX / "two-pids.jsonl")
    doc = json.loads(out)
    by = {(t["pid"], t["transfer"]): t for t in doc["transfers"]}
    failed = by[(200, 1)]
    assert failed["status"] is None and failed["ttfb_ms"] is None and failed["ttft_ms"] is None
    assert failed["model"] is None and failed["result"] == 7
    assert by[(100, 2)]["model"] == "my dep" and by[(100, 2)]["end"] == "cancelled"
    assert by[(100, 1)]["ttft_ms"] == 15.0 and by[(100, 1)]["total_ms"] == 40.0
    assert by[(200, 2)]["why"] == "not an LLM request"
    assert doc["totals"] == {"transfers": 4, "attempts": 4, "bytes_up": 120, "bytes_down": 65,
                             "total_ms": 44.2,
                             "actions": {"pass-through": 3, "passed-unchanged": 1},
                             "skipped_lines": 0}

    rc, out, err = stats("--json", FIX / "destreamed-chat.jsonl")
    (t,) = json.loads(out)["transfers"]
    assert (t["model"], t["ttft_ms"], t["total_ms"], t["ttfb_ms"]) == ("o3-mini", 50.1, 52.3, 48.0)


def test_stats_reads_standard_input():
    text = (FIX / "two-pids.jsonl").read_text()
    rc, out, err = stats("-", input=text)
    assert rc == 0, err
    assert [r[0] for r in table(out)] == ["100:1", "200:1", "100:2", "200:2", "total"]
    rc, out, err = stats("--json", "-", input=text)
    assert rc == 0 and json.loads(out)["totals"]["transfers"] == 4


def test_stats_malformed_lines_warn_and_exit_1():
    rc, out, err = stats(FIX / "malformed.jsonl")
    assert rc == 1
    assert f"{FIX / 'malformed.jsonl'}: line 2: not one valid JSON value; skipped" in err
    assert "line 3: attempts: empty; skipped" in err
    assert "line 4: not a JSON object; skipped" in err
    assert [r[0] for r in table(out)] == ["4242:1", "4242:2", "total"]
    rc, out, err = stats("--json", FIX / "malformed.jsonl")
    assert rc == 1 and json.loads(out)["totals"]["skipped_lines"] == 3


def test_missing_or_unreadable_file_exits_2(tmp_path):
    for cmd in (["har"], ["stats"], ["stats", "--json"]):
        rc, out, err = tool(*cmd, tmp_path / "absent.jsonl")
        assert rc == 2 and out == "", (cmd, out)
        assert "cannot read" in err and "absent.jsonl" in err
        rc, out, err = tool(*cmd, tmp_path)  # a directory
        assert rc == 2 and "cannot read" in err, (cmd, err)


def _line(rec):
    return json.dumps(rec, separators=(",", ":"))


def test_record_checks_and_tolerance():
    good = records("passthrough-get.jsonl")[0]
    newer = dict(good, capture=2, transfer=9, future_member={"x": 1})  # unknown members ignored
    bad_headers = json.loads(_line(good))
    bad_headers["attempts"][0]["request"]["headers"] = [["Host"]]
    bad_start = dict(good, start="2026-12-02 03:50:14")
    bad_body = json.loads(_line(good))
    bad_body["attempts"][0]["response"]["body"] = {"size": 1, "text": "a", "base64": "YQ=="}
    no_url = json.loads(_line(good))
    del no_url["attempts"][0]["request"]["url"]
    text = "\n".join([_line(good), "", "   ", _line(newer), _line(bad_headers), _line(bad_start),
                      _line(bad_body), _line(no_url), '{"capture":1} trailing',
                      _line(dict(good, transfer=10))])  # a last line without its newline
    rc, out, err = stats("--json", "-", input=text)
    assert rc == 1
    assert [t["transfer"] for t in json.loads(out)["transfers"]] == [1, 9, 10]
    assert "line 5: attempts[0].request.headers: not a list of [name, value] strings" in err
    assert "line 6: start: not a UTC time" in err
    assert "line 7: attempts[0].response.body: needs either text or base64" in err
    assert "line 8: attempts[0].request.url: missing" in err
    assert "line 9: not one valid JSON value" in err
    assert "5 malformed lines skipped" in err
    rc, out, err = stats("-", input=_line(good) + "\n" + '{"capture":1,"pid"')
    assert rc == 1 and "line 2: not one valid JSON value (an incomplete last line)" in err


def test_stats_escapes_what_it_shows():
    rec = records("passthrough-get.jsonl")[0]
    rec["attempts"][0]["request"]["url"] = "http://h/a\u001b[31mred\tx"
    rec["attempts"][0]["request"]["body"] = {"size": 20, "text": '{"model":"m\\u0007"}'}
    rc, out, err = stats("-", input=_line(rec) + "\n")
    assert rc == 0, err
    row = table(out)[0]
    assert row[2] == "/a\\x1b[31mred\\tx" and row[3] == "m\\x07"
    assert "\x1b" not in out and "\x07" not in out
    rc, out, err = stats("--json", "-", input=_line(rec) + "\n")
    t = json.loads(out)["transfers"][0]
    assert t["path"] == "/a\u001b[31mred\tx" and t["model"] == "m\u0007"


def test_model_prefers_the_programs_body():
    rec = records("passthrough-get.jsonl")[0]
    rq = rec["attempts"][0]["request"]
    rq["url"] = "https://api.openai.com/v1/chat/completions"
    rq["body"] = {"size": 16, "text": '{"model":"sent"}'}
    rq["program_body"] = {"size": 19, "text": '{"model":"program"}'}
    rc, out, err = stats("--json", "-", input=_line(rec) + "\n")
    assert json.loads(out)["transfers"][0]["model"] == "program"
    del rq["program_body"]
    rc, out, err = stats("--json", "-", input=_line(rec) + "\n")
    assert json.loads(out)["transfers"][0]["model"] == "sent"


# ---------------------------------------------------------------------------
# Usage, the wrapper, the man page

def test_usage():
    for args in (["har"], ["stats", "--json"], ["stats", "--bogus", "f"], ["har", "a", "b"]):
        rc, out, err = tool(*args)
        assert rc == 2 and "streamshim:" in err, (args, err)
    for args in (["har", "--help"], ["stats", "-h"]):
        rc, out, err = tool(*args)
        assert rc == 0 and out.startswith("Usage: streamshim har FILE\n"), args
        assert "stats [--json] FILE" in out and "--json" in out


def test_wrapper_help_and_missing_tool(tmp_path):
    r = run([WRAPPER, "--help"], env=env())
    out = r.stdout.decode()
    assert r.returncode == 0
    assert "streamshim har FILE" in out and "streamshim stats [--json] FILE" in out
    assert "--capture FILE" in out and "STREAMSHIM_CAPTURE" in out
    # streamshim-capture is looked for next to the library
    r = run([WRAPPER, "stats", FIX / "truncated.jsonl"],
            env=plain_env(STREAMSHIM_LIBRARY=tmp_path / "libstreamshim.so"))
    assert r.returncode == 1 and b"streamshim-capture not found" in r.stderr


@pytest.mark.needs_lib
def test_wrapper_capture_option_is_made_absolute(tmp_path):
    from test_php import wrapper_env  # the sanitizer runtime stays first
    (tmp_path / "rel").mkdir()  # a missing directory is a usage error
    r = run([WRAPPER, "--capture", "rel/run.jsonl", "--", "/usr/bin/env"], env=wrapper_env(),
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"STREAMSHIM_CAPTURE={tmp_path}/rel/run.jsonl\n".encode() in r.stdout
    r = run([WRAPPER, f"--capture={tmp_path}/run.jsonl", "--", "/usr/bin/env"], env=wrapper_env())
    assert f"STREAMSHIM_CAPTURE={tmp_path}/run.jsonl\n".encode() in r.stdout
    r = run([WRAPPER, "--capture", "", "--", "/usr/bin/env"], env=wrapper_env())
    assert r.returncode == 2 and b"--capture needs a file" in r.stderr


def test_man_page_renders_and_names_every_field():
    r = subprocess.run(["groff", "-man", "-ww", "-z", str(MAN)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, check=False)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    r = subprocess.run(["man", "-l", str(MAN)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=dict(plain_env(), MANWIDTH="80"), check=False)
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()
    text = r.stdout.decode()
    # every member the fixtures use (they follow the format) is named
    names = set()

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                names.add(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    for name in FIXTURES:
        for line in (FIX / name).read_text().splitlines():
            if _is_record(line):
                walk(json.loads(line))
    flat = re.sub("\u2010\n\\s*", "", text)  # words hyphenated at a line's end
    flat = " ".join(flat.split())
    missing = sorted(n for n in names if n not in flat)
    assert not missing, missing
    for word in ("0600", "O_NOFOLLOW", "O_APPEND", "write(2)", "capture_max_body",
                 "capture_redact_headers", "capture_redact = off", "streamshim har FILE",
                 "streamshim stats --json FILE", "[redacted N]", "x-goog-api-key"):
        assert word in flat, word
