"""The traffic capture (STREAMSHIM_CAPTURE): one JSON line per libcurl
transfer, checked against what the loopback server logged it received
and sent, on the curl CLI, C programs on easy/multi/socket_action and
threads, several processes at once, pycurl, PHP through the command, and
HTTP/2 over TLS through nginx; secrets redacted everywhere; the file
private, never followed through a symlink; capturing changes no byte the
program sees."""

import base64
import json
import os
import re
import subprocess
import threading

import pytest

from conftest import BUILD_DIR, CURL, PYTHON, ROOT, chat_body, plain_env, run, shim_env
from nginx import tls_server  # noqa: F401 - the session fixture
from proxy import start_proxy
from shimtest import FD_REUSE, curl_three, drop_stream_members, parse_frames

CLIENT = BUILD_DIR / "clients" / "llmclient"
THREADS = BUILD_DIR / "clients" / "threads"
SOCKET = BUILD_DIR / "clients" / "multi_socket"
WRAPPER = ROOT / "scripts" / "streamshim"

pytestmark = pytest.mark.needs_lib


def cap_env(tmp_path, **settings):
    return shim_env(capture=str(tmp_path / "cap.jsonl"), **settings)


def records(tmp_path, name="cap.jsonl"):
    """The records, each line checked: whole JSON, newline-terminated."""
    path = tmp_path / name
    if not path.exists():
        return []
    data = path.read_bytes()
    assert not data or data.endswith(b"\n")
    out = [json.loads(line) for line in data.split(b"\n") if line]
    for r in out:
        assert r["capture"] == 1 and r["attempts"], r
    return out


def field(pairs, name):
    vals = [v for k, v in pairs if k.lower() == name.lower()]
    return vals[0] if vals else None


def body_bytes(b):
    return base64.b64decode(b["base64"]) if "base64" in b else b["text"].encode()


def check_against_server(rec, server):
    """Each attempt's request and response are what the server logged it
    received and sent (joined by x-request-id)."""
    got = {r["request_id"]: r for r in server.requests()}
    sent = server.sent()
    for a in rec["attempts"]:
        rid = field(a["response"]["headers"], "x-request-id")
        assert rid in got, (rid, list(got))
        req = got[rid]
        assert a["request"]["method"] == req["method"]
        assert a["request"]["http_version"] == req["http_version"] or \
            a["request"]["http_version"] == "HTTP/2"  # through nginx
        if req["body"]:
            assert body_bytes(a["request"]["body"]) == req["body"]
        else:
            assert "body" not in a["request"]
        status, body = sent[rid]
        assert a["response"]["status"] == status
        assert body_bytes(a["response"]["body"]) == body
        assert a["response"]["body"]["size"] == len(body)


# --- the curl CLI ----------------------------------------------------------------

def test_curl_cli_transfers_recorded(server, tmp_path):
    want = curl_three(server, tmp_path, shim_env(models="o3-mini"), "plain", 3000)
    server.clear()
    got = curl_three(server, tmp_path, cap_env(tmp_path, models="o3-mini"), "cap", 3000)
    assert got == want  # capturing changes no byte
    recs = records(tmp_path)
    assert [r["transfer"] for r in recs] == [1, 2, 3]
    assert len({r["pid"] for r in recs}) == 1
    for r in recs:
        assert (r["result"], r["error"], r["end"]) == (0, "No error", "seen")
        assert len(r["attempts"]) == 1
        check_against_server(r, server)
    get, destreamed, native = (r["attempts"][0] for r in recs)
    assert get["request"]["method"] == "GET" and get["request"]["url"].endswith("/plain/3000")
    assert field(get["request"]["headers"], "Host").startswith("127.0.0.1:")
    assert get["response"]["body"]["size"] == 3000 and "handed" not in get
    assert get["info"]["response_code"] == 200 and get["info"]["size_download"] == 3000
    assert 0 <= get["start_us"] <= get["first_byte_us"] <= get["end_us"]
    # de-streamed: sent without stream, the program's body kept, the
    # replay handed over event by event
    assert json.loads(destreamed["request"]["body"]["text"]) == \
        drop_stream_members(chat_body("o3-mini"))
    assert destreamed["request"]["program_body"]["text"].encode() == chat_body("o3-mini")
    handed = destreamed["handed"]
    assert body_bytes(handed["body"]) == got[1]
    assert field(handed["headers"], "Content-Type") == "text/event-stream; charset=utf-8"
    assert len(handed["events_us"]) == got[1].count(b"\n\n") > 3
    assert recs[1]["shim"]["action"] == "destreamed"
    # a native stream: passed through, each event's arrival noted
    assert "handed" not in native
    assert len(native["response"]["events_us"]) == got[2].count(b"\n\n")
    assert native["response"]["events_us"] == sorted(native["response"]["events_us"])
    assert recs[2]["shim"]["action"] == "pass-through"


def test_curl_failure_result(server, tmp_path):
    base = server.openai_url().rsplit("/v1/", 1)[0]
    r = run([CURL, "-sf", f"{base}/nowhere"], env=cap_env(tmp_path))
    assert r.returncode == 22
    (rec,) = records(tmp_path)
    assert rec["result"] == 22 and rec["error"] == "HTTP response code said error"
    assert rec["attempts"][0]["response"]["status"] == 404


# --- auto mode: the retry is a second attempt of the same record -----------------

def llmclient(tmp_path, env, *opts, url, body, headers=()):
    bf = tmp_path / "body.json"
    bf.write_bytes(body)
    calls = tmp_path / "calls"
    args = [CLIENT, "--calls", calls, "--header", "Content-Type: application/json"]
    for h in headers:
        args += ["--header", h]
    r = run([*args, *opts, url, bf], env=env)
    assert r.returncode == 0, r.stderr
    return parse_frames(calls.read_bytes())


@pytest.mark.parametrize("iface", [[], ["--multi"]], ids=["easy", "multi"])
def test_auto_retry_is_two_attempts(server, tmp_path, iface):
    server.clear()
    frames = llmclient(tmp_path, cap_env(tmp_path), *iface, url=server.openai_url(),
                       body=chat_body("o3-mini"))
    (rec,) = records(tmp_path)
    check_against_server(rec, server)
    first, second = rec["attempts"]
    assert first["response"]["status"] == 400 and "retry" not in first
    assert first["handed"]["status"] == 0 and first["handed"]["body"]["size"] == 0
    assert first["handed"]["headers"] == []
    assert second["retry"] == "without_stream"
    assert b'"stream"' not in body_bytes(second["request"]["body"])
    assert second["request"]["program_body"]["text"].encode() == chat_body("o3-mini")
    assert body_bytes(second["handed"]["body"]) == b"".join(v for k, v in frames if k == "B")
    actions = [n["action"] for n in rec["shim"]["notes"]]
    assert "refused" in actions and rec["shim"]["action"] == "destreamed"
    assert first["end_us"] <= second["start_us"]


# --- secrets ---------------------------------------------------------------------

SECRETS = {
    "bearer": "sk-SECRETbearer0123456789",
    "apikey": "SECRETazurekey42",
    "xapikey": "SECRETanthropic42",
    "goog": "SECRETgoogle42",
    "cookie": "SECRETcookie42",
    "setcookie": "SECRETsetcookie42",
    "query": "SECRETquery42",
    "sig": "SECRETsig42",
    "user": "SECRETuser42",
    "password": "SECRETpass42",
    "body": "SECRETbodykey42",
    "bodypass": "SECRETbodypass42",
    "proxy": "SECRETproxypass42",
}


def assert_no_secret(tmp_path):
    data = (tmp_path / "cap.jsonl").read_bytes()
    assert data
    for name, s in SECRETS.items():
        assert s.encode() not in data, name
        # nor inside base64 (Basic credentials) or percent-encoded forms
        for enc in (base64.b64encode(s.encode()), s.replace("4", "%34").encode()):
            assert enc not in data, name
    basic = base64.b64encode(f"{SECRETS['user']}:{SECRETS['password']}".encode())
    assert basic[:12] not in data
    return data


def test_secrets_are_redacted_everywhere(server, tmp_path):
    base = server.openai_url().rsplit("/v1/", 1)[0]
    host = base.split("//", 1)[1]
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
                       "api_key": SECRETS["body"],
                       "nested": [{"password": SECRETS["bodypass"]}]})
    url = (f"http://{SECRETS['user']}:{SECRETS['password']}@{host}/v1/chat/completions"
           f"?key={SECRETS['query']}&sig={SECRETS['sig']}&keep=visible")
    r = run([CURL, "-sS", "-o", "/dev/null", url, "-H", "Content-Type: application/json",
             "-H", f"api-key: {SECRETS['apikey']}", "-H", f"x-api-key: {SECRETS['xapikey']}",
             "-H", f"x-goog-api-key: {SECRETS['goog']}", "-H", f"Cookie: s={SECRETS['cookie']}",
             "-H", f"X-Test-Header: Set-Cookie: s={SECRETS['setcookie']}",
             "-d", body, "--next",
             f"{base}/v1/chat/completions", "-H", "Content-Type: application/json",
             "-H", f"Authorization: Bearer {SECRETS['bearer']}", "-d", body, "-o", "/dev/null"],
            # the test server's knob carries a secret too: the list grows
            env=cap_env(tmp_path, capture_redact_headers="+X-Test-Header"))
    assert r.returncode == 0, r.stderr
    assert_no_secret(tmp_path)
    first, second = (x["attempts"][0] for x in records(tmp_path))
    req = first["request"]
    assert "[redacted]@" in req["url"] and "keep=visible" in req["url"]
    assert field(req["headers"], "api-key").startswith("[redacted ")
    assert field(req["headers"], "Authorization").startswith("Basic [redacted ")
    assert field(first["response"]["headers"], "Set-Cookie").startswith("[redacted ")
    assert field(second["request"]["headers"], "Authorization") == \
        f"Bearer [redacted {len(SECRETS['bearer'])}]"
    sent = json.loads(second["request"]["body"]["text"])
    assert sent["api_key"].startswith("[redacted") and sent["model"] == "gpt-4o"
    assert sent["nested"][0]["password"].startswith("[redacted")


def test_option_credentials_are_redacted(server, tmp_path):
    """CURLOPT_USERPWD (curl -u) reaches the file only as its redacted
    Authorization header."""
    r = run([CURL, "-sS", "-o", "/dev/null", "-u", f"{SECRETS['user']}:{SECRETS['password']}",
             server.openai_url().rsplit("/v1/", 1)[0] + "/plain/10"], env=cap_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert_no_secret(tmp_path)
    (rec,) = records(tmp_path)
    assert field(rec["attempts"][0]["request"]["headers"], "Authorization").startswith("Basic [redacted")


def test_bodies_that_cannot_be_parsed_plainly(server, tmp_path):
    """A chunked upload is recorded as the program's body (libcurl's
    framing removed) and redacted; a field name with a blank before its
    colon is still that field; multipart bodies and answers in a coding
    libcurl did not decode are withheld, not copied."""
    # one curl each: the test server's chunked reading leaves a kept-alive
    # connection unusable for the next request
    for args in (["-H", "Transfer-Encoding: chunked", "-H", f"Cookie : s={SECRETS['cookie']}",
                  "-d", f"password={SECRETS['password']}&keep=1"],
                 # no Expect: the body goes out before any answer can stop it
                 ["-H", "Expect:", "-F", f"password={SECRETS['bodypass']}"],
                 ["-H", "Accept-Encoding: gzip", "-H", "X-Test-Gzip: force",
                  "-H", "Content-Type: application/json",
                  "-d", json.dumps({"model": "gpt-4o", "api_key": SECRETS["body"],
                                    "messages": [{"role": "user", "content": "hi"}]})]):
        r = run([CURL, "-sS", "-o", "/dev/null", *args, server.openai_url()],
                env=cap_env(tmp_path))
        assert r.returncode == 0, r.stderr
    assert_no_secret(tmp_path)
    chunked, multipart, echo = (x["attempts"][0] for x in records(tmp_path))
    body = chunked["request"]["body"]
    assert body["text"] == f"password=[redacted {len(SECRETS['password'])}]&keep=1"
    assert body["size"] == len(f"password={SECRETS['password']}&keep=1")
    assert field(chunked["request"]["headers"], "Cookie").startswith("[redacted")
    assert multipart["request"]["body"]["withheld"] == "a multipart body is not redacted"
    assert echo["response"]["body"]["withheld"] == "an encoded body is not redacted"
    assert echo["response"]["body"]["size"] > 0


def test_proxy_credentials_are_redacted(server, tmp_path):
    port, stop = start_proxy()
    try:
        r = run([CURL, "-sS", "-o", "/dev/null", "--proxytunnel", "-x", f"http://127.0.0.1:{port}",
                 "--proxy-user", f"{SECRETS['user']}:{SECRETS['proxy']}",
                 server.openai_url().rsplit("/v1/", 1)[0] + "/plain/100"],
                env=cap_env(tmp_path))
    finally:
        stop()
    assert r.returncode == 0, r.stderr
    assert_no_secret(tmp_path)
    (rec,) = records(tmp_path)
    assert rec["attempts"][0]["response"]["status"] == 200


# --- the file ------------------------------------------------------------------------

def test_capture_file_is_private(server, tmp_path):
    r = run([CURL, "-sS", "-o", "/dev/null", server.openai_url().rsplit("/v1/", 1)[0] + "/healthz"],
            env=cap_env(tmp_path))
    assert r.returncode == 0
    assert (os.stat(tmp_path / "cap.jsonl").st_mode & 0o777) == 0o600


def test_symlink_is_never_followed(server, tmp_path):
    target = tmp_path / "victim"
    target.write_bytes(b"precious\n")
    (tmp_path / "cap.jsonl").symlink_to(target)
    log = tmp_path / "shim.log"
    r = run([CURL, "-sS", server.openai_url().rsplit("/v1/", 1)[0] + "/plain/10",
             "--next", server.openai_url().rsplit("/v1/", 1)[0] + "/plain/10"],
            env=cap_env(tmp_path, log=f"error:{log}"))
    assert r.returncode == 0 and len(r.stdout) == 20
    assert target.read_bytes() == b"precious\n"
    text = log.read_text()
    assert text.count("capture: cannot write") == 1, text


def test_unwritable_capture_disturbs_nothing(server, tmp_path):
    env = shim_env(capture=str(tmp_path / "no" / "such" / "dir" / "cap.jsonl"),
                   log=f"error:{tmp_path / 'shim.log'}")
    r = run([CURL, "-sS", server.openai_url().rsplit("/v1/", 1)[0] + "/plain/10"], env=env)
    assert r.returncode == 0 and len(r.stdout) == 10
    assert "capture: cannot write" in (tmp_path / "shim.log").read_text()


def test_a_full_disk_disturbs_nothing(server, tmp_path):
    """Writes that fail (here a file size limit: EFBIG, no SIGXFSZ) lose
    the records, are logged once, and the transfers go on."""
    base = server.openai_url().rsplit("/v1/", 1)[0]
    cmd = ["prlimit", "--fsize=300", "--", CURL, "-sS"] + \
        sum([[f"{base}/plain/{100 + i}", "--next"] for i in range(5)], [])[:-1]
    r = run(cmd, env=cap_env(tmp_path, log=f"error:{tmp_path / 'shim.log'}"))
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == sum(100 + i for i in range(5))
    assert (tmp_path / "shim.log").read_text().count("capture: writing") == 1
    data = (tmp_path / "cap.jsonl").read_bytes()  # no torn line left
    assert not data or data.endswith(b"\n")
    records(tmp_path)


def test_a_descriptor_the_program_reuses_never_gets_records(server, tmp_path):
    """A program closes every descriptor and opens files under the same
    numbers: the records go to the capture file, opened again, never into
    the program's files."""
    data = tmp_path / "data"
    data.mkdir()
    url = server.openai_url().rsplit("/v1/", 1)[0] + "/plain/10"
    r = run([PYTHON, "-c", FD_REUSE, url, data], env=cap_env(tmp_path))
    assert r.returncode == 0 and r.stdout == b"0\n", r.stderr
    assert len(records(tmp_path)) == 2


def test_a_deleted_capture_file_is_created_again(server, tmp_path):
    base = server.openai_url().rsplit("/v1/", 1)[0]
    script = (f"import pycurl, io, os\n"
              f"for i in range(2):\n"
              f"    c = pycurl.Curl(); c.setopt(pycurl.URL, '{base}/plain/10')\n"
              f"    c.setopt(pycurl.WRITEDATA, io.BytesIO()); c.perform(); c.close()\n"
              f"    if i == 0: os.unlink('{tmp_path / 'cap.jsonl'}')\n")
    r = run([PYTHON, "-c", script], env=cap_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert [x["transfer"] for x in records(tmp_path)] == [2]


def test_large_bodies_are_cut_with_their_size(server, tmp_path):
    base = server.openai_url().rsplit("/v1/", 1)[0]
    r = run([CURL, "-sS", "-o", "/dev/null", f"{base}/plain/50000", "--next",
             "-o", "/dev/null", "-d", "x" * 5000, f"{base}/echo"],
            env=cap_env(tmp_path, capture_max_body=1000))
    assert r.returncode == 0
    get, echo = (x["attempts"][0] for x in records(tmp_path))
    b = get["response"]["body"]
    assert b["size"] == 50000 and b["truncated"] is True and len(body_bytes(b)) == 1000
    assert echo["request"]["body"]["size"] == 5000 and echo["request"]["body"]["truncated"]
    assert echo["request"]["body"]["text"] == "x" * 1000


# --- many at once: threads, processes, multi, socket_action -----------------------

def test_threads_and_processes_share_one_file(server, tmp_path):
    """16 threads x 12 transfers in one process and three curl processes
    appending at the same time: every line whole, every transfer once."""
    env = cap_env(tmp_path, cache=str(tmp_path / "refusals"))
    base = server.openai_url().rsplit("/v1/", 1)[0]
    procs = [subprocess.Popen([CURL, "-sS", "-o", "/dev/null"] +
                              sum([[f"{base}/plain/{2000 + i}", "--next"] for i in range(10)], [])[:-1],
                              env=env) for _ in range(3)]
    r = run([THREADS, server.openai_url(), "16", "12"], env=env, timeout=120)
    assert all(p.wait(60) == 0 for p in procs)
    assert r.returncode == 0 and r.stdout == b"0 failures\n", r.stderr[-2000:]
    recs = records(tmp_path)
    assert len(recs) == 16 * 12 + 3 * 10
    assert len({(x["pid"], x["transfer"]) for x in recs}) == len(recs)
    assert len({x["pid"] for x in recs}) == 4
    assert all(x["result"] == 0 and x["end"] == "seen" for x in recs)


def test_socket_action_program(server, tmp_path):
    from test_multi import own_client_env, dumped
    dump = tmp_path / "dump"
    dump.mkdir()
    env = own_client_env(cap_env(tmp_path, models="o3-mini"), SOCKET)
    r = run([SOCKET, "-u", server.openai_url(), "--dump", dump, "-n", "60"], env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    recs = records(tmp_path)
    assert len(recs) == 60 == len(dumped(dump))
    actions = [x["shim"]["action"] for x in recs]
    assert actions.count("destreamed") == 20


# --- pycurl, PHP, HTTP/2 over TLS ---------------------------------------------------

PYCURL = r"""
import sys, pycurl, io
c = pycurl.Curl()
c.setopt(pycurl.URL, sys.argv[1])
out = io.BytesIO()
c.setopt(pycurl.WRITEDATA, out)
c.perform()
print(c.getinfo(pycurl.RESPONSE_CODE), len(out.getvalue()))
"""


def test_pycurl(server, tmp_path):
    url = server.openai_url().rsplit("/v1/", 1)[0] + "/plain/777"
    r = run([PYTHON, "-c", PYCURL, url], env=cap_env(tmp_path))
    assert r.returncode == 0 and r.stdout == b"200 777\n", r.stderr
    (rec,) = records(tmp_path)
    assert rec["attempts"][0]["response"]["body"]["size"] == 777


@pytest.mark.skipif(bool(os.environ.get("SS_PRELOAD_FIRST")),
                    reason="ASan aborts on PHP's RTLD_DEEPBIND dlopen")
def test_php_through_the_command(server, tmp_path):
    from test_php import PHP, wrapper_env
    body = tmp_path / "b.json"
    body.write_bytes(chat_body("o3-mini", "from PHP"))
    cap = tmp_path / "cap.jsonl"
    r = run([WRAPPER, "--models", "o3-mini", "--capture", cap, "--", PHP,
             ROOT / "tests/php/stream.php", server.openai_url(), body], env=wrapper_env())
    assert r.returncode == 0, r.stderr
    (rec,) = records(tmp_path)
    assert rec["shim"]["action"] == "destreamed"
    assert body_bytes(rec["attempts"][0]["handed"]["body"]).startswith(b"data: ")


@pytest.mark.parametrize("proto", ["--http1.1", "--http2"])
def test_tls_and_http2_through_nginx(tls_server, server, tmp_path, proto):
    url = tls_server.url + "/v1/chat/completions"
    r = run([CURL, "-sS", proto, "--cacert", str(tls_server.cacert), url,
             "-H", "Content-Type: application/json", "-H", f"Authorization: Bearer {SECRETS['bearer']}",
             "-d", chat_body("o3-mini").decode(), "-o", "/dev/null"],
            env=cap_env(tmp_path, models="o3-mini"))
    assert r.returncode == 0, r.stderr
    assert_no_secret(tmp_path)
    (rec,) = records(tmp_path)
    a = rec["attempts"][0]
    want = "HTTP/2" if proto == "--http2" else "HTTP/1.1"
    assert a["response"]["http_version"] == want and a["info"]["http_version"] == want
    assert a["request"]["http_version"] == want
    assert a["request"]["url"] == url
    assert rec["shim"]["action"] == "destreamed"
