"""Stream-only requests from every kind of libcurl program: a C program on
the easy and the multi interface (tests/clients/llmclient: what each
callback and curl_easy_getinfo saw), many transfers on one multi handle
mixing stream-only requests with de-streamed, native-stream and plain
ones (multi_many with curl_multi_perform, multi_socket with
curl_multi_socket_action), threads, pycurl (easy and CurlMulti), PHP
(curl_exec with CURLOPT_RETURNTRANSFER, CURLOPT_HEADER, curl_multi), gzip
streams (curl --compressed, a program that sends its own Accept-Encoding
and decodes nothing itself), and TLS with HTTP/1.1 and HTTP/2 through
nginx.

The multi and thread clients choose their models themselves (o3-mini
streaming, gpt-4o without and with "stream": true): there the stream-only
model is gpt-4o (STREAMSHIM_STREAM_ONLY=gpt-4o), whose non-streaming
requests then go out streaming and are answered by the server's native
OpenAI stream; their answer is the server's non-streamed one but for
message.annotations, which no chunk carries. They cannot ask for a model
the server refuses to answer without streaming, so auto mode is tested
with llmclient, pycurl and PHP."""

import json
import os
import re

import pytest

import server as srv
from conftest import BUILD_DIR, CURL, PYTHON, ROOT, chat_body, run, shim_env, wrapper_env
from nginx import tls_server  # noqa: F401 - the session fixture
from shimtest import PYCURL_MULTI, body_calls, header_lines
from sse import check_chat_stream
from test_c_clients import client, summaries
from test_multi import MANY, MANY_RE, SOCKET, SOCKET_RE, dumped, own_client_env
from test_stream_only import (GLOB, MODEL, auto_env, check_sent, dashscope, json_answer,
                              log_path, only_request, post, so_env)

pytestmark = pytest.mark.needs_lib

IFACES = [[], ["--multi"]]
IFACE_IDS = ["easy", "multi"]


def so_settings(tmp_path, glob=GLOB, **more):
    return dict(stream_only=glob, log=f"info:{log_path(tmp_path)}", **more)


def auto_settings(tmp_path):
    return dict(cache=str(tmp_path / "refusals"), log=f"info:{log_path(tmp_path)}")


def check_json_frames(frames, r, want_body):
    """What a C program's callbacks and getinfo saw for one non-streamed
    JSON answer: the body (== want_body), one header block with
    Content-Type application/json and the body's Content-Length, no
    Transfer-Encoding or Content-Encoding; getinfo and curl_easy_header
    agree."""
    body = b"".join(body_calls(frames))
    assert body == r.stdout == want_body
    hdrs = [h.lower() for h in header_lines(frames)]
    assert hdrs[0].startswith(b"http/1.1 200") and hdrs[-1] == b"\r\n", hdrs
    assert sum(h.startswith(b"http/") for h in hdrs) == 1, hdrs
    assert b"content-type: application/json\r\n" in hdrs, hdrs
    assert [h for h in hdrs if h.startswith(b"content-length:")] == \
        [b"content-length: %d\r\n" % len(body)], hdrs
    assert not any(h.startswith((b"transfer-encoding", b"content-encoding")) for h in hdrs), hdrs


def check_summary(s, body):
    assert (s["result"], s["status"], s["ct"], s["hdr_ct"]) == \
        ("0", "200", "application/json", "application/json"), s
    assert int(s["size"]) == len(body) and int(s["cl"]) == len(body), s


# --- a C program: easy and multi ----------------------------------------------------

@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
def test_c_program_configured(server, tmp_path, iface):
    body = chat_body(MODEL, "from C", stream=None)
    server.clear()
    r, frames = client(server, tmp_path, *iface, body=body, settings=so_settings(tmp_path))
    assert r.returncode == 0, r.stderr
    check_sent(only_request(server)["body"], body, options=True)
    assert json.loads(r.stdout) == dashscope(body)
    check_json_frames(frames, r, r.stdout)
    check_summary(summaries(r)[0], r.stdout)


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
@pytest.mark.parametrize("fail", [[], ["--fail"]], ids=["plain", "failonerror"])
def test_c_program_auto_retry_then_learned(server, tmp_path, iface, fail):
    """First transfer: refused (never seen), retried streaming, one JSON
    answer; the second on the same handle goes out streaming at once."""
    body = chat_body(MODEL, "from C, auto", stream=None)
    server.clear()
    r, frames = client(server, tmp_path, *iface, *fail, body=body, body2=body,
                       settings=auto_settings(tmp_path))
    assert r.returncode == 0, r.stderr
    refused, retry, second = server.requests()
    assert refused["body"] == body
    check_sent(retry["body"], body, options=True)
    check_sent(second["body"], body, options=True)
    answer = r.stdout[:len(r.stdout) // 2]  # the same body twice: the same answer
    assert r.stdout == answer * 2 and json.loads(answer) == dashscope(body)
    for s in summaries(r):
        check_summary(s, answer)
    heads = header_lines(frames)
    assert not any(h.startswith(b"HTTP/1.1 400") for h in heads)
    assert sum(h.startswith(b"HTTP/1.1 200") for h in heads) == 2
    assert b"invalid_parameter_error" not in r.stdout


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
def test_c_program_header_in_body(server, tmp_path, iface):
    """CURLOPT_HEADER (PHP's and pycurl's HEADER): the header lines reach
    the write callback too, then the JSON; CURLINFO_HEADER_SIZE splits."""
    body = chat_body(MODEL, "with headers", stream=None)
    r, frames = client(server, tmp_path, "--include-header", *iface, body=body,
                       settings=so_settings(tmp_path))
    assert r.returncode == 0, r.stderr
    hsize = int(summaries(r)[0]["hsize"])
    head, answer = r.stdout[:hsize], r.stdout[hsize:]
    assert head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n")
    assert b"\r\nContent-Type: application/json\r\n" in head
    assert b"\r\nContent-Length: %d\r\n" % len(answer) in head
    assert json.loads(answer) == dashscope(body)


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
def test_c_program_pause_in_the_answer(server, tmp_path, iface):
    """The write callback pauses on its first call (CURL_WRITEFUNC_PAUSE) and
    is unpaused: the same bytes come again, nothing lost or doubled."""
    body = chat_body(MODEL, "long:40000", stream=None)
    r, frames = client(server, tmp_path, *iface, "--pause-after", "1", body=body,
                       settings=so_settings(tmp_path))
    assert r.returncode == 0, r.stderr
    assert b"paused at call 1" in r.stderr
    assert json.loads(r.stdout) == dashscope(body)
    check_summary(summaries(r)[0], r.stdout)


@pytest.mark.parametrize("iface", IFACES, ids=IFACE_IDS)
def test_c_program_own_accept_encoding(server, tmp_path, iface):
    """The program sends its own Accept-Encoding: gzip (libcurl decodes
    nothing for it) and the server gzips the stream: the shim has libcurl
    decode it; the program gets the plain JSON, no Content-Encoding."""
    body = chat_body(MODEL, "gzip, raw", stream=None)
    server.clear()
    r, frames = client(server, tmp_path, *iface, "--header", "Accept-Encoding: gzip",
                       "--header", "X-Test-Stream-Gzip: 1", body=body,
                       settings=so_settings(tmp_path))
    assert r.returncode == 0, r.stderr
    req = only_request(server)
    check_sent(req["body"], body, options=True)
    assert "gzip" in req.header("Accept-Encoding", "")  # the stream came gzipped
    assert json.loads(r.stdout) == dashscope(body)
    check_json_frames(frames, r, r.stdout)
    check_summary(summaries(r)[0], r.stdout)


# --- many transfers on one multi handle, threads ---------------------------------------

def gpt4o_json(req):
    """What a gpt-4o request without stream gets when it goes out
    streaming: the server's answer joined from its native stream, which
    carries everything but message.annotations (usage: the include_usage
    chunk the shim asks for)."""
    answer = srv.build_answer(req, "gpt-4o", False)
    for c in answer["choices"]:
        c["message"].pop("annotations")
    return answer


def check_mixed(transfers):
    """Every dumped transfer got its answer: the stream-only ones (gpt-4o
    without stream) the JSON, the native streams byte for byte, the
    de-streamed o3-mini ones a replay. Returns the count of each kind."""
    kinds = {"destream": 0, "json": 0, "native": 0}
    for name, body, out in transfers:
        req = json.loads(body)
        if req["model"] == "gpt-4o" and req.get("stream") is not True:
            kinds["json"] += 1
            assert json.loads(out) == gpt4o_json(req), name
            assert out.startswith(b"{") and b"data: " not in out, name
        elif req["model"] == "gpt-4o":
            kinds["native"] += 1
            answer = srv.build_answer(req, "gpt-4o", False)
            native = b"".join(b"data: " + srv.dumps(c) + b"\n\n"
                              for c in srv.build_stream(answer, False)) + b"data: [DONE]\n\n"
            assert out == native, name
        else:
            kinds["destream"] += 1
            check_chat_stream(out, srv.build_answer(req, "o3-mini", True), expect_usage=False)
    return kinds


def check_mixed_log(server, transfers):
    """The server got each request once (multi_socket's twins share a
    body: once each): gpt-4o without stream streaming (with
    include_usage), o3-mini without stream, the rest as sent."""
    log = server.requests()
    by_tag = {}
    for name, body, _ in transfers:
        tag = re.search(rb"\[[xs]\d+(?:\.r\d)?\]", body).group(0)
        by_tag.setdefault(tag, []).append((name, body))
    for tag, mine in by_tag.items():
        got = [q for q in log if tag in q["body"]]
        assert len(got) == len(mine), f"{mine[0][0]}: {len(got)} requests for {len(mine)}"
        name, body = mine[0]
        req = json.loads(body)
        for q in got:
            if req["model"] == "gpt-4o" and req.get("stream") is not True:
                check_sent(q["body"], body, options=True)
            elif req["model"] == "gpt-4o":
                assert q["body"] == body, name
            else:
                assert q["body"] == body.replace(b',"stream":true', b""), name
            assert q.header("Content-Length") == str(len(q["body"])), name


def run_mixed(prog, server, tmp_path, *args):
    dump = tmp_path / "dump"
    dump.mkdir()
    env = own_client_env(shim_env(models="o3-mini", stream_only="gpt-4o",
                                  log=f"info:{log_path(tmp_path)}"), prog)
    server.clear()
    r = run([prog, "-u", server.openai_url(), "--dump", dump, *args], env=env, timeout=120)
    detail = f"exit {r.returncode}\nstdout: {r.stdout.decode(errors='replace')}\n" \
             f"stderr (first 4000): {r.stderr.decode(errors='replace')[:4000]}"
    return r, dump, detail


def test_multi_many_mixed(server, tmp_path):
    """200 transfers at once on curl_multi_perform (half of them reused for
    a second round, six removed mid-transfer): a third stream-only."""
    assert MANY.is_file(), f"{MANY} is missing: `make clients`"
    r, dump, detail = run_mixed(MANY, server, tmp_path, "-n", "200")
    assert r.returncode == 0, detail
    m = MANY_RE.search(r.stdout)
    assert m, detail
    ok, total, d, j, n, reused, removed = map(int, m.groups())
    assert (ok, total, reused, removed) == (291, 291, 97, 6), detail
    transfers = dumped(dump)
    check_mixed_log(server, transfers)
    kinds = check_mixed(transfers)
    assert (kinds["destream"], kinds["json"], kinds["native"]) == (d, j, n)
    assert min(d, j, n) >= 90


@pytest.mark.parametrize("pause", [False, True], ids=["plain", "pause"])
def test_multi_socket_mixed(server, tmp_path, pause):
    """60 transfers at once on curl_multi_socket_action (epoll); with
    --pause the first of each twin pauses in its write callback."""
    assert SOCKET.is_file(), f"{SOCKET} is missing: `make clients`"
    r, dump, detail = run_mixed(SOCKET, server, tmp_path, "-n", "60",
                                *(["--pause"] if pause else []))
    assert r.returncode == 0, detail
    m = SOCKET_RE.search(r.stdout)
    assert m, detail
    ok, total, d, j, n, paused, most = map(int, m.groups())
    assert (ok, total, d, j, n) == (60, 60, 20, 20, 20), detail
    # the first twins of the de-streamed and native pairs at least (a JSON
    # answer pauses only when it comes in more than one write call)
    assert (paused >= 20) if pause else paused == 0, detail
    transfers = dumped(dump)
    check_mixed_log(server, transfers)
    assert check_mixed(transfers) == {"destream": 20, "json": 20, "native": 20}


def test_threads_mixed(server, tmp_path):
    """16 threads at once, each with its own handles: o3-mini streams
    de-streamed, gpt-4o without stream answered from a stream (the client
    checks it got a chat.completion JSON)."""
    prog = BUILD_DIR / "clients" / "threads"
    env = shim_env(models="o3-mini", stream_only="gpt-4o")
    server.clear()
    r = run([prog, server.openai_url(), "16", "12"], env=env, timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert r.stdout == b"0 failures\n"
    gpt = [q for q in server.requests() if b'"gpt-4o"' in q["body"]]
    assert len(gpt) == 16 * 6
    for q in gpt:  # the body threads.c writes for request n
        n = json.loads(q["body"])["messages"][0]["content"]
        orig = b'{"model":"gpt-4o","messages":[{"role":"user","content":"%s"}]}' % n.encode()
        check_sent(q["body"], orig, options=True)


# --- pycurl -------------------------------------------------------------------------

PYCURL = r"""
import json, sys, pycurl
url, body = sys.argv[1], open(sys.argv[2], 'rb').read()
c = pycurl.Curl()
c.setopt(pycurl.URL, url)
c.setopt(pycurl.POSTFIELDS, body)
c.setopt(pycurl.HTTPHEADER, ['Content-Type: application/json'])
out, heads = [], []
c.setopt(pycurl.WRITEFUNCTION, out.append)
c.setopt(pycurl.HEADERFUNCTION, heads.append)
c.perform()
info = {"status": c.getinfo(pycurl.RESPONSE_CODE), "ct": c.getinfo(pycurl.CONTENT_TYPE),
        "size": c.getinfo(pycurl.SIZE_DOWNLOAD), "cl": c.getinfo(pycurl.CONTENT_LENGTH_DOWNLOAD),
        "heads": [h.decode('latin-1') for h in heads]}
c.close()
sys.stderr.write(json.dumps(info) + '\n')
sys.stdout.buffer.write(b''.join(out))
"""


@pytest.mark.parametrize("mode", ["configured", "auto"])
def test_pycurl(server, tmp_path, mode):
    f = tmp_path / "body.json"
    body = chat_body(MODEL, "from pycurl", stream=None)
    f.write_bytes(body)
    env = so_env(tmp_path) if mode == "configured" else auto_env(tmp_path)
    server.clear()
    r = run([PYTHON, "-c", PYCURL, server.openai_url(), f], env=env)
    assert r.returncode == 0, r.stderr
    reqs = server.requests()
    if mode == "auto":
        assert len(reqs) == 2 and reqs[0]["body"] == body
    check_sent(reqs[-1]["body"], body, options=True)
    assert json.loads(r.stdout) == dashscope(body)
    info = json.loads(r.stderr.decode().splitlines()[-1])
    assert (info["status"], info["ct"]) == (200, "application/json")
    assert info["size"] == info["cl"] == len(r.stdout)
    heads = [h.lower() for h in info["heads"]]
    assert sum(h.startswith("http/") for h in heads) == 1 and heads[0].startswith("http/1.1 200")
    assert f"content-length: {len(r.stdout)}\r\n" in heads
    assert not any(h.startswith(("transfer-encoding", "content-encoding")) for h in heads)


@pytest.mark.parametrize("mode", ["configured", "auto"])
def test_pycurl_multi_mixed(server, tmp_path, mode):
    """pycurl's CurlMulti loop: a stream-only request between an ordinary
    JSON request and a native stream."""
    cases = [(MODEL, None), ("gpt-4o", None), (MODEL, False), ("gpt-4o", True)]
    files = []
    for i, (model, stream) in enumerate(cases):
        f = tmp_path / f"b{i}.json"
        f.write_bytes(chat_body(model, f"pycurl multi {i}", stream=stream))
        files.append(f)
    env = so_env(tmp_path) if mode == "configured" else auto_env(tmp_path)
    server.clear()
    r = run([PYTHON, "-c", PYCURL_MULTI, server.openai_url(), *files], env=env)
    assert r.returncode == 0, r.stderr
    outs = r.stdout.split(b"\n----\n")[:4]
    for f, (model, stream), out in zip(files, cases, outs):
        ct, _, data = out.partition(b"\n")
        body = f.read_bytes()
        if model == MODEL:
            assert ct == b"application/json" and json.loads(data) == dashscope(body)
        elif stream:
            assert ct.startswith(b"text/event-stream")
            check_chat_stream(data, srv.build_answer(json.loads(body), "gpt-4o", False))
        else:
            assert ct == b"application/json"
            assert data == srv.dumps(srv.build_answer(json.loads(body), "gpt-4o", False),
                                     pretty=True)
    for q in server.requests():
        if b'"gpt-4o"' in q["body"]:
            assert q["body"] in [f.read_bytes() for f in files]


# --- PHP ------------------------------------------------------------------------------

php_runs = pytest.mark.skipif(bool(os.environ.get("SS_PRELOAD_FIRST")),
                              reason="ASan aborts on PHP's RTLD_DEEPBIND dlopen")
WRAPPER = ROOT / "scripts" / "streamshim"
PHP = "/usr/bin/php"

PHP_RETURNTRANSFER = r"""<?php
// The common PHP pattern: curl_exec with CURLOPT_RETURNTRANSFER, then
// json_decode. Prints the body; the getinfo on stderr.
$ch = curl_init($argv[1]);
curl_setopt($ch, CURLOPT_POSTFIELDS, file_get_contents($argv[2]));
curl_setopt($ch, CURLOPT_HTTPHEADER, ['Content-Type: application/json']);
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
$out = curl_exec($ch);
$answer = json_decode($out, true);
fwrite(STDERR, sprintf("ok=%d status=%d ct=%s size=%d cl=%d decoded=%s\n", $out !== false ? 1 : 0,
    curl_getinfo($ch, CURLINFO_RESPONSE_CODE), curl_getinfo($ch, CURLINFO_CONTENT_TYPE),
    curl_getinfo($ch, CURLINFO_SIZE_DOWNLOAD), curl_getinfo($ch, CURLINFO_CONTENT_LENGTH_DOWNLOAD),
    is_array($answer) ? $answer['object'] : 'no'));
echo $out;
"""


@php_runs
@pytest.mark.parametrize("mode", ["configured", "auto"])
def test_php_returntransfer(server, tmp_path, mode):
    script = tmp_path / "rt.php"
    script.write_text(PHP_RETURNTRANSFER)
    f = tmp_path / "b.json"
    body = chat_body(MODEL, "from PHP", stream=None)
    f.write_bytes(body)
    settings = {"stream_only": GLOB} if mode == "configured" else \
        {"cache": str(tmp_path / "refusals")}
    server.clear()
    r = run([WRAPPER, "--", PHP, script, server.openai_url(), f], env=wrapper_env(**settings))
    assert r.returncode == 0, r.stderr
    reqs = server.requests()
    if mode == "auto":
        assert len(reqs) == 2 and reqs[0]["body"] == body
    check_sent(reqs[-1]["body"], body, options=True)
    assert json.loads(r.stdout) == dashscope(body)
    n = len(r.stdout)
    assert f"ok=1 status=200 ct=application/json size={n} cl={n} decoded=chat.completion" \
        .encode() in r.stderr, r.stderr


@php_runs
def test_php_header_and_returntransfer(server, tmp_path):
    """CURLOPT_HEADER + RETURNTRANSFER split with CURLINFO_HEADER_SIZE
    (tests/php/header.php)."""
    f = tmp_path / "b.json"
    body = chat_body(MODEL, "PHP headers", stream=None)
    f.write_bytes(body)
    r = run([WRAPPER, "--", PHP, ROOT / "tests/php/header.php", server.openai_url(), f],
            env=wrapper_env(stream_only=GLOB))
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith(b"HTTP/1.1 200") and r.stderr.endswith(b"\r\n\r\n")
    assert b"\r\nContent-Type: application/json\r\n" in r.stderr
    assert b"\r\nContent-Length: %d\r\n" % len(r.stdout) in r.stderr
    assert b"Transfer-Encoding" not in r.stderr
    assert json.loads(r.stdout) == dashscope(body)


@php_runs
def test_php_multi(server, tmp_path):
    cases = [(MODEL, None), ("gpt-4o", True), (MODEL, None), ("gpt-4o", None)]
    files = []
    for i, (model, stream) in enumerate(cases):
        f = tmp_path / f"b{i}.json"
        f.write_bytes(chat_body(model, f"PHP multi {i}", stream=stream))
        files.append(f)
    r = run([WRAPPER, "--", PHP, ROOT / "tests/php/multi.php", server.openai_url(), *files],
            env=wrapper_env(stream_only=GLOB))
    assert r.returncode == 0 and b"result" not in r.stderr, r.stderr
    for f, (model, stream) in zip(files, cases):
        out = (tmp_path / (f.name + ".out")).read_bytes()
        body = f.read_bytes()
        if model == MODEL:
            assert json.loads(out) == dashscope(body)
            assert f"{f} ct=application/json\n".encode() in r.stderr
        elif stream:
            check_chat_stream(out, srv.build_answer(json.loads(body), "gpt-4o", False))
        else:
            assert out.startswith(b"{\n")


# --- gzip streams with the curl CLI ---------------------------------------------------

# Not asked in auto mode with the program's own Accept-Encoding: the first,
# non-streaming attempt is not decoded (README, "Limits"), so its gzipped
# refusal cannot be judged.
GZIP_CASES = [(["--compressed"], "configured"), (["-H", "Accept-Encoding: gzip"], "configured"),
              (["--compressed"], "auto")]


@pytest.mark.parametrize("opts,mode", GZIP_CASES,
                         ids=["compressed", "own-accept-encoding", "compressed-auto"])
def test_curl_gzip_stream(server, tmp_path, opts, mode):
    """The server gzips the stream (a sync flush per event): libcurl decodes
    it (asked by curl --compressed, or made to by the shim when curl only
    sends the header), the program gets the plain JSON."""
    body = chat_body(MODEL, "gzip", stream=None)
    env = so_env(tmp_path) if mode == "configured" else auto_env(tmp_path)
    server.clear()
    r = post(server.openai_url(), body, *opts, env=env, headers=["X-Test-Stream-Gzip: 1"])
    assert r.rc == 0, r
    reqs = server.requests()
    assert len(reqs) == (1 if mode == "configured" else 2)
    check_sent(reqs[-1]["body"], body, options=True)
    assert "gzip" in reqs[-1].header("Accept-Encoding", "")
    assert json_answer(r) == dashscope(body)


# --- TLS, HTTP/1.1 and HTTP/2 through nginx -------------------------------------------

@pytest.mark.parametrize("proto", ["--http1.1", "--http2"])
@pytest.mark.parametrize("mode", ["configured", "auto"])
def test_tls(tls_server, server, tmp_path, proto, mode):
    url = tls_server.url + "/v1/chat/completions"
    body = chat_body(MODEL, "over TLS", stream=None)
    env = so_env(tmp_path) if mode == "configured" else auto_env(tmp_path)
    server.clear()
    r = post(url, body, proto, "--cacert", str(tls_server.cacert), env=env)
    assert r.rc == 0 and r.stderr == b"", r
    reqs = server.requests()
    assert len(reqs) == (1 if mode == "configured" else 2)
    check_sent(reqs[-1]["body"], body, options=True)
    assert r.status_line.rstrip() == ("HTTP/2 200" if proto == "--http2" else "HTTP/1.1 200 OK")
    assert json_answer(r) == dashscope(body)


def test_http2_gzip_stream(tls_server, server, tmp_path):
    url = tls_server.url + "/v1/chat/completions"
    body = chat_body(MODEL, "h2 gzip", stream=None)
    server.clear()
    r = post(url, body, "--http2", "--compressed", "--cacert", str(tls_server.cacert),
             env=so_env(tmp_path), headers=["X-Test-Stream-Gzip: 1"])
    assert r.rc == 0, r
    assert "gzip" in only_request(server).header("Accept-Encoding", "")
    assert json_answer(r) == dashscope(body)


PARALLEL = [("s1", MODEL, None, ["X-Test-Event-Delay: 0.01"]),   # stream-only, spread out
            ("n1", "gpt-4o", True, []),                           # native stream
            ("p1", "gpt-4o", None, []),                           # plain JSON
            ("s2", MODEL, False, ["X-Test-Stream-Gzip: 1"]),      # stream-only, gzip
            ("d1", "o3-mini", True, [])]                          # de-streamed


def test_http2_multiplexed_mixed(tls_server, server, tmp_path):
    """Five transfers on one h2 connection (curl --parallel): stream-only
    ones next to a native stream, a JSON answer and a de-streamed one."""
    url = tls_server.url + "/v1/chat/completions"
    cmd = [CURL, "-s", "-v", "--parallel"]
    bodies = {}
    for i, (name, model, stream, hdrs) in enumerate(PARALLEL):
        body = chat_body(model, f"parallel {name}", stream=stream)
        bodies[name] = body
        (tmp_path / f"{name}.json").write_bytes(body)
        cmd += (["--next"] if i else []) + [
            url, "-sS", "--http2", "--compressed", "--cacert", str(tls_server.cacert),
            "-H", "Content-Type: application/json", "-d", f"@{tmp_path / name}.json",
            "-o", str(tmp_path / f"{name}.out")]
        for h in hdrs:
            cmd += ["-H", h]
    server.clear()
    r = run(cmd, env=shim_env(stream_only=GLOB, models="o3-mini"), timeout=60)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, err
    assert err.count("* Connected to ") == 1, err
    sent = {json.loads(q["body"])["messages"][0]["content"].split()[-1]: q
            for q in server.requests()}
    assert sorted(sent) == sorted(bodies)
    for name, model, stream, _ in PARALLEL:
        out = (tmp_path / f"{name}.out").read_bytes()
        body = bodies[name]
        req = json.loads(body)
        if model == MODEL:
            check_sent(sent[name]["body"], body, options=True)
            assert json.loads(out) == dashscope(body), name
        elif model == "o3-mini":
            check_chat_stream(out, srv.build_answer(req, "o3-mini", True))
        elif stream:
            assert sent[name]["body"] == body
            check_chat_stream(out, srv.build_answer(req, "gpt-4o", False))
        else:
            assert sent[name]["body"] == body
            assert out == srv.dumps(srv.build_answer(req, "gpt-4o", False), pretty=True)
