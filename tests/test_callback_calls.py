"""A program that calls libcurl from inside its write callback behaves under
the shim as it does without it (tests/clients/callback_calls.c): the call
returns what libcurl returns (a refusal stays a refusal: nothing is freed or
restarted behind the transfer's back), the transfer ends as it would, and
nothing crashes. Every call libcurl allows from a callback is tried (remove,
reset, pause, setopt, adding another handle to another multi handle,
cleaning up an unrelated handle, info_read) and those it refuses there
(removing itself or another transfer, adding to the same multi handle,
multi_cleanup, a nested perform), while the shim replays an answer
(configured, and in auto mode after a refusal) and while it watches a
native stream (auto mode, passed through: the run must be identical)."""

import pytest

from conftest import BUILD_DIR, chat_body, plain_env, run, shim_env
from test_multi import own_client_env

CLIENT = BUILD_DIR / "clients" / "callback_calls"

MULTI_ONLY = {"remove", "add_same", "remove_other", "multi_cleanup", "perform", "info_read"}
ACTIONS = ["remove", "reset", "pause", "setopt", "add_same", "add_other", "remove_other",
           "cleanup_other", "multi_cleanup", "perform", "info_read"]
CASES = [(a, d) for a in ACTIONS for d in ("easy", "multi") if d == "multi" or a not in MULTI_ONLY]


def report(server, action, drive, model, env):
    assert CLIENT.is_file(), f"{CLIENT} is missing: `make clients`"
    body = chat_body(model, "several words in a long enough answer")
    r = run([CLIENT, action, drive, server.openai_url(), body],
            env=own_client_env(env, CLIENT), timeout=60)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, f"exit {r.returncode}\n{err[-3000:]}"
    lines = [ln for ln in err.splitlines() if ln.split(" ")[0] in
             ("call", "result", "calls", "done", "done-other", "main-result", "other")]
    fields = dict(ln.split(" ", 1) for ln in lines if not ln.startswith("done"))
    pairs = ("result " + fields.get("result", "")).split()
    fields["end"] = dict(zip(pairs[::2], pairs[1::2]))
    return lines, fields, err


@pytest.mark.needs_lib
@pytest.mark.parametrize("action,drive", CASES, ids=[f"{a}-{d}" for a, d in CASES])
def test_calls_from_the_write_callback(server, action, drive):
    # without the shim, a native stream: many write calls
    want_lines, want, _ = report(server, action, drive, "gpt-4o", plain_env())
    assert want["end"]["acted"] == "1", want

    # auto mode watching that native stream: the very same run
    lines, _, err = report(server, action, drive, "gpt-4o", shim_env(models=None))
    # (how the bytes fall into write calls, and which of two transfers
    # finishes first, is the network's doing)
    lines, want_lines = (sorted(ln.split(" bytes")[-1] if ln.startswith("calls") else ln
                                for ln in ls) for ls in (lines, want_lines))
    assert lines == want_lines, err[-3000:]

    # a replay, configured and after a refused attempt: the call returns
    # what libcurl returned, the transfer ends as without the shim
    for env in (shim_env(models="o3-mini"), shim_env(models=None)):
        _, got, err = report(server, action, drive, "o3-mini", env)
        assert got["call"] == want["call"], err[-3000:]
        assert got["end"] == want["end"], err[-3000:]  # result, status, dones
        assert got.get("main-result") == want.get("main-result"), err[-3000:]
        assert got.get("other") == want.get("other"), err[-3000:]
        if action != "reset":  # after a reset nothing more reaches the program
            assert int(got["calls"].split()[0]) > 2, err[-3000:]


def run_case(server, action, drive, model, env, at, headers, stream=True):
    body = chat_body(model, "long:3000" if action == "cancel" else "hi",
                     stream=True if stream else None)
    r = run([CLIENT, action, drive, server.openai_url(), body, str(at), "|".join(headers)],
            env=own_client_env(env, CLIENT), timeout=60)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, f"exit {r.returncode}\n{err[-3000:]}"
    return dict(ln.split(" ", 1) for ln in err.splitlines()
                if ln.split(" ")[0] in ("call", "result", "calls", "late")), err


@pytest.mark.needs_lib
@pytest.mark.parametrize("drive", ["easy", "multi"])
@pytest.mark.parametrize("models", ["o3-mini", None], ids=["force", "auto"])
def test_a_stopped_transfer_gets_no_more_callbacks(server, drive, models):
    """The program stops a transfer half a second into a slow answer (multi:
    curl_multi_remove_handle; easy: its progress callback aborts): without
    the shim no callback follows; the shim used to hand over what it held
    (the partial answer, in auto mode the refused attempt) from inside the
    remove or after perform returned."""
    slow = ["X-Test-Chunked: 1", "X-Test-Event-Delay: 0.05"]
    got, err = run_case(server, "cancel", drive, "o3-mini", shim_env(models=models), 2, slow)
    assert got["late"] == "0", err[-3000:]
    if drive == "easy":
        assert got["result"].startswith("42 "), err[-3000:]  # aborted by callback


@pytest.mark.needs_lib
@pytest.mark.parametrize("action,drive", [("perform_self", "easy"), ("remove", "multi"),
                                          ("multi_cleanup", "multi"), ("perform", "multi")])
def test_calls_while_the_shim_hands_over_a_cut_answer(server, action, drive):
    """An answer cut short reaches the program after libcurl ended (the last
    resort): a call libcurl refuses inside its callbacks is refused there
    too, with libcurl's code (curl_easy_perform of the handle used to send
    a second request; remove and multi_cleanup used to succeed)."""
    cut = ["X-Test-Truncate: 100"]
    want, _ = run_case(server, action, drive, "gpt-4o", plain_env(), 1, cut, stream=False)
    server.clear()
    got, err = run_case(server, action, drive, "o3-mini", shim_env(models="o3-mini"), 1, cut)
    assert got["call"] == want["call"], err[-3000:]
    assert len(server.requests()) == 1, err[-3000:]
    assert got["calls"] == want["calls"] == "1 bytes 100", err[-3000:]


@pytest.mark.needs_lib
def test_an_add_refused_deep_inside_a_callback_starts_nothing(server):
    """Inside m's write callback the program runs another transfer with
    curl_easy_perform, and from that one's callback tries to add a third
    handle to m: libcurl refuses (m is still in a callback), so the shim
    must not start it (it used to read the third request's body ahead,
    and the later real add then hung). Added by the loop, it is
    de-streamed as configured."""
    body = chat_body("gpt-4o", "several words in a long enough answer")
    r = run([CLIENT, "nested_add", "multi", server.openai_url(), body],
            env=own_client_env(shim_env(models="o3-mini"), CLIENT), timeout=30)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, err[-3000:]
    assert "call nested_add -> 8" in err, err[-3000:]
    assert "late status 200 data: {" in err, err[-3000:]
