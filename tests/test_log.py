"""What reaches the log is escaped in one place (shim/log.c ss_log), so no
call site can forget: a model name, an Azure deployment (percent-decoded
from the URL), a config path or key may hold a newline, an ESC or bytes
that are not UTF-8, and must neither forge a log line nor reach a
terminal as a control sequence. Control bytes, DEL, '\\', C1 controls and
invalid UTF-8 come out as \\n, \\t, \\r, \\\\ or \\xNN; valid UTF-8 as it is."""

import json
import re

import pytest

from conftest import chat_body, run, shim_env
from shimtest import curl

pytestmark = pytest.mark.needs_lib

FORGED = "a\nstreamshim[1]: info: forged\u001b[31m"
LINE = re.compile(r"streamshim\[\d+\]: (error|warn|info|debug): ")


def check_lines(data, pid_expected=None):
    """Every line is one of the shim's, and nothing a terminal would obey:
    no ESC, no other control byte, no C1 control, valid UTF-8."""
    assert b"\x1b" not in data
    text = data.decode("utf-8")  # strict: invalid UTF-8 was escaped
    assert text.endswith("\n")
    lines = text[:-1].split("\n")
    for line in lines:
        assert LINE.match(line), line
        assert not any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 for c in line), line
    return lines


def body_with_model(model, **members):
    return json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}],
                       "stream": True, **members}).encode()


@pytest.mark.parametrize("mode,models", [("auto", None), ("force", "*"), ("auto", "*")])
@pytest.mark.parametrize("model", [FORGED, "o3-mini\nstreamshim[1]: info: forged\u001b[31m"],
                         ids=["configured-or-not", "refused"])
def test_model_names_cannot_forge_lines(server, tmp_path, mode, models, model):
    """The brief's model, and one the test server refuses to stream (auto
    mode then logs the refusal and the retry with the name too)."""
    log = tmp_path / "log"
    r = curl(server.openai_url(), body_with_model(model),
             env=shim_env(mode=mode, models=models, log=f"debug:{log}"), timeout=30)
    assert r.returncode == 0, r.stderr
    lines = check_lines(log.read_bytes())
    named = [l for l in lines if "forged" in l]
    assert named, lines
    for l in named:
        assert "\\nstreamshim[1]: info: forged\\x1b[31m" in l, l


@pytest.mark.parametrize("mode,models", [("auto", None), ("force", "*"), ("auto", "*")])
def test_azure_deployment_cannot_forge_lines(server, tmp_path, mode, models):
    deployment = "o3-mini%0Astreamshim[1]:%20info:%20forged%1B[31m%C2%9B%FF%C3%A9"
    url = (f"{server.url}/openai/deployments/{deployment}/chat/completions"
           "?api-version=2024-12-01-preview")
    log = tmp_path / "log"
    r = curl(url, chat_body("o3-mini"), "-g",
             env=shim_env(mode=mode, models=models, log=f"debug:{log}"), timeout=30)
    assert r.returncode == 0, r.stderr
    lines = check_lines(log.read_bytes())
    named = [l for l in lines if "forged" in l and " model " in l]
    assert named, lines
    for l in named:
        # decoded, then escaped: C1 CSI and a stray byte as \xNN, é kept
        assert "model o3-mini\\nstreamshim[1]: info: forged\\x1b[31m\\xc2\\x9b\\xff\u00e9" in l, l


def test_stderr_log_is_escaped_too(server):
    r = curl(server.openai_url(), body_with_model(FORGED),
             env=shim_env(log="info"), timeout=30)
    assert r.returncode == 0
    check_lines(r.stderr)


def test_config_path_and_keys_are_escaped(tmp_path):
    """Config warnings name the path from the environment: escaped like
    everything else (the exit diagnosis of a ctypes user loads the
    settings, and so reports them)."""
    conf = tmp_path / "c\u001b[2Jonf"
    conf.write_bytes(b"\x1b]0;title\x07evil = 1\n")
    missing = tmp_path / "no\nsuch"
    log = tmp_path / "log"
    prog = ["/usr/bin/python3", "-c", "import ctypes; ctypes.CDLL('libcurl.so.4')"]
    for path in (conf, missing):
        r = run(prog, env=shim_env(config=path, log=f"info:{log}"), timeout=30)
        assert (r.returncode, r.stderr) == (0, b"")
    lines = check_lines(log.read_bytes())
    text = "\n".join(lines)
    assert "c\\x1b[2Jonf:1: unknown setting" in text
    assert "no\\nsuch does not exist: ignored" in text


def test_a_descriptor_the_program_reuses_never_gets_log_lines(server, tmp_path):
    """A program closes every descriptor and opens files under the same
    numbers: the log's lines never land in them."""
    from conftest import PYTHON
    data = tmp_path / "data"
    data.mkdir()
    env = shim_env(log=f"info:{tmp_path / 'shim.log'}")
    from shimtest import FD_REUSE
    r = run([PYTHON, "-c", FD_REUSE, server.openai_url(), data,
             chat_body("gpt-4o").decode()], env=env)
    assert r.returncode == 0 and r.stdout == b"0\n", r.stderr
    assert "watching for a refusal" in (tmp_path / "shim.log").read_text()
