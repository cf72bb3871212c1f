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
