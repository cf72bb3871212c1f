"""A C program on the easy and the multi interface under the shim: what
its callbacks see, what the server receives, and the handle afterwards."""

import json

import pytest

from conftest import chat_body, run, shim_env
from shimtest import CLIENT, body_calls, header_lines, parse_frames, plain_answer, drop_stream_members
from sse import check_chat_stream

pytestmark = pytest.mark.needs_lib

IFACES = [[], ["--multi"]]
IFACE_IDS = ["easy", "multi"]


def client(server, tmp_path, *opts, body=None, body2=None, url=None, settings=None):
    url = url or server.openai_url()
    bf = tmp_path / "body.json"
    bf.write_bytes(body if body is not None else chat_body("o3-mini"))
    args = [CLIENT, "--calls", tmp_path / "calls", "--header",
            "Content-Type: application/json", *opts, url, bf]
    if body2 is not None:
        bf2 = tmp_path / "body2.json"
        bf2.write_bytes(body2)
        args.append(bf2)
    env = shim_env(**(settings if settings is not None else {"models": "o3-mini*"}))
    if "detect_leaks=0" in env.get("ASAN_OPTIONS", ""):
        # our own client under ASan: leaks of the shim count
        env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"].replace("detect_leaks=0", "detect_leaks=1")
    r = run(args, env=env)
    frames = parse_frames((tmp_path / "calls").read_bytes()) if (tmp_path / "calls").exists() else []
    return r, frames


def summaries(r):
    out = []
    for line in r.stderr.decode().splitlines():
        if line.startswith("result="):
            out.append(dict(kv.split("=", 1) for kv in line.split(" ")))
    return out


def assert_one_event_per_call(calls):
    for c in calls:
        assert c.startswith(b"data: ") and c.endswith(b"\n\n") and c.count(b"\n\n") == 1, c[:200]


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
def test_replay_reaches_callbacks_event_by_event(server, tmp_path, iface):
    body = chat_body("o3-mini")
    r, frames = client(server, tmp_path, *iface, body=body)
    assert r.returncode == 0, r.stderr
    calls = body_calls(frames)
    assert len(calls) > 3
    assert_one_event_per_call(calls)
    assert b"".join(calls) == r.stdout
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))
    hdrs = [h.lower() for h in header_lines(frames)]
    assert hdrs[0].startswith(b"http/1.1 200")
    assert b"content-type: text/event-stream; charset=utf-8\r\n" in hdrs
    assert not any(h.startswith((b"content-length", b"content-encoding")) for h in hdrs)
    assert hdrs[-1] == b"\r\n"
    s = summaries(r)[0]
    assert s["result"] == "0" and s["status"] == "200"
    assert s["ct"] == "text/event-stream;" and s["hdr_ct"] == "text/event-stream;"
    assert s["cl"] == "-1" and int(s["size"]) == len(r.stdout)


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
def test_big_events_are_split_at_16k(server, tmp_path, iface):
    body = chat_body("o3-mini", "long:100000")
    r, frames = client(server, tmp_path, *iface, body=body,
                       settings={"models": "o3-mini", "chunk": "60000"})
    assert r.returncode == 0, r.stderr
    calls = body_calls(frames)
    assert max(len(c) for c in calls) == 16384
    # each event starts a call of its own: a call never ends mid-event and
    # then continues with another event
    events, cur = [], b""
    for c in calls:
        cur += c
        if cur.endswith(b"\n\n"):
            events.append(cur)
            cur = b""
    assert cur == b""
    assert_one_event_per_call(events)
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
@pytest.mark.parametrize("at", [1, 3])
def test_pause_resumes_with_the_refused_event(server, tmp_path, iface, at):
    body = chat_body("o3-mini")
    r, frames = client(server, tmp_path, *iface, "--pause-after", str(at), body=body)
    assert r.returncode == 0, r.stderr
    assert f"paused at call {at}".encode() in r.stderr
    calls = body_calls(frames)
    assert_one_event_per_call(calls)
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))
    r2, frames2 = client(server, tmp_path, *iface, body=body)
    assert r.stdout == r2.stdout
    assert calls == body_calls(frames2)  # nothing lost, nothing doubled


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
def test_short_write_aborts(server, tmp_path, iface):
    r, frames = client(server, tmp_path, *iface, "--abort-after", "2")
    assert summaries(r)[0]["result"] == "23"
    assert len(body_calls(frames)) == 1


# A size set after COPYPOSTFIELDS makes libcurl drop its copy (the program
# would then read stdin): not a valid program, so not a case.
BODY_FORMS = [(m, s) for m in ("ptr", "copy")
              for s in ("none", "before", "after", "large-before", "large-after")
              if not (m == "copy" and "after" in s)]


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
@pytest.mark.parametrize("mode,size", BODY_FORMS)
def test_body_forms_and_reused_handle(server, tmp_path, iface, mode, size):
    body = chat_body("o3-mini", "first request, which is de-streamed")
    body2 = chat_body("o3-mini", "second", stream=False)  # shorter, different
    opts = list(iface) + (["--copy"] if mode == "copy" else [])
    if size != "none":
        opts += ["--size", size]
    server.clear()
    r, frames = client(server, tmp_path, *opts, body=body, body2=body2)
    assert r.returncode == 0, r.stderr
    sent = server.requests()
    assert len(sent) == 2
    assert sent[0].json() == drop_stream_members(body)
    assert sent[0].header("Content-Length") == str(len(sent[0]["body"]))
    # the next request on the handle goes out exactly as the program set it
    assert sent[1]["body"] == body2
    first, second = summaries(r)
    assert first["ct"] == "text/event-stream;"
    assert second["ct"] == "application/json" and second["cl"] != "-1"


def test_reused_handle_with_program_size_kept(server, tmp_path):
    # the program set a size for the first body only; libcurl keeps it for
    # the second (a same-length body here), as without the shim
    body = chat_body("o3-mini", "aaaa")
    body2 = chat_body("o3-mini", "bbbb", stream=False)[:len(body)].ljust(len(body), b" ")
    r, _ = client(server, tmp_path, "--size", "before", body=body, body2=body2)
    assert server.requests()[-1]["body"] == body2


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
@pytest.mark.parametrize("size", [[], ["--size", "large-before"]], ids=["chunked", "sized"])
def test_post_body_from_read_callback(server, tmp_path, iface, size):
    body = chat_body("o3-mini", "read in 7-byte pieces")
    body2 = chat_body("o3-mini", "again", stream=False)
    server.clear()
    r, frames = client(server, tmp_path, "--read", *iface, *size, body=body, body2=body2)
    assert r.returncode == 0, r.stderr
    first, second = server.requests()
    assert first.json() == drop_stream_members(body)
    assert second["body"] == body2
    assert [s["ct"] for s in summaries(r)] == ["text/event-stream;", "application/json"]


def test_content_decoding_off_is_not_destreamed(server, tmp_path):
    r, _ = client(server, tmp_path, "--no-decoding", body=chat_body("o3-mini"))
    assert b"unsupported_value" in r.stdout
    assert json.loads(server.requests()[-1]["body"])["stream"] is True


def test_program_content_length_header_is_fixed(server, tmp_path):
    body = chat_body("o3-mini")
    server.clear()
    r, _ = client(server, tmp_path, "--header", f"Content-Length: {len(body)}", body=body)
    assert r.returncode == 0, r.stderr
    req = server.requests()[0]
    assert req.header("Content-Length") == str(len(req["body"])) != str(len(body))
    assert req.json() == drop_stream_members(body)


def test_default_fwrite_and_headerdata(server, tmp_path):
    body = chat_body("o3-mini")
    r, _ = client(server, tmp_path, "--no-write-fn", "--headerdata-only", body=body)
    assert r.returncode == 0, r.stderr
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))
    assert b"content-type: text/event-stream; charset=utf-8\r\n" in r.stderr.lower()


def test_setopt_and_getinfo_from_inside_the_callback(server, tmp_path):
    body = chat_body("o3-mini")
    r, frames = client(server, tmp_path, "--setopt-in-cb", body=body)
    assert r.returncode == 0, r.stderr
    assert b"in-callback ct=text/event-stream; charset=utf-8" in r.stderr
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))
    assert_one_event_per_call(body_calls(frames))


@pytest.mark.parametrize("how", ["--dup", "--reset"])
def test_duphandle_and_reset(server, tmp_path, how):
    body = chat_body("o3-mini", "one")
    body2 = chat_body("o3-mini", "two")
    server.clear()
    r, _ = client(server, tmp_path, how, body=body, body2=body2)
    assert r.returncode == 0, r.stderr
    assert [s["ct"] for s in summaries(r)] == ["text/event-stream;"] * 2
    assert [q.json() for q in server.requests()] == [drop_stream_members(body), drop_stream_members(body2)]


def test_azure_deployment_decides(server, tmp_path):
    body = chat_body("gpt-4o")  # Azure ignores the body's model
    r, _ = client(server, tmp_path, "--header", "api-key: k", body=body,
                  url=server.azure_url("o3-mini"))
    assert r.returncode == 0, r.stderr
    assert summaries(r)[0]["ct"] == "text/event-stream;"


def test_error_answer_passes_through(server, tmp_path):
    body = chat_body("o3-mini")
    r, frames = client(server, tmp_path, "--header", "X-Test-Status: 429", body=body)
    assert json.loads(r.stdout)["error"]
    assert summaries(r)[0]["status"] == "429"
    assert summaries(r)[0]["ct"].startswith("application/json")


@pytest.mark.parametrize("mode", ["configured", "auto"])
def test_threads_destream_and_pass_through_at_once(server, tmp_path, mode):
    """16 threads at once; in auto mode nothing is configured: the threads
    are refused, retry and learn at the same time (one cache file)."""
    env = shim_env(models="o3-mini") if mode == "configured" else \
        shim_env(cache=str(tmp_path / "refusals"))
    r = run([CLIENT.parent / "threads", server.openai_url(), "16", "12"],
            env=env, timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert r.stdout == b"0 failures\n"


def test_threads_captured_into_one_file(server, tmp_path):
    """16 threads in auto mode (refused, retried, learned at once) all
    capture into one file: every record is one whole JSON line, none lost
    (check-tsan runs this under ThreadSanitizer)."""
    capture = tmp_path / "capture.jsonl"
    env = shim_env(cache=str(tmp_path / "refusals"), capture=str(capture))
    r = run([CLIENT.parent / "threads", server.openai_url(), "16", "12"],
            env=env, timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert r.stdout == b"0 failures\n"
    lines = capture.read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]
    assert len(records) == 16 * 12


# --- life-cycle corners (from review) ---------------------------------------

@pytest.mark.parametrize("model", ["o3-mini", "gpt-4o"])
@pytest.mark.parametrize("form", [[], ["--read"]], ids=["postfields", "read"])
def test_duphandle_of_a_handle_in_a_multi(server, tmp_path, model, form):
    """A copy made before the transfer is finished behaves like the
    original, and the original's buffers stay its own."""
    body = chat_body(model)
    server.clear()
    r, _ = client(server, tmp_path, "--multi", "--dup-in-multi", *form, body=body)
    first, second = summaries(r)
    assert first["result"] == second["result"] == "0", r.stderr
    assert first["ct"] == second["ct"]
    a, b = server.requests()
    assert a["body"] == b["body"]


def test_second_add_leaves_the_running_transfer_alone(server, tmp_path):
    body = chat_body("o3-mini", "long:40000")
    r, frames = client(server, tmp_path, "--multi", "--double-add", body=body,
                       url=server.openai_url())
    assert b"second add: 7" in r.stderr  # CURLM_ADDED_ALREADY
    assert summaries(r)[0]["ct"] == "text/event-stream;"
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))


@pytest.mark.parametrize("how", ["--no-info-read", "--cleanup-multi-first"])
def test_truncated_answer_reaches_programs_that_skip_info_read(server, tmp_path, how):
    body = chat_body("o3-mini")
    hdr = ["--header", "X-Test-Truncate: 100"]
    r, frames = client(server, tmp_path, "--multi", how, *hdr, body=body)
    (tmp_path / "plain.json").write_bytes(chat_body("o3-mini", stream=None))
    plain = run([CLIENT, "--multi", how, "--header", "Content-Type: application/json",
                 *hdr, server.openai_url(), tmp_path / "plain.json"])
    assert len(r.stdout) == 100 and r.stdout == plain.stdout
    lines = header_lines(frames)
    assert lines[0].startswith(b"HTTP/1.1 200") and lines[-1] == b"\r\n"
    assert any(l.lower().startswith(b"content-length:") for l in lines)


def test_cleanup_multi_first_then_reuse(server, tmp_path):
    body = chat_body("o3-mini", "one")
    body2 = chat_body("o3-mini", "two")
    server.clear()
    r, _ = client(server, tmp_path, "--multi", "--cleanup-multi-first", body=body, body2=body2)
    assert [s["ct"] for s in summaries(r)] == ["text/event-stream;"] * 2
    assert [q.json() for q in server.requests()] == [drop_stream_members(body),
                                                     drop_stream_members(body2)]


def test_unreplayable_answer_after_forced_decoding(server, tmp_path):
    """The program sends its own Accept-Encoding (and would decode itself):
    the shim makes libcurl decode, so a non-chat answer passed through must
    not claim an encoding and length it no longer has."""
    r, frames = client(server, tmp_path, "--header", "Accept-Encoding: gzip",
                       "--header", "X-Test-Status: 200", body=chat_body("o3-mini"))
    assert json.loads(r.stdout)["error"]
    lines = [l.lower() for l in header_lines(frames)]
    assert not any(l.startswith((b"content-encoding", b"content-length")) for l in lines)


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
def test_headers_in_body(server, tmp_path, iface):
    """CURLOPT_HEADER (PHP's and pycurl's HEADER option): every header line
    reaches the write callback too, rewritten like the header callback's,
    and the events still come one per call after them."""
    body = chat_body("o3-mini")
    r, frames = client(server, tmp_path, "--include-header", "--header",
                       "Expect: 100-continue", *iface, body=body)
    assert r.returncode == 0, r.stderr
    head, _, stream = r.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 100 Continue")
    head2, _, stream = stream.partition(b"\r\n\r\n")
    assert head2.startswith(b"HTTP/1.1 200")
    assert b"\r\nContent-Type: text/event-stream; charset=utf-8" in head2
    assert b"Content-Length" not in head2
    check_chat_stream(stream, plain_answer(server.openai_url(), body))
    # write and header callbacks saw the same lines, write first
    hdr = header_lines(frames)
    calls = body_calls(frames)
    assert calls[:len(hdr)] == hdr
    assert_one_event_per_call(calls[len(hdr):])
    assert [k for k, _ in frames[:4]] == ["B", "H", "B", "H"]
    # PHP splits the output with CURLINFO_HEADER_SIZE
    hsize = int(summaries(r)[0]["hsize"])
    assert r.stdout[:hsize].endswith(b"\r\n\r\n") and r.stdout[hsize:].startswith(b"data: ")


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
def test_fork_with_live_handles(server, tmp_path, iface):
    body = chat_body("o3-mini")
    r, _ = client(server, tmp_path, "--fork", *iface, body=body)
    assert r.returncode == 0, r.stderr
    assert b"child exit=0" in r.stderr
    assert [s["ct"] for s in summaries(r)] == ["text/event-stream;"] * 2
    one = r.stdout[:len(r.stdout) // 2]
    assert r.stdout == one + one
    check_chat_stream(one, plain_answer(server.openai_url(), body))


@pytest.mark.parametrize("then,method,destreamed", [
    ([], "POST", True),
    (["httpget=1"], "GET", False),
    (["httpget=1", "post=1"], "POST", True),
    (["nobody=1", "nobody=0"], "GET", False),   # libcurl: HEAD undone is GET
    (["post=0"], "GET", False),
])
def test_effective_method_in_any_order(server, tmp_path, then, method, destreamed):
    body = chat_body("o3-mini")
    opts = [x for t in then for x in ("--then", t)]
    server.clear()
    r, _ = client(server, tmp_path, *opts, body=body)
    req = server.requests()[0]
    assert req["method"] == method
    if destreamed:
        assert req.json() == drop_stream_members(body)
        assert summaries(r)[0]["ct"] == "text/event-stream;"
    else:
        assert summaries(r)[0]["ct"] != "text/event-stream;"


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
def test_callbacks_changed_between_transfers(server, tmp_path, iface):
    """After a de-streamed transfer the program sets a new write function
    and drops its header function: the next transfer uses exactly those."""
    body = chat_body("o3-mini", "one")
    body2 = chat_body("o3-mini", "two")
    r, frames = client(server, tmp_path, "--switch-fns", *iface, body=body, body2=body2)
    assert r.returncode == 0, r.stderr
    kinds = [k for k, _ in frames]
    first_o = kinds.index("O")
    assert set(kinds[:first_o]) == {"B", "H"} and set(kinds[first_o:]) == {"O"}
    second = b"".join(b for k, b in frames if k == "O")
    assert_one_event_per_call([b for k, b in frames if k == "O"])
    check_chat_stream(second, plain_answer(server.openai_url(), body2))
