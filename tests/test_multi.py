"""Many transfers on one multi handle, under the shim and without it.

tests/clients/multi_many.c drives 200 transfers with curl_multi_perform +
curl_multi_poll (handles reused for a second round, some removed and cleaned
up mid-transfer); tests/clients/multi_socket.c drives 60 with
curl_multi_socket_action from an epoll loop, optionally pausing from the
write callback. Both check every transfer themselves (exit code, summary
line) and leave what they sent and received in a dump directory, which is
checked here against the answer the server builds (tests/server.py) and
against the server's request log."""

import json
import os
import re
import subprocess

import pytest

import server as srv
from conftest import BUILD_DIR, plain_env, run, shim_env
from sse import check_chat_stream

MANY = BUILD_DIR / "clients" / "multi_many"
SOCKET = BUILD_DIR / "clients" / "multi_socket"

MANY_RE = re.compile(rb"^multi_many: (\d+)/(\d+) transfers ok \((\d+) destreamed, (\d+) json, "
                     rb"(\d+) native\), (\d+) reused, (\d+) removed mid-transfer, 0 failures$", re.M)
SOCKET_RE = re.compile(rb"^multi_socket: (\d+)/(\d+) transfers ok \((\d+) destreamed, (\d+) json, "
                       rb"(\d+) native\), (\d+) paused and resumed, (\d+) in the multi handle at once, "
                       rb"0 failures$", re.M)


def libasan_path():
    r = subprocess.run(["cc", "-print-file-name=libasan.so"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, check=False)
    path = r.stdout.decode().strip()
    return path if os.path.isabs(path) and os.path.exists(path) else None


def own_client_env(env, prog):
    """The environment for one of our clients. Built with ASan (SS_BUILD=
    build-asan) a client carries the runtime, which must still come before
    the preloaded shim: without SS_PRELOAD_FIRST (set by `make check-asan`)
    it is put first here. Leaks of the shim count (as in test_c_clients)."""
    if "LD_PRELOAD" in env and "libasan" not in env["LD_PRELOAD"] \
            and b"libasan.so" in prog.read_bytes():
        asan = libasan_path()
        if asan:
            env["LD_PRELOAD"] = asan + " " + env["LD_PRELOAD"]
    if "detect_leaks=0" in env.get("ASAN_OPTIONS", ""):
        env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"].replace("detect_leaks=0", "detect_leaks=1")
    return env


def run_client(prog, server, tmp_path, *args, shim, models="o3-mini"):
    """Run a client; models=None runs it in auto mode with nothing
    configured (the refusals are learned, in memory)."""
    assert prog.is_file(), f"{prog} is missing: `make clients`"
    dump = tmp_path / "dump"
    dump.mkdir()
    env = own_client_env(shim_env(models=models) if shim else plain_env(), prog)
    server.clear()
    r = run([prog, "-u", server.openai_url(), "--dump", dump, *args], env=env, timeout=90)
    detail = f"exit {r.returncode}\nstdout: {r.stdout.decode(errors='replace')}\n" \
             f"stderr (first 4000): {r.stderr.decode(errors='replace')[:4000]}"
    return r, dump, detail


def dumped(dump):
    """[(name, request body, received bytes)] of every checked transfer."""
    out = []
    for req in sorted(dump.glob("*.req")):
        out.append((req.stem, req.read_bytes(), req.with_suffix(".out").read_bytes()))
    return out


def expected(body):
    """(kind, the server's answer dict) for a request body as the program sent it."""
    req = json.loads(body)
    model = req["model"]
    answer = srv.build_answer(req, model, srv.model_matches(model, srv.DEFAULT_REFUSE))
    if req.get("stream") is not True:
        return "json", answer
    return ("destream" if model == "o3-mini" else "native"), answer


def check_transfers(transfers, shim):
    """Every transfer got what the server answers, byte for byte when it
    passed through; returns the count of each kind."""
    kinds = {"destream": 0, "json": 0, "native": 0}
    for name, body, out in transfers:
        kind, answer = expected(body)
        kinds[kind] += 1
        if kind == "json":
            assert out == srv.dumps(answer, pretty=True), name
        elif kind == "native":
            native = b"".join(b"data: " + srv.dumps(c) + b"\n\n"
                              for c in srv.build_stream(answer, False)) + b"data: [DONE]\n\n"
            assert out == native, name
        else:
            assert shim, f"{name}: a de-streamed request without the shim"
            check_chat_stream(out, answer, expect_usage=False)
    return kinds


def check_server_log(server, transfers, auto=False):
    """De-streamed requests arrived without stream (every other byte as
    sent), the others exactly as sent. In auto mode a de-streamed request
    may first have gone out as sent (refused, then retried without stream);
    returns the log and the count of such retries."""
    log = server.requests()
    retried = 0
    for name, body, _ in transfers:
        tag = re.search(rb"\[[xs]\d+(?:\.r\d)?\]", body).group(0)
        got = [r for r in log if tag in r["body"]]
        assert got, f"{name}: no request with {tag!r} reached the server"
        kind, _ = expected(body)
        want = body.replace(b',"stream":true', b"") if kind == "destream" else body
        if auto and kind == "destream":  # refused attempts, then their retries
            retried += sum(1 for r in got if r["body"] == body)
            got = [r for r in got if r["body"] != body]
            assert got, f"{name}: never retried"
        for req in got:
            assert req["body"] == want, f"{name}: server got {req['body']!r}"
            assert req.header("Content-Length") == str(len(want)), name
            assert req["path"] == "/v1/chat/completions"
    return (log, retried) if auto else log


@pytest.mark.needs_lib
def test_multi_many_under_shim(server, tmp_path):
    r, dump, detail = run_client(MANY, server, tmp_path, "-n", "200", shim=True)
    assert r.returncode == 0, detail
    m = MANY_RE.search(r.stdout)
    assert m, detail
    ok, total, d, j, n, reused, removed = map(int, m.groups())
    # 194 first-round transfers (6 victims removed) + the even ones again
    assert (ok, total, reused, removed) == (291, 291, 97, 6), detail
    assert min(d, j, n) >= 90
    transfers = dumped(dump)
    assert len(transfers) == 291
    kinds = check_transfers(transfers, shim=True)
    assert (kinds["destream"], kinds["json"], kinds["native"]) == (d, j, n)
    log = check_server_log(server, transfers)
    assert not any(b'"stream"' in q["body"] and b"o3-mini" in q["body"] for q in log)


def test_multi_many_passthrough_without_shim(server, tmp_path):
    r, dump, detail = run_client(MANY, server, tmp_path, "-n", "200", "--passthrough-only",
                                 shim=False)
    assert r.returncode == 0, detail
    m = MANY_RE.search(r.stdout)
    assert m and m.group(3) == b"0" and m.group(1) == m.group(2) == b"291", detail
    transfers = dumped(dump)
    check_transfers(transfers, shim=False)
    check_server_log(server, transfers)


@pytest.mark.needs_lib
@pytest.mark.parametrize("pause", [False, True], ids=["plain", "pause"])
def test_multi_socket_under_shim(server, tmp_path, pause):
    args = ["-n", "60"] + (["--pause"] if pause else [])
    r, dump, detail = run_client(SOCKET, server, tmp_path, *args, shim=True)
    assert r.returncode == 0, detail
    m = SOCKET_RE.search(r.stdout)
    assert m, detail
    ok, total, d, j, n, paused, most = map(int, m.groups())
    assert (ok, total, d, j, n) == (60, 60, 20, 20, 20), detail
    # the first twin of each de-streamed and native pair, and of the
    # chunked JSON pairs (pairs 4, 13, 22)
    assert paused == (23 if pause else 0), detail
    assert most == 60, detail
    transfers = dumped(dump)
    assert len(transfers) == 60
    assert check_transfers(transfers, shim=True) == {"destream": 20, "json": 20, "native": 20}
    check_server_log(server, transfers)


@pytest.mark.needs_lib
def test_multi_many_auto_mode_retries_refusals(server, tmp_path):
    """Nothing configured: each o3-mini stream is refused, hidden, retried
    and replayed; the client sees one DONE per transfer and never a byte of
    a refusal (it checks both itself)."""
    r, dump, detail = run_client(MANY, server, tmp_path, "-n", "200", shim=True, models=None)
    assert r.returncode == 0, detail
    m = MANY_RE.search(r.stdout)
    assert m, detail
    ok, total, d, j, n, reused, removed = map(int, m.groups())
    assert (ok, total, reused, removed) == (291, 291, 97, 6), detail
    transfers = dumped(dump)
    kinds = check_transfers(transfers, shim=True)
    assert (kinds["destream"], kinds["json"], kinds["native"]) == (d, j, n)
    _, retried = check_server_log(server, transfers, auto=True)
    # the first round starts at once, before anything is learned
    assert retried >= 30, retried


@pytest.mark.needs_lib
@pytest.mark.parametrize("pause", [False, True], ids=["plain", "pause"])
def test_multi_socket_auto_mode_retries_refusals(server, tmp_path, pause):
    args = ["-n", "60"] + (["--pause"] if pause else [])
    r, dump, detail = run_client(SOCKET, server, tmp_path, *args, shim=True, models=None)
    assert r.returncode == 0, detail
    m = SOCKET_RE.search(r.stdout)
    assert m, detail
    assert tuple(map(int, m.groups()[:5])) == (60, 60, 20, 20, 20), detail
    transfers = dumped(dump)
    assert check_transfers(transfers, shim=True) == {"destream": 20, "json": 20, "native": 20}
    _, retried = check_server_log(server, transfers, auto=True)
    assert retried >= 1, retried


@pytest.mark.parametrize("pause", [False, True], ids=["plain", "pause"])
def test_multi_socket_passthrough_without_shim(server, tmp_path, pause):
    args = ["-n", "60", "--passthrough-only"] + (["--pause"] if pause else [])
    r, dump, detail = run_client(SOCKET, server, tmp_path, *args, shim=False)
    assert r.returncode == 0, detail
    m = SOCKET_RE.search(r.stdout)
    assert m and m.group(1) == m.group(2) == b"60" and m.group(3) == b"0", detail
    transfers = dumped(dump)
    check_transfers(transfers, shim=False)
    check_server_log(server, transfers)


REFUSALS = BUILD_DIR / "clients" / "multi_refusals"


@pytest.mark.needs_lib
@pytest.mark.parametrize("loop", ["perform", "socket"])
@pytest.mark.parametrize("n,slow", [(200, 0), (20, 20)], ids=["200-fast", "20-slow"])
def test_running_count_holds_while_refusals_are_retried(server, loop, n, slow):
    """Refused streams at once, and a loop that trusts the running count
    (as curl's examples do) and reads the messages only after it says 0:
    every transfer must be done by then, with its whole replay and one DONE
    message. With slow progress callbacks (20 ms each) one drive call lasts
    long enough for a retry started in it to finish in it while other
    refusals are judged: those are retried before the call returns (the
    shim used to return with them pending and a count of 0)."""
    assert REFUSALS.is_file(), f"{REFUSALS} is missing: `make clients`"
    args = ["-n", str(n), "--max-conns", "0", "--slow", str(slow)]
    args += ["--socket"] if loop == "socket" else []
    env = own_client_env(shim_env(models=None), REFUSALS)
    r = run([REFUSALS, *args, server.openai_url()], env=env, timeout=120)
    detail = f"exit {r.returncode}\n{r.stdout.decode()}\n{r.stderr.decode(errors='replace')[-3000:]}"
    assert r.returncode == 0, detail
    want = f"multi_refusals: {n}/{n} transfers ok, {n} done messages, 0 failures"
    assert want.encode() in r.stdout, detail
