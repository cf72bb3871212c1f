"""The real curl CLI under the shim against the o3-mini-like server."""

import gzip
import json

import pytest

from conftest import CURL, chat_body, plain_env, run, shim_env
from shimtest import curl, plain_answer, drop_stream_members
from sse import check_chat_stream, parse_sse

pytestmark = pytest.mark.needs_lib

AZURE_KEY = "api-key: sk-azure-SECRET-1234"


def openai(server):
    return server.openai_url("/v1/chat/completions")


def azure(server):
    return server.azure_url("o3-mini")


def test_without_shim_the_deployment_refuses(server):
    r = curl(azure(server), chat_body("o3-mini"), headers=[AZURE_KEY])
    err = json.loads(r.stdout)["error"]
    assert err["param"] == "stream" and err["code"] == "unsupported_value"


@pytest.mark.parametrize("style", ["openai", "azure"])
def test_curl_streams_the_answer(server, style):
    url = openai(server) if style == "openai" else azure(server)
    # Azure ignores the body's model: the deployment decides.
    model = "o3-mini" if style == "openai" else "whatever"
    body = chat_body(model, "Tell me something")
    hdrs = [AZURE_KEY] if style == "azure" else ["Authorization: Bearer sk-SECRET"]
    server.clear()
    r = curl(url, body, headers=hdrs, env=shim_env(models="o3-mini*"))
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""  # silent unless asked
    sent = server.requests()
    assert len(sent) == 1
    assert sent[0].json() == drop_stream_members(body)
    check_chat_stream(r.stdout, plain_answer(url, body, hdrs), expect_usage=False)


@pytest.mark.parametrize("flag", ["-d", "--data-binary", "--json"])
def test_body_from_file(server, tmp_path, flag):
    """The forms users type: -d @body.json, --data-binary @..., --json @..."""
    body = chat_body("o3-mini", "from a file")
    f = tmp_path / "body.json"
    f.write_bytes(body)
    server.clear()
    r = run([CURL, "-sN", server.openai_url(), "-H", "Content-Type: application/json",
             flag, f"@{f}"], env=shim_env(models="o3-mini"))
    assert r.returncode == 0, r.stderr
    assert server.requests()[0].json() == drop_stream_members(body)
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))


def test_server_receives_exact_bytes(server):
    body = (b'{\n  "model": "o3-mini",\n  "stream": true,\n  "n": 12345678901234567890,\n'
            b'  "messages": [{"role": "user", "content": "say \\"stream\\": true \\u00e9",'
            b' "stream": true}],\n  "stream_options": {"include_usage": true}\n}')
    want = (b'{\n  "model": "o3-mini",\n  "n": 12345678901234567890,\n'
            b'  "messages": [{"role": "user", "content": "say \\"stream\\": true \\u00e9",'
            b' "stream": true}]\n}')
    server.clear()
    r = curl(openai(server), body, env=shim_env(models="o3-mini"))
    assert r.returncode == 0, r.stderr
    req = server.requests()[0]
    assert req["body"] == want
    assert req.header("Content-Length") == str(len(want))


def test_include_usage_gives_a_usage_chunk(server):
    body = chat_body("o3-mini", stream_options={"include_usage": True})
    r = curl(openai(server), body, env=shim_env(models="o3-mini"))
    assert r.returncode == 0, r.stderr
    got = check_chat_stream(r.stdout, plain_answer(openai(server), body), expect_usage=True)
    assert got["usage"]["total_tokens"] > 0
    last = json.loads(parse_sse(r.stdout)[-2].data)
    assert last["choices"] == [] and last["usage"]


@pytest.mark.parametrize("opts", [["--compressed"], ["-H", "Accept-Encoding: gzip"]])
def test_compressed_answers_are_decoded(server, opts):
    body = chat_body("o3-mini")
    r = curl(openai(server), body, *opts, env=shim_env(models="o3-mini"))
    assert r.returncode == 0, r.stderr
    assert server.requests()[-1].header("Accept-Encoding")
    check_chat_stream(r.stdout, plain_answer(openai(server), body))


@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_brotli_and_zstd_answers(server, coding):
    body = chat_body("o3-mini")
    r = curl(openai(server), body, "--compressed", "-i", env=shim_env(models="o3-mini"),
             headers=[f"X-Test-Encoding: {coding}"])
    assert r.returncode == 0, r.stderr
    head, _, stream = r.stdout.partition(b"\r\n\r\n")
    assert b"content-encoding" not in head.lower()
    check_chat_stream(stream, plain_answer(openai(server), body))


def test_include_headers_are_rewritten(server):
    body = chat_body("o3-mini")
    r = curl(openai(server), body, "-i", env=shim_env(models="o3-mini"))
    assert r.returncode == 0, r.stderr
    head, _, stream = r.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith("HTTP/1.1 200")
    names = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    assert names["content-type"] == "text/event-stream; charset=utf-8"
    assert "content-length" not in names and "content-encoding" not in names
    assert "x-request-id" in names
    check_chat_stream(stream, plain_answer(openai(server), body))


def test_expect_100_continue(server):
    body = chat_body("o3-mini")
    r = curl(openai(server), body, "-i", env=shim_env(models="o3-mini"),
             headers=["Expect: 100-continue"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200")
    stream = r.stdout.split(b"\r\n\r\n", 2)[2]
    check_chat_stream(stream, plain_answer(openai(server), body))


def test_chunked_answer_and_output_file(server, tmp_path):
    body = chat_body("o3-mini", "long:20000")
    out = tmp_path / "out"
    r = curl(openai(server), body, "-o", str(out), env=shim_env(models="o3-mini"),
             headers=["X-Test-Chunked: 1"])
    assert r.returncode == 0, r.stderr
    check_chat_stream(out.read_bytes(), plain_answer(openai(server), body))


def test_low_speed_limit_survives_the_silence(server):
    body = chat_body("o3-mini")
    # 3 s of silence against "abort below 1 byte/s for 1 s"
    r = curl(openai(server), body, "-Y", "1", "-y", "1", env=shim_env(models="o3-mini"),
             headers=["X-Test-Delay: 3"])
    assert r.returncode == 0, r.stderr
    check_chat_stream(r.stdout, plain_answer(openai(server), body))


@pytest.mark.parametrize("mode", ["force", "auto"])
def test_low_speed_limit_applies_once_the_answer_trickles(server, mode):
    """The limit is lifted only while nothing of the answer has arrived:
    an answer trickling at ~30 bytes/s against "abort below 100 bytes/s for
    3 s" fails with error 28 under the shim as it does without it (it used
    to hang for the whole answer)."""
    body = chat_body("o3-mini", "long:4000")
    slow = ["X-Test-Chunked: 1", "X-Test-Event-Delay: 0.5", "X-Test-Gzip: 0"]
    plain = curl(openai(server), chat_body("o3-mini", "long:4000", stream=None),
                 "-Y", "100", "-y", "3", env=plain_env(), headers=slow, timeout=100)
    assert plain.returncode == 28, plain.stderr
    env = shim_env(models="o3-mini") if mode == "force" else shim_env(models=None)
    r = curl(openai(server), body, "-Y", "100", "-y", "3", env=env, headers=slow,
             timeout=100)
    assert r.returncode == 28, r.stderr
    assert b"Operation too slow" in r.stderr


def test_max_answer_holds_for_an_answer_in_one_piece(server, tmp_path):
    """max_answer is checked whatever the answer's pieces: a whole answer
    over it, in one write, passes through unchanged instead of being
    buffered and replayed."""
    conf = tmp_path / "config"
    conf.write_text("max_answer = 1024\n")
    log = tmp_path / "log"
    body = chat_body("o3-mini", "long:3000")
    r = curl(openai(server), body, env=shim_env(models="o3-mini", config=conf,
                                                log=f"info:{log}"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == plain_answer(openai(server), body)
    assert "larger than max_answer" in log.read_text()


def test_write_error_is_reported(server, tmp_path):
    # stdout is a closed pipe: curl's write callback fails -> exit 23
    body = chat_body("o3-mini")
    cmd = [CURL, "-sS", openai(server), "-H", "Content-Type: application/json",
           "--data-binary", "@-", "-o", "/dev/full"]
    r = run(cmd, env=shim_env(models="o3-mini"), input=body)
    assert r.returncode == 23, r.stderr


@pytest.mark.parametrize("upload", ["file", "stdin"])
def test_upload_with_custom_post(server, tmp_path, upload):
    """curl -T FILE -X POST (known size) and -T - (chunked) send the body
    through a read callback: it is read ahead and rewritten too."""
    body = chat_body("o3-mini", "uploaded")
    f = tmp_path / "body.json"
    f.write_bytes(body)
    src = str(f) if upload == "file" else "-"
    server.clear()
    r = run([CURL, "-sS", "-N", "-T", src, "-X", "POST", server.openai_url(),
             "-H", "Content-Type: application/json"], env=shim_env(models="o3-mini"),
            input=body if upload == "stdin" else None)
    assert r.returncode == 0, r.stderr
    req = server.requests()[0]
    assert req.json() == drop_stream_members(body)
    if upload == "file":
        assert req.header("Content-Length") == str(len(req["body"]))
    else:
        assert req.header("Transfer-Encoding") == "chunked"
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body))


def test_upload_of_other_model_is_sent_unchanged(server, tmp_path):
    body = chat_body("gpt-4o", "uploaded")
    f = tmp_path / "body.json"
    f.write_bytes(body)
    server.clear()
    outs = [run([CURL, "-sS", "-T", f, "-X", "POST", server.openai_url()], env=env).stdout
            for env in (plain_env(), shim_env(models="o3-mini"))]
    a, b = server.requests()
    assert a["body"] == b["body"] == body
    assert outs[0] == outs[1]


# --- nothing else changes -------------------------------------------------

def both(server, url, body, *extra, headers=(), **settings):
    a = curl(url, body, *extra, headers=headers, env=plain_env())
    b = curl(url, body, *extra, headers=headers, env=shim_env(**settings))
    return a, b


@pytest.mark.parametrize("case", ["other-model", "not-streaming", "mode-off",
                                  "unknown-mode", "non-llm"])
def test_pass_through_is_byte_identical(server, case):
    settings = {"models": "o3-mini*"}
    url, body, extra = openai(server), chat_body("gpt-4o"), ["-i"]
    if case == "not-streaming":
        body = chat_body("o3-mini", stream=False)
    elif case == "mode-off":
        body, settings["mode"] = chat_body("o3-mini"), "off"
    elif case == "unknown-mode":
        body, settings["mode"] = chat_body("o3-mini"), "sometimes"
    elif case == "non-llm":
        url, extra = server.url + "/plain/200000", []
    server.clear()
    a, b = both(server, url, body, *extra, **settings)
    sent = server.requests()
    assert [r["body"] for r in sent[:1]] == [r["body"] for r in sent[1:]]

    def strip_volatile(out):
        return b"\n".join(l for l in out.split(b"\n")
                           if not l.lower().startswith((b"date:", b"x-request-id:")))
    assert strip_volatile(a.stdout) == strip_volatile(b.stdout)
    assert a.returncode == b.returncode
    assert b.stderr == a.stderr


def test_native_stream_of_other_model_untouched(server):
    body = chat_body("gpt-4o", stream_options={"include_usage": True})
    r = curl(openai(server), body, env=shim_env(models="o3-mini*"))
    assert json.loads(server.requests()[-1]["body"])["stream"] is True
    check_chat_stream(r.stdout, plain_answer(openai(server), body), expect_usage=True)


# --- configuration and logging ---------------------------------------------

def test_log_names_decisions_and_hides_secrets(server, tmp_path):
    log = tmp_path / "shim.log"
    env = shim_env(models="o3-mini*", log=f"info:{log}")
    curl(azure(server), chat_body("o3-mini"), env=env,
         headers=[AZURE_KEY, "Authorization: Bearer sk-SECRET-5678", "Cookie: s=SECRET"])
    curl(openai(server), chat_body("gpt-4o"), env=env)
    curl(openai(server), chat_body("o3-mini", stream=False), env=env)
    text = log.read_text()
    # once per transfer, though libcurl 7.88 runs curl_easy_perform on its
    # own exported multi functions
    assert text.count("de-streaming") == 1 and text.count("replaying") == 1
    assert "libcurl openssl flavour" in text
    assert "de-streaming chat completions /openai/deployments/o3-mini/chat/completions" in text
    assert "model gpt-4o, watching for a refusal to stream" in text
    # a request that does not stream is watched the other way
    assert "model o3-mini, watching for a refusal of requests that do not stream" in text
    assert "SECRET" not in text
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_unknown_mode_is_logged(server):
    r = curl(openai(server), chat_body("o3-mini"),
             env=shim_env(models="o3-mini", mode="sometimes", log="warn"))
    assert b"unknown mode, acting as off" in r.stderr
    assert json.loads(server.requests()[-1]["body"])["stream"] is True


def test_config_file(server, tmp_path):
    cfg = tmp_path / "streamshim.conf"
    cfg.write_text('# streamshim\nmode = force\nmodels = "o3-*, gpt-4o-mini"\n'
                   '[later "feature"]\nwhatever = 1\n')
    body = chat_body("o3-mini")
    r = curl(openai(server), body, env=shim_env(config=cfg, log="warn"))
    assert r.returncode == 0
    assert b"unknown section" in r.stderr
    check_chat_stream(r.stdout, plain_answer(openai(server), body))
    # the environment overrides the file
    r = curl(openai(server), body, env=shim_env(config=cfg, models="gpt-*"))
    assert b"unsupported_value" in r.stdout


def test_no_model_is_destreamed_without_configuration(server):
    """No built-in list: in force mode nothing is de-streamed unless named
    (auto mode learns instead: tests/test_auto.py)."""
    r = curl(openai(server), chat_body("o3-mini"), env=shim_env(mode="force"))
    assert b"unsupported_value" in r.stdout
