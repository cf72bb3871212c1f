"""Pacing (STREAMSHIM_PACE / pace = N ms): a delay between replayed
events for clients that render a typing effect. It must never stall other
transfers of the program: under curl_easy_perform the shim sleeps (one
transfer), under curl_multi_perform it pauses the transfer and resumes it
from its drive hooks (poll/wait timeouts are shortened to the next event),
and curl_multi_socket_action loops are left unpaced (their timers are the
program's). These tests check order and lower bounds only, never speed."""

import re
import time

import pytest

from conftest import BUILD_DIR, chat_body, run, shim_env
from shimtest import curl, plain_answer
from sse import check_chat_stream, parse_sse

pytestmark = pytest.mark.needs_lib

PACE = BUILD_DIR / "clients" / "multi_pace"


def test_easy_interface_sleeps_between_events(server):
    body = chat_body("o3-mini", "Say hello")
    plain = curl(server.openai_url(), body, env=shim_env(models="o3-mini"))
    t = time.monotonic()
    paced = curl(server.openai_url(), body, env=shim_env(models="o3-mini", pace="40"))
    took = time.monotonic() - t
    assert paced.returncode == 0, paced.stderr
    assert paced.stdout == plain.stdout  # the same stream, only slower
    events = len(parse_sse(paced.stdout))
    assert events > 10
    assert took >= (events - 1) * 0.040


def test_multi_perform_loop_is_paced_without_stalling_others(server, tmp_path):
    body_a = chat_body("o3-mini", "Say hello")
    body_b = chat_body("gpt-4o", "Say hello slowly")
    out_a = tmp_path / "a.sse"
    r = run([PACE, server.openai_url(), body_a, body_b, out_a],
            env=shim_env(models="o3-mini", pace="60"), timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    calls = [(l[0], int(l.split()[1])) for l in lines if re.match(r"[AB] ", l)]
    a_times = [t for who, t in calls if who == "A"]
    b_times = [t for who, t in calls if who == "B"]
    check_chat_stream(out_a.read_bytes(), plain_answer(server.openai_url(), body_a))
    assert len(a_times) == len(parse_sse(out_a.read_bytes())) > 10
    # paced: the replay takes at least its pauses, each well under the
    # program's 1000 ms poll timeout (the shim shortens it)
    gaps = [b - a for a, b in zip(a_times, a_times[1:])]
    assert sum(gaps) >= (len(a_times) - 1) * 60 * 0.9
    assert max(gaps) < 900, gaps
    # B is a native stream the server sends while A waits between events:
    # its pieces arrive in between, not after A
    assert any(a_times[0] < t < a_times[-1] for t in b_times), (a_times, b_times)


def test_socket_action_loops_are_not_paced(server, tmp_path):
    from test_multi import SOCKET, SOCKET_RE
    dump = tmp_path / "dump"
    dump.mkdir()
    r = run([SOCKET, "-u", server.openai_url(), "--dump", dump, "-n", "12"],
            env=shim_env(models="o3-mini", pace="2000"), timeout=60)
    assert r.returncode == 0, r.stderr
    assert SOCKET_RE.search(r.stdout), r.stdout


def pace_run(server, tmp_path, *opts, pace="60"):
    body_a = chat_body("o3-mini", "Say hello")
    body_b = chat_body("gpt-4o", "Say hello slowly")
    out_a = tmp_path / "a.sse"
    r = run([PACE, *opts, server.openai_url(), body_a, body_b, out_a],
            env=shim_env(models="o3-mini", pace=pace), timeout=60)
    text = r.stdout.decode()
    assert "FAIL" not in text, text
    a_times = [int(l.split()[1]) for l in text.splitlines() if l.startswith("A ")]
    return r, text, a_times, out_a, body_a


def test_info_read_before_perform_keeps_the_pace(server, tmp_path):
    """A loop that calls curl_multi_info_read before curl_multi_perform:
    paced events are resumed from perform only, never all at once."""
    r, text, a_times, out_a, body_a = pace_run(server, tmp_path, "--poll-first")
    assert r.returncode == 0, r.stderr
    check_chat_stream(out_a.read_bytes(), plain_answer(server.openai_url(), body_a))
    gaps = [b - a for a, b in zip(a_times, a_times[1:])]
    assert min(gaps) >= 50, gaps


def test_a_program_pause_wins_over_the_pace(server, tmp_path):
    """The program pauses the paced transfer itself: no event reaches it
    until it unpauses (the client prints FAIL otherwise)."""
    r, text, a_times, out_a, body_a = pace_run(server, tmp_path, "--program-pause", "700")
    assert r.returncode == 0, r.stderr
    assert "program unpaused A" in text
    check_chat_stream(out_a.read_bytes(), plain_answer(server.openai_url(), body_a))


def test_removing_a_paced_transfer_cancels_its_replay(server, tmp_path):
    """Taken out of the multi handle between two paced events: the rest of
    the replay is dropped (no callback after removal)."""
    r, text, a_times, out_a, body_a = pace_run(server, tmp_path, "--cancel-after", "3")
    assert r.returncode == 0, r.stderr
    assert "program removed A" in text and len(a_times) == 3
