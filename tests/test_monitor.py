"""The monitoring stage kind (shim/stage.h), proven with a monitor that
exists only in the tests (tests/monitor/test_monitor.c, built into
build/monitor/libstreamshim.so). On the curl CLI, easy, multi,
curl_multi_socket_action, threads and auto-mode retries it must see every
transfer exactly once, every attempt numbered in order, and the end with
the result the program saw; the program's bytes must be the same with the
monitor as without it; and nothing of a refused attempt reaches the
program (what it was handed in that attempt is empty)."""

import json
import re

import pytest

from conftest import BUILD_DIR, CURL, LIB, chat_body, run, shim_env
from shimtest import curl_three, parse_frames
from test_multi import MANY, MANY_RE, REFUSALS, SOCKET, SOCKET_RE, dumped, own_client_env

MON_LIB = BUILD_DIR / "monitor" / "libstreamshim.so"
CLIENT = BUILD_DIR / "clients" / "llmclient"
THREADS = BUILD_DIR / "clients" / "threads"

pytestmark = pytest.mark.needs_lib


def fnv(data):
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def mon_env(tmp_path, prog=None, **settings):
    """The shim with the checking monitor built in, writing its records to
    tmp_path/records."""
    assert MON_LIB.is_file(), f"{MON_LIB} is missing: `make monitor-lib`"
    env = shim_env(**settings)
    env["LD_PRELOAD"] = env["LD_PRELOAD"].replace(str(LIB), str(MON_LIB))
    env["STREAMSHIM_TEST_MONITOR"] = str(tmp_path / "records")
    return own_client_env(env, prog) if prog else env


def records(tmp_path):
    path = tmp_path / "records"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines]


def check(recs, n, seen=None):
    """n records, one per transfer, each consistent: no violation found by
    the monitor, attempts numbered 1..k, nothing of a refused attempt handed
    to the program. seen: how many the program was told the end of
    (default all)."""
    assert len(recs) == n, [r["url"] for r in recs][:20]
    keys = {(r["pid"], r["serial"]) for r in recs}
    assert len(keys) == n, "a transfer recorded twice"
    for r in recs:
        assert r["errors"] == "", r
        assert r["attempts"] == len(r["a"]) == r["end_attempt"] >= 1, r
        for k, a in enumerate(r["a"]):
            assert a["retry"] == (0 if k == 0 else 1), r
            assert a["sent_hdr"] > 0, r  # the request as libcurl sent it
            if k < len(r["a"]) - 1:  # refused: the program saw none of it
                assert a["status"] == 400 and a["raw_body"] > 0, r
                assert a["handed_hdr"] == a["handed_body"] == 0, r
    told = sum(1 for r in recs if r["how"] == "seen")
    assert told == (n if seen is None else seen), [r["how"] for r in recs]
    return recs


def passed_through(rec):
    """A one-attempt transfer no stage changed: handed exactly what came."""
    a = rec["a"][0]
    return rec["attempts"] == 1 and a["raw_hash"] == a["handed_hash"] and \
        a["raw_body"] == a["handed_body"] and a["raw_hdr"] == a["handed_hdr"]


# --- the curl CLI --------------------------------------------------------------

@pytest.mark.parametrize("mode", ["force", "auto"])
def test_curl_cli_every_transfer_once(server, tmp_path, mode):
    settings = {"models": "o3-mini*"} if mode == "force" else {}
    got = curl_three(server, tmp_path, mon_env(tmp_path, **settings), "mon")
    want = curl_three(server, tmp_path, shim_env(**settings), "plain")
    assert got == want  # the monitor changes no byte
    recs = check(records(tmp_path), 3)
    assert [r["url"].rsplit("/", 1)[-1] for r in recs] == ["5000", "completions", "completions"]
    assert [r["result"] for r in recs] == [0, 0, 0]
    assert [r["a"][-1]["handed_hash"] for r in recs] == [fnv(b) for b in got]
    assert passed_through(recs[0]) and passed_through(recs[2])
    assert recs[0]["a"][0]["types"].startswith("SF") and recs[0]["a"][0]["status"] == 200
    destreamed = recs[1]
    assert destreamed["attempts"] == (1 if mode == "force" else 2)
    assert destreamed["a"][-1]["raw_hash"] != destreamed["a"][-1]["handed_hash"]
    assert destreamed["a"][-1]["method"] == "POST"


def test_curl_cli_failure_is_the_result_the_program_saw(server, tmp_path):
    """curl -f on a 404: libcurl itself fails it (22)."""
    base = server.openai_url().rsplit("/v1/", 1)[0]
    r = run([CURL, "-sf", f"{base}/nowhere"], env=mon_env(tmp_path))
    assert r.returncode == 22
    (rec,) = check(records(tmp_path), 1)
    assert rec["result"] == 22 and rec["response_code"] == 404


VARIES = re.compile(rb"req_\d+_[0-9a-f]+|\w{3}, \d\d \w{3} \d{4} [\d:]+ GMT|"
                    rb"Content-Length: \d+|left intact|#\d+|"
                    rb"[{}] \[\d+ bytes data\]\n")  # reads split as timing has it


def test_curl_verbose_output_is_unchanged(server, tmp_path):
    """curl -v sets its own debug callback: the shim chains it for the
    monitor, and curl's output stays what it is without a monitor."""
    url = server.openai_url()
    cmd = [CURL, "-sS", "-v", "-o", "/dev/null", url, "-H", "Content-Type: application/json",
           "-d", chat_body("gpt-4o").decode()]
    got = run(cmd, env=mon_env(tmp_path))
    want = run(cmd, env=shim_env())
    assert got.returncode == want.returncode == 0
    assert b"> POST /v1/chat/completions" in got.stderr
    assert VARIES.sub(b"", got.stderr) == VARIES.sub(b"", want.stderr)
    (rec,) = check(records(tmp_path), 1)
    assert rec["a"][0]["sent_body"] == len(chat_body("gpt-4o"))


@pytest.mark.parametrize("verbose", [False, True], ids=["quiet", "verbose"])
def test_libcurl_own_verbose_output_is_unchanged(server, tmp_path, verbose):
    """A program that sets CURLOPT_VERBOSE without a debug callback gets
    libcurl's own output on stderr, with the monitor as without; one that
    does not gets none."""
    opts = ["--verbose"] if verbose else []
    body = chat_body("gpt-4o")
    r, _ = llmclient(tmp_path, mon_env(tmp_path, CLIENT), *opts, url=server.openai_url(),
                     body=body, tag="mon")
    plain, _ = llmclient(tmp_path, shim_env(), *opts, url=server.openai_url(), body=body,
                         tag="plain")
    assert VARIES.sub(b"", r.stderr) == VARIES.sub(b"", plain.stderr)
    assert (b"> POST " in r.stderr) == verbose
    check(records(tmp_path), 1)


# --- C programs on easy and multi -------------------------------------------

def llmclient(tmp_path, env, *opts, url, body, tag):
    bf = tmp_path / "body.json"
    bf.write_bytes(body)
    calls = tmp_path / f"calls-{tag}"
    r = run([CLIENT, "--calls", calls, "--header", "Content-Type: application/json",
             *opts, url, bf], env=env)
    frames = parse_frames(calls.read_bytes()) if calls.exists() else []
    # what varies from run to run: the server's date and request id
    frames = [(k, v) for k, v in frames
              if not v.lower().startswith((b"date:", b"x-request-id:"))]
    return r, frames


@pytest.mark.parametrize("iface", [[], ["--multi"]], ids=["easy", "multi"])
@pytest.mark.parametrize("model", ["o3-mini", "gpt-4o"])
def test_c_program_auto_retry_seen_once(server, tmp_path, iface, model):
    """Auto mode: o3-mini is refused, retried and replayed (two attempts in
    one record); gpt-4o streams natively (one attempt, passed through)."""
    body = chat_body(model)
    url = server.openai_url()
    r, got = llmclient(tmp_path, mon_env(tmp_path, CLIENT), *iface, url=url, body=body,
                       tag="mon")
    plain, want = llmclient(tmp_path, shim_env(), *iface, url=url, body=body, tag="plain")
    assert r.returncode == plain.returncode == 0, r.stderr
    assert got == want
    (rec,) = check(records(tmp_path), 1)
    assert rec["attempts"] == (2 if model == "o3-mini" else 1)
    assert rec["result"] == 0
    body_bytes = b"".join(v for k, v in got if k == "B")
    assert rec["a"][-1]["handed_hash"] == fnv(body_bytes)
    if model == "gpt-4o":
        assert passed_through(rec)


@pytest.mark.parametrize("iface", [[], ["--multi"]], ids=["easy", "multi"])
def test_c_program_failonerror_result(server, tmp_path, iface):
    """An error answer in auto mode with FAILONERROR: the shim emulates it
    (the body must be judged); the end carries 22, what the program got."""
    body = chat_body("o3-mini")
    env = mon_env(tmp_path, CLIENT)
    r, _ = llmclient(tmp_path, env, *iface, "--fail", "--header", "X-Test-Status: 400",
                     url=server.openai_url(), body=body, tag="mon")
    assert b"result=22 " in r.stderr
    (rec,) = check(records(tmp_path), 1)
    assert rec["result"] == 22 and rec["a"][0]["handed_body"] == 0


def test_removed_before_the_end_is_not_seen(server, tmp_path):
    """A multi program that never reads its messages: the records still
    come, once each, marked as not seen by the program."""
    r, _ = llmclient(tmp_path, mon_env(tmp_path, CLIENT), "--multi", "--no-info-read",
                     url=server.openai_url(), body=chat_body("gpt-4o"), tag="mon")
    assert r.returncode == 0, r.stderr
    (rec,) = check(records(tmp_path), 1, seen=0)
    assert rec["how"] == "unseen"  # libcurl finished: the running count said so


# --- many transfers: multi, socket_action, threads ----------------------------

def run_many(prog, server, tmp_path, env, *args):
    dump = tmp_path / f"dump-{len(list(tmp_path.glob('dump-*')))}"
    dump.mkdir()
    r = run([prog, "-u", server.openai_url(), "--dump", dump, *args], env=env, timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-3000:]
    return r, dumped(dump)


@pytest.mark.parametrize("models", ["o3-mini", None], ids=["force", "auto"])
def test_multi_perform_every_transfer_once(server, tmp_path, models):
    settings = {"models": models} if models else {}
    r, got = run_many(MANY, server, tmp_path, mon_env(tmp_path, MANY, **settings),
                      "-n", "200")
    _, want = run_many(MANY, server, tmp_path, own_client_env(shim_env(**settings), MANY),
                       "-n", "200")
    assert MANY_RE.search(r.stdout), r.stdout
    assert got == want
    # 291 transfers run to their end, 6 victims removed mid-transfer
    recs = check(records(tmp_path), 297, seen=291)
    assert sum(1 for x in recs if x["how"] == "cancelled") == 6
    if models is None:
        assert any(x["attempts"] == 2 for x in recs)


@pytest.mark.parametrize("models", ["o3-mini", None], ids=["force", "auto"])
def test_socket_action_every_transfer_once(server, tmp_path, models):
    settings = {"models": models} if models else {}
    r, got = run_many(SOCKET, server, tmp_path, mon_env(tmp_path, SOCKET, **settings),
                      "-n", "60", "--pause")
    _, want = run_many(SOCKET, server, tmp_path,
                       own_client_env(shim_env(**settings), SOCKET), "-n", "60", "--pause")
    assert SOCKET_RE.search(r.stdout), r.stdout
    assert got == want
    recs = check(records(tmp_path), 60)
    assert all(x["result"] == 0 for x in recs)


@pytest.mark.parametrize("loop", ["perform", "socket"])
def test_refusals_retried_inside_one_drive_call(server, tmp_path, loop):
    args = ["-n", "40", "--max-conns", "0"] + (["--socket"] if loop == "socket" else [])
    env = mon_env(tmp_path, REFUSALS)
    r = run([REFUSALS, *args, server.openai_url()], env=env, timeout=120)
    assert b"multi_refusals: 40/40 transfers ok, 40 done messages, 0 failures" in r.stdout, \
        r.stderr.decode(errors="replace")[-2000:]
    recs = check(records(tmp_path), 40)
    assert any(x["attempts"] == 2 for x in recs)
    assert all(x["result"] == 0 for x in recs)


def test_threads_every_transfer_once(server, tmp_path):
    """16 threads, 12 transfers each, auto mode learning at once."""
    env = mon_env(tmp_path, THREADS, cache=str(tmp_path / "refusals"))
    r = run([THREADS, server.openai_url(), "16", "12"], env=env, timeout=120)
    assert r.returncode == 0 and r.stdout == b"0 failures\n", r.stderr.decode()[-2000:]
    recs = check(records(tmp_path), 16 * 12)
    assert all(x["result"] == 0 for x in recs)
    assert len({x["pid"] for x in recs}) == 1
