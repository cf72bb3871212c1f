"""Auto mode (the default): a streaming request goes out as the program
wrote it; when the server refuses to stream, the refusal never reaches the
program, the request is sent again without stream and the answer replayed,
and the refusal is learned so that later requests go out non-streaming at
once. Everything here runs the real curl CLI (easy interface) or the C
multi clients against tests/server.py, which refuses stream:true for
o3-mini* and o1* only."""

import concurrent.futures
import json
import os
import re
import time

import pytest

from conftest import CURL, chat_body, plain_env, run, shim_env
from shimtest import curl, drop_stream_members, plain_answer
from sse import check_chat_stream

pytestmark = pytest.mark.needs_lib


def cache_env(tmp_path, **settings):
    """Auto mode (no models configured) with a cache file of this test."""
    settings.setdefault("cache", str(tmp_path / "refusals"))
    settings.setdefault("log", f"info:{tmp_path / 'shim.log'}")
    return shim_env(**settings)


def strip_volatile(out):
    return b"\n".join(l for l in out.split(b"\n")
                      if not l.lower().startswith((b"date:", b"x-request-id:")))


def entries(path):
    """The learned entries of a cache file: [(host, model, fp, rule)]."""
    out = []
    for line in path.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        f = line.split("\t")
        out.append((f[0], f[1], f[2], f[5]))
    return out


# --- the curl CLI (easy interface) ------------------------------------------

@pytest.mark.parametrize("refusal", ["azure", "o1-preview", "verify", "relay"])
def test_refused_stream_is_retried_and_replayed(server, tmp_path, refusal):
    body = chat_body("o3-mini", stream_options={"include_usage": True})
    server.clear()
    r = curl(server.openai_url(), body, "-i", env=cache_env(tmp_path),
             headers=[f"X-Test-Refusal: {refusal}"])
    assert r.returncode == 0, r.stderr
    first, retry = server.requests()
    assert first["body"] == body  # the program's own request, streaming
    assert retry.json() == drop_stream_members(body)
    head, _, stream = r.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")  # the refusal's 400 never shows
    assert b"content-type: text/event-stream" in head.lower()
    check_chat_stream(stream, plain_answer(server.openai_url(), body), expect_usage=True)
    assert entries(tmp_path / "refusals") == [
        (f"127.0.0.1:{server.port}", "o3-mini", "-", "built-in")]
    assert oct((tmp_path / "refusals").stat().st_mode & 0o777) == "0o600"


def test_second_request_goes_out_non_streaming(server, tmp_path):
    env = cache_env(tmp_path)
    body = chat_body("o3-mini")
    curl(server.openai_url(), body, env=env)
    server.clear()
    r = curl(server.openai_url(), body, env=env)  # a new process: from the file
    assert r.returncode == 0, r.stderr
    (only,) = server.requests()
    assert only.json() == drop_stream_members(body)
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))
    assert "refused to stream it before (learned)" in (tmp_path / "shim.log").read_text()


def test_learning_is_per_credential(server, tmp_path):
    env = cache_env(tmp_path)
    body = chat_body("o3-mini")
    curl(server.openai_url(), body, env=env, headers=["Authorization: Bearer sk-one-SECRET"])
    server.clear()
    curl(server.openai_url(), body, env=env, headers=["Authorization: Bearer sk-two-SECRET"])
    assert len(server.requests()) == 2  # another account: tried streaming again
    (e1, e2) = entries(tmp_path / "refusals")
    assert e1[2] != e2[2] and len(e1[2]) == 16 and e1[2] != "-"
    text = (tmp_path / "refusals").read_text() + (tmp_path / "shim.log").read_text()
    assert "SECRET" not in text


def test_other_models_stream_natively_untouched(server, tmp_path):
    body = chat_body("gpt-4o", stream_options={"include_usage": True})
    server.clear()
    a = curl(server.openai_url(), body, "-i", env=plain_env())
    b = curl(server.openai_url(), body, "-i", env=cache_env(tmp_path))
    first, second = server.requests()
    assert first["body"] == second["body"] == body
    assert strip_volatile(a.stdout) == strip_volatile(b.stdout)
    assert not (tmp_path / "refusals").exists()


@pytest.mark.parametrize("case", ["other-param", "status-401", "status-404", "status-429",
                                  "status-500", "stream-options"])
@pytest.mark.parametrize("fail", [[], ["-f"], ["--fail-with-body"]], ids=["plain", "f", "fwb"])
def test_other_errors_pass_through_and_are_not_learned(server, tmp_path, case, fail):
    headers, body = [], chat_body("o3-mini")
    if case.startswith("status-"):
        headers = [f"X-Test-Status: {case[7:]}"]
    elif case == "other-param":  # a 400 that is not about stream
        headers = ["X-Test-Status: 400"]
    else:  # stream_options without stream is about stream_options
        body = chat_body("o3-mini", stream=None, stream_options={"include_usage": True})
    server.clear()
    a = curl(server.openai_url(), body, "-i", *fail, env=plain_env(), headers=headers)
    b = curl(server.openai_url(), body, "-i", *fail, env=cache_env(tmp_path), headers=headers)
    assert strip_volatile(a.stdout) == strip_volatile(b.stdout)
    assert (a.returncode, a.stderr) == (b.returncode, b.stderr)
    assert a.returncode == (22 if fail else 0)
    first, second = server.requests()
    assert first["body"] == second["body"]  # sent once, unchanged
    assert not (tmp_path / "refusals").exists()


def test_fail_on_error_still_retries_a_refusal(server, tmp_path):
    body = chat_body("o3-mini")
    r = curl(server.openai_url(), body, "-f", env=cache_env(tmp_path))
    assert r.returncode == 0, r.stderr
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))


def test_fail_on_error_with_an_auth_challenge_is_libcurls(server, tmp_path):
    """401 while authenticating is no error for FAILONERROR (libcurl's own
    rule, applied by libcurl: the shim hands FAILONERROR back at each status
    that cannot be a refusal)."""
    body = chat_body("o3-mini")
    r = curl(server.openai_url(), body, "-f", "-i", "--anyauth", "-u", "me:secret",
             env=cache_env(tmp_path), headers=["X-Test-Auth: me:secret"])
    assert r.returncode == 0, r.stderr
    # the challenge was the refused attempt's: the retry, on a handle that
    # knows the auth method now, needs none, and only it shows
    heads = r.stdout.split(b"\r\n\r\n")
    assert heads[0].startswith(b"HTTP/1.1 200") and b"text/event-stream" in heads[0]
    check_chat_stream(heads[1], plain_answer(server.openai_url(), body,
                                             headers=["Authorization: Basic bWU6c2VjcmV0"]))
    bad = curl(server.openai_url(), body, "-f", env=cache_env(tmp_path),
               headers=["X-Test-Auth: me:secret"])
    plain = curl(server.openai_url(), body, "-f", env=plain_env(),
                 headers=["X-Test-Auth: me:secret"])
    assert (bad.returncode, bad.stderr) == (plain.returncode, plain.stderr) == \
        (22, b"curl: (22) The requested URL returned error: 401\n")


@pytest.mark.parametrize("fail", [[], ["-f"]], ids=["plain", "f"])
def test_a_failing_retry_reaches_the_program_unchanged(server, tmp_path, fail):
    body = chat_body("o3-mini")
    hdr = ["X-Test-Nonstream-Status: 503"]
    server.clear()
    r = curl(server.openai_url(), body, "-i", *fail, env=cache_env(tmp_path), headers=hdr)
    assert len(server.requests()) == 2
    # what a program sending the retry itself would get
    want = curl(server.openai_url(), json.dumps(drop_stream_members(body)).encode(), "-i",
                *fail, env=plain_env(), headers=hdr)
    assert strip_volatile(r.stdout) == strip_volatile(want.stdout)
    assert (r.returncode, r.stderr) == (want.returncode, want.stderr)


def test_user_rule_for_another_server(server, tmp_path):
    conf = tmp_path / "streamshim.conf"
    conf.write_text('[refusal "llama.cpp tools"]\nstatus = 500\n'
                    'message = *Cannot use tools with stream*\n')
    body = chat_body("o3-mini")
    hdr = ["X-Test-Refusal: llamacpp"]
    server.clear()
    r = curl(server.openai_url(), body, env=cache_env(tmp_path, config=conf), headers=hdr)
    assert r.returncode == 0, r.stderr
    assert len(server.requests()) == 2
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))
    assert entries(tmp_path / "refusals")[0][3] == "llama.cpp tools"
    # without the rule, that 500 is just an error: passed through
    r = curl(server.openai_url(), body, env=cache_env(tmp_path, cache="off"), headers=hdr)
    assert b"Cannot use tools with stream" in r.stdout


def test_expired_entries_are_tried_again(server, tmp_path):
    env = cache_env(tmp_path, cache_ttl="1")
    body = chat_body("o3-mini")
    curl(server.openai_url(), body, env=env)
    time.sleep(2.1)
    server.clear()
    r = curl(server.openai_url(), body, env=env)
    assert r.returncode == 0
    first, retry = server.requests()
    assert first["body"] == body and "stream" not in retry.json()


def test_unwritable_cache_is_memory_only(server, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    body = chat_body("o3-mini")
    r = curl(server.openai_url(), body, env=cache_env(tmp_path, cache=str(ro / "x" / "c")))
    assert r.returncode == 0 and r.stderr == b""
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))


def test_default_cache_is_under_xdg_cache_home(server, tmp_path):
    env = cache_env(tmp_path, cache=None, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    curl(server.openai_url(), chat_body("o1-mini"), env=env)
    path = tmp_path / "xdg" / "streamshim" / "refusals"
    assert entries(path)[0][1] == "o1-mini"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"


def test_concurrent_processes_learn_at_once(server, tmp_path):
    env = cache_env(tmp_path)
    models = [f"o1-model-{i}" for i in range(12)]

    def one(model):
        body = chat_body(model)
        r = curl(server.openai_url(), body, env=env)
        return model, r

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        results = list(pool.map(one, models))
    for model, r in results:
        assert r.returncode == 0, r.stderr
        check_chat_stream(r.stdout, plain_answer(server.openai_url(), chat_body(model)))
    assert sorted(e[1] for e in entries(tmp_path / "refusals")) == sorted(models)


def test_force_mode_does_not_watch(server, tmp_path):
    body = chat_body("o3-mini")
    r = curl(server.openai_url(), body, env=cache_env(tmp_path, mode="force"))
    assert json.loads(r.stdout)["error"]["param"] == "stream"


def test_azure_deployment_is_learned(server, tmp_path):
    url = server.azure_url("o3-mini")
    env = cache_env(tmp_path)
    body = chat_body("whatever")
    r = curl(url, body, env=env, headers=["api-key: sk-azure-SECRET"])
    assert r.returncode == 0, r.stderr
    check_chat_stream(r.stdout, plain_answer(url, body, headers=["api-key: sk-azure-SECRET"]))
    assert entries(tmp_path / "refusals")[0][1] == "o3-mini"


def test_upload_body_is_sent_again_on_retry(server, tmp_path):
    f = tmp_path / "req.json"
    body = chat_body("o3-mini")
    f.write_bytes(body)
    server.clear()
    r = run([CURL, "-sS", "-N", server.openai_url(), "-H", "Content-Type: application/json",
             "-T", str(f), "-X", "POST"], env=cache_env(tmp_path))
    assert r.returncode == 0, r.stderr
    first, retry = server.requests()
    assert first["body"] == body and retry.json() == drop_stream_members(body)
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))


@pytest.mark.parametrize("case", ["redirect", "continue"])
def test_refused_attempt_blocks_never_show(server, tmp_path, case):
    """A redirect or a 100 Continue before the refusal belongs to the
    refused attempt: the program sees the retry's blocks only, once."""
    body = chat_body("o3-mini")
    url, extra, hdrs = server.openai_url(), ["-i"], []
    if case == "redirect":
        url, extra = server.url + "/redirect/v1/chat/completions", ["-i", "-L"]
    else:
        hdrs = ["Expect: 100-continue"]
    r = curl(url, body, *extra, env=cache_env(tmp_path), headers=hdrs)
    assert r.returncode == 0, r.stderr
    heads = [h.split(b"\r\n")[0] for h in r.stdout.split(b"\r\n\r\n") if h.startswith(b"HTTP/")]
    first = b"HTTP/1.1 307" if case == "redirect" else b"HTTP/1.1 100"
    assert [h[:12] for h in heads] == [first, b"HTTP/1.1 200"], heads
    check_chat_stream(r.stdout.split(b"\r\n\r\n")[-1], plain_answer(server.openai_url(), body))


# --- a C program on the easy and the multi interface ------------------------

IFACES = [[], ["--multi"]]


def llmclient(server, tmp_path, *opts, body, body2=None, headers=(), settings=None):
    """tests/clients/llmclient in auto mode: (result, frames, summaries)."""
    from test_c_clients import client, summaries
    extra = []
    for h in headers:
        extra += ["--header", h]
    r, frames = client(server, tmp_path, *extra, *opts, body=body, body2=body2,
                       settings=settings if settings is not None else {})
    return r, frames, summaries(r)


@pytest.mark.parametrize("iface", IFACES, ids=["easy", "multi"])
def test_c_program_retry_then_learned(server, tmp_path, iface):
    """First transfer: refused (never seen), retried and replayed; the
    second on the same handle goes out non-streaming at once."""
    from shimtest import body_calls, header_lines
    body = chat_body("o3-mini", "from C")
    server.clear()
    r, frames, sums = llmclient(server, tmp_path, *iface, body=body, body2=body)
    assert r.returncode == 0, r.stderr
    assert [(s["result"], s["status"], s["ct"]) for s in sums] == [("0", "200", "text/event-stream;")] * 2
    reqs = server.requests()
    assert [q["body"] == body for q in reqs] == [True, False, False]
    assert all("stream" not in q.json() for q in reqs[1:])
    heads = header_lines(frames)
    assert not any(h.startswith(b"HTTP/1.1 400") for h in heads)
    assert sum(h.startswith(b"HTTP/1.1 200") for h in heads) == 2
    both = b"".join(body_calls(frames))
    one, two = both.split(b"data: [DONE]\n\n")[:2]
    for s in (one, two):
        check_chat_stream(s + b"data: [DONE]\n\n", plain_answer(server.openai_url(), body))


@pytest.mark.parametrize("iface", IFACES, ids=["easy", "multi"])
@pytest.mark.parametrize("fail", [False, True], ids=["plain", "failonerror"])
def test_c_program_other_errors_untouched(server, tmp_path, iface, fail):
    """A 400 about something else: exactly what the program gets without
    the shim (with FAILONERROR: the header block, no body, error 22 and
    libcurl's text in the error buffer); nothing learned."""
    from test_c_clients import CLIENT
    from shimtest import parse_frames
    body = chat_body("o3-mini")
    opts = [*iface] + (["--fail"] if fail else [])
    hdr = ["X-Test-Status: 400"]
    r, frames, sums = llmclient(server, tmp_path, *opts, body=body, headers=hdr,
                                settings={"cache": str(tmp_path / "refusals")})
    (tmp_path / "b.json").write_bytes(body)
    plain = run([CLIENT, "--calls", tmp_path / "plain", "--header",
                 "Content-Type: application/json", "--header", hdr[0], *opts,
                 server.openai_url(), tmp_path / "b.json"], env=plain_env())
    want = parse_frames((tmp_path / "plain").read_bytes())
    strip = [(k, v) for k, v in frames if not v.lower().startswith((b"date:", b"x-request-id:"))]
    wstrip = [(k, v) for k, v in want if not v.lower().startswith((b"date:", b"x-request-id:"))]
    assert strip == wstrip
    gone = re.compile(rb"hsize=\d+")
    assert gone.sub(b"", r.stderr) == gone.sub(b"", plain.stderr)
    if fail:
        assert sums[0]["result"] == "22"
        assert b"errbuf: The requested URL returned error: 400\n" in r.stderr
    assert not (tmp_path / "refusals").exists()


@pytest.mark.parametrize("iface", IFACES, ids=["easy", "multi"])
def test_c_program_refusal_with_failonerror(server, tmp_path, iface):
    body = chat_body("o3-mini")
    r, frames, sums = llmclient(server, tmp_path, *iface, "--fail", body=body)
    assert r.returncode == 0, r.stderr
    assert (sums[0]["result"], sums[0]["status"]) == ("0", "200")
    from shimtest import body_calls
    check_chat_stream(b"".join(body_calls(frames)), plain_answer(server.openai_url(), body))


@pytest.mark.parametrize("iface", IFACES, ids=["easy", "multi"])
def test_c_program_failing_retry(server, tmp_path, iface):
    body = chat_body("o3-mini")
    r, frames, sums = llmclient(server, tmp_path, *iface, body=body,
                                headers=["X-Test-Nonstream-Status: 503"])
    assert (sums[0]["result"], sums[0]["status"]) == ("0", "503")
    from shimtest import body_calls
    assert json.loads(b"".join(body_calls(frames)))["error"]["code"] == "503"


# --- corners found in review --------------------------------------------------

PLAIN_RULE = '[refusal "plain"]\nstatus = 500\nbody = *streaming is not available*\n'


def test_refusal_judged_at_the_end_easy_is_retried(server, tmp_path):
    """A chunked non-JSON refusal (a user rule): its end is known only when
    the transfer ends; curl_easy_perform still retries."""
    conf = tmp_path / "c.conf"
    conf.write_text(PLAIN_RULE)
    body = chat_body("o3-mini")
    server.clear()
    r = curl(server.openai_url(), body, env=cache_env(tmp_path, config=conf),
             headers=["X-Test-Refusal: plain500", "X-Test-Chunked: 1"])
    assert r.returncode == 0, r.stderr
    assert len(server.requests()) == 2
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))


def test_refusal_judged_at_the_end_multi_is_released_and_learned(server, tmp_path):
    """On a multi handle the program has seen that transfer end: no retry
    can run, so the refusal reaches it unchanged (not lost) and is learned;
    the handle's next transfer goes out non-streaming."""
    conf = tmp_path / "c.conf"
    conf.write_text(PLAIN_RULE)
    body = chat_body("o3-mini")
    server.clear()
    r, frames, sums = llmclient(server, tmp_path, "--multi", body=body, body2=body,
                                headers=["X-Test-Refusal: plain500", "X-Test-Chunked: 1"],
                                settings={"config": str(conf)})
    assert [s["status"] for s in sums] == ["500", "200"], r.stderr
    from shimtest import body_calls
    out = b"".join(body_calls(frames))
    assert out.startswith(b"streaming is not available for this model\n")
    reqs = server.requests()
    assert [q["body"] == body for q in reqs] == [True, False]


def test_chunked_refusal_behind_a_redirect(server, tmp_path):
    body = chat_body("o3-mini")
    r = curl(server.url + "/redirect/v1/chat/completions", body, "-L", "-i",
             env=cache_env(tmp_path), headers=["X-Test-Chunked: 1"])
    assert r.returncode == 0, r.stderr
    heads = [h.split(b"\r\n")[0][:12] for h in r.stdout.split(b"\r\n\r\n")
             if h.startswith(b"HTTP/")]
    assert heads == [b"HTTP/1.1 307", b"HTTP/1.1 200"], r.stdout[:300]


def test_a_rule_on_200_leaves_accepted_streams_alone(server, tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text('[refusal "odd"]\nstatus = 200\nbody = *not streaming*\n')
    body = chat_body("gpt-4o")
    a = curl(server.openai_url(), body, "-i", env=plain_env())
    b = curl(server.openai_url(), body, "-i", env=cache_env(tmp_path, config=conf))
    assert strip_volatile(a.stdout) == strip_volatile(b.stdout)
    assert "passed through unchanged" not in (tmp_path / "shim.log").read_text()


@pytest.mark.parametrize("connect_fields", [b"", b"Content-Type: text/plain\r\n"])
def test_refusal_through_a_proxy_tunnel(server, tmp_path, connect_fields):
    """The proxy's CONNECT answer is not the refusal's: held with the
    attempt, then the retry's blocks (the tunnel is reused) follow. A
    CONNECT answer with a Content-Type looks final and goes out early, but
    the status line after it is still judged."""
    from proxy import start_proxy
    port, stop = start_proxy(connect_fields)
    try:
        body = chat_body("o3-mini")
        env = cache_env(tmp_path)
        env.pop("NO_PROXY")
        env.pop("no_proxy")
        r = curl(server.openai_url(), body, "-i", "-p", "-x", f"http://127.0.0.1:{port}",
                 env=env)
    finally:
        stop()
    assert r.returncode == 0, r.stderr
    heads = [h.split(b"\r\n")[0] for h in r.stdout.split(b"\r\n\r\n") if h.startswith(b"HTTP/")]
    assert heads[-1].startswith(b"HTTP/1.1 200 OK")
    assert heads.count(b"HTTP/1.1 200 Connection established") <= 1
    check_chat_stream(r.stdout.split(b"\r\n\r\n")[-1], plain_answer(server.openai_url(), body))


PYCURL_MULTI_FAIL = r"""
import sys, pycurl
url, body, status = sys.argv[1], open(sys.argv[2], 'rb').read(), sys.argv[3]
m = pycurl.CurlMulti()
c = pycurl.Curl()
c.setopt(pycurl.URL, url)
c.setopt(pycurl.POSTFIELDS, body)
c.setopt(pycurl.HTTPHEADER, ['Content-Type: application/json', 'X-Test-Status: ' + status])
c.setopt(pycurl.FAILONERROR, True)
heads, out = [], []
c.setopt(pycurl.HEADERFUNCTION, heads.append)
c.setopt(pycurl.WRITEFUNCTION, out.append)
m.add_handle(c)
while True:
    ret, active = m.perform()
    if ret != pycurl.E_CALL_MULTI_PERFORM and not active:
        break
    if ret != pycurl.E_CALL_MULTI_PERFORM:
        m.select(1.0)
queued, ok, failed = m.info_read()
print(len(heads), len(out), [f[1] for f in failed])
"""


@pytest.mark.parametrize("status", ["404", "400"])
def test_pycurl_multi_failonerror_sees_the_header_block(server, tmp_path, status):
    """pycurl drops callbacks outside perform: the header block of an error
    libcurl fails for FAILONERROR must reach it from inside perform."""
    from conftest import PYTHON
    f = tmp_path / "b.json"
    f.write_bytes(chat_body("o3-mini"))
    a = run([PYTHON, "-c", PYCURL_MULTI_FAIL, server.openai_url(), f, status], env=plain_env())
    b = run([PYTHON, "-c", PYCURL_MULTI_FAIL, server.openai_url(), f, status],
            env=cache_env(tmp_path))
    assert a.returncode == b.returncode == 0, b.stderr
    assert a.stdout == b.stdout and a.stdout.startswith(b"8 0 [22]"), (a.stdout, b.stdout)
