"""Where the configuration is found and how mistakes show (issue 13): the
search order ($STREAMSHIM_CONFIG, the user's file under $XDG_CONFIG_HOME or
~/.config, /etc/streamshim/config) read by the real library; trailing
comments; `streamshim check-config`; `streamshim explain` for every
decision, judged by the library's own code (its body is the one the
library sends); the wrapper's checks of what it passes on; the log's
messages; debug logging more than info."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import BUILD_DIR, CURL, ROOT, chat_body, run, shim_env, wrapper_env

WRAPPER = ROOT / "scripts" / "streamshim"
CTL = BUILD_DIR / "streamshim-ctl"

# force mode, so that only the file's models are de-streamed: the proof
# that the file was read
FORCE_O3 = "mode = force   # no auto mode\nmodels = o3-mini*   # the refusing one\n"


def destreamed(server, env):
    """Did the library de-stream a streaming o3-mini request under env?
    (The server saw no "stream" member.)"""
    server.clear()
    r = run([CURL, "-sN", server.openai_url(), "-H", "Content-Type: application/json",
             "--data-binary", chat_body("o3-mini").decode()], env=env)
    assert r.returncode == 0, r.stderr
    sent = server.requests()[-1].json()
    return "stream" not in sent


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ---- the search order, read by the library --------------------------------

def test_the_users_file_under_xdg_config_home(server, tmp_path):
    xdg = tmp_path / "xdg"
    write(xdg / "streamshim" / "config", FORCE_O3)
    env = shim_env(config=None, XDG_CONFIG_HOME=xdg, HOME=tmp_path / "home")
    assert destreamed(server, env)


def test_the_users_file_under_home_dot_config(server, tmp_path):
    home = tmp_path / "home"
    write(home / ".config" / "streamshim" / "config", FORCE_O3)
    env = shim_env(config=None, XDG_CONFIG_HOME=None, HOME=home)
    assert destreamed(server, env)
    # a relative XDG_CONFIG_HOME is no base directory: ~/.config counts
    env["XDG_CONFIG_HOME"] = "relative"
    assert destreamed(server, env)


def test_xdg_config_home_replaces_home_dot_config(server, tmp_path):
    home = tmp_path / "home"
    write(home / ".config" / "streamshim" / "config", FORCE_O3)
    empty = tmp_path / "xdg"
    empty.mkdir()
    env = shim_env(config=None, XDG_CONFIG_HOME=empty, HOME=home, mode="force")
    assert not destreamed(server, env)


def test_streamshim_config_wins_and_empty_means_none(server, tmp_path):
    xdg = tmp_path / "xdg"
    write(xdg / "streamshim" / "config", FORCE_O3)
    other = write(tmp_path / "other.conf", "mode = force\nmodels = nothing*\n")
    env = shim_env(config=other, XDG_CONFIG_HOME=xdg)
    assert not destreamed(server, env)
    env = shim_env(config="", XDG_CONFIG_HOME=xdg, mode="force")
    assert not destreamed(server, env)


def test_the_environment_overrides_the_file(server, tmp_path):
    xdg = tmp_path / "xdg"
    write(xdg / "streamshim" / "config", FORCE_O3)
    # the file's models are replaced by the variable's
    env = shim_env(config=None, XDG_CONFIG_HOME=xdg, models="gpt-4o*")
    assert not destreamed(server, env)
    env = shim_env(config=None, XDG_CONFIG_HOME=xdg, mode="off")
    assert not destreamed(server, env)


def test_a_host_that_clears_its_environment_keeps_the_users_file(server, tmp_path):
    """PHP-FPM's workers lose their environment: HOME and XDG_CONFIG_HOME
    are kept from the start, as the STREAMSHIM_* variables are."""
    xdg = tmp_path / "xdg"
    write(xdg / "streamshim" / "config", FORCE_O3)
    script = (
        "import ctypes, os, sys\n"
        "os.environ.clear()\n"
        "import pycurl, io\n"
        "c = pycurl.Curl(); b = io.BytesIO()\n"
        "c.setopt(c.URL, sys.argv[1]); c.setopt(c.POSTFIELDS, sys.argv[2])\n"
        "c.setopt(c.HTTPHEADER, ['Content-Type: application/json'])\n"
        "c.setopt(c.WRITEDATA, b); c.perform()\n")
    env = shim_env(config=None, XDG_CONFIG_HOME=xdg)
    server.clear()
    r = run(["/usr/bin/python3", "-c", script, server.openai_url(),
             chat_body("o3-mini").decode()], env=env)
    assert r.returncode == 0, r.stderr
    assert "stream" not in server.requests()[-1].json()


def can_mount():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    r = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return r.returncode == 0


@pytest.mark.skipif(not can_mount(), reason="needs root and unshare -m for a private /etc/streamshim")
def test_the_system_file_last(server, tmp_path):
    """/etc/streamshim/config, seen through a private mount namespace so
    that nothing else on the machine sees it."""
    etc = tmp_path / "etc-streamshim"
    write(etc / "config", FORCE_O3)
    made = not os.path.exists("/etc/streamshim")
    if made:
        os.makedirs("/etc/streamshim", exist_ok=True)
    try:
        body = chat_body("o3-mini").decode()
        inner = ("mount --bind \"$1\" /etc/streamshim && shift && exec \"$@\"")
        base = [CURL, "-sN", server.openai_url(), "-H", "Content-Type: application/json",
                "--data-binary", body]
        for home, want in ((tmp_path / "nohome", True), (tmp_path / "home", False)):
            if want is False:  # the user's file is found first
                write(home / ".config" / "streamshim" / "config", "mode = force\nmodels = x*\n")
            env = shim_env(config=None, XDG_CONFIG_HOME=None, HOME=home)
            server.clear()
            r = run(["unshare", "-m", "--propagation", "private", "sh", "-c", inner, "sh",
                     str(etc), *base], env=env)
            assert r.returncode == 0, r.stderr
            assert ("stream" not in server.requests()[-1].json()) is want
            # check-config names the file it read
            r = run(["unshare", "-m", "--propagation", "private", "sh", "-c", inner, "sh",
                     str(etc), str(CTL), "check-config"], env=env)
            assert r.returncode == 0, r.stdout
            expected = "/etc/streamshim/config" if want else str(home / ".config/streamshim/config")
            assert f"checked {expected} and the environment: no problems" in r.stdout.decode()
    finally:
        if made:
            try:
                os.rmdir("/etc/streamshim")
            except OSError:
                pass


def test_a_trailing_comment_is_a_comment_and_quotes_keep_a_hash(server, tmp_path):
    conf = write(tmp_path / "c.conf",
                 "mode = force    # only the models below\n"
                 "models = \"o3-mini # quoted\"   # quotes keep it\n"
                 "models = o3-mini*, o1*   # two globs\n"
                 "cache = off # memory only\n")
    env = shim_env(config=conf)
    assert destreamed(server, env)
    r = run([CTL, "models", "--json"], env=wrapper_env(STREAMSHIM_CONFIG=conf))
    got = json.loads(r.stdout)
    assert got["models"] == ["o3-mini # quoted", "o3-mini*", "o1*"], got


# ---- check-config ---------------------------------------------------------

def check_config(*args, **env):
    return run([WRAPPER, "check-config", *map(str, args)], env=wrapper_env(**env))


def test_check_config_clean_file(tmp_path):
    conf = write(tmp_path / "ok.conf", FORCE_O3 + "[refusal \"relay\"]  # note\nstatus = 500\n")
    r = check_config(conf)
    assert r.returncode == 0, r.stdout
    assert r.stdout.decode() == f"checked {conf} and the environment: no problems\n"


def test_check_config_reports_every_problem_with_file_and_line(tmp_path):
    conf = write(tmp_path / "bad.conf",
                 "mode = sometimes\n"           # 1
                 "chunk = 0\n"                  # 2
                 "# fine\n"                     # 3
                 "colour = blue\n"              # 4
                 "no equals sign\n"             # 5
                 "[refusal \"r\"]\n"            # 6
                 "status = 99\n"                # 7
                 "log = warn:/no/such/dir/x.log\n")
    r = check_config(conf, STREAMSHIM_PACE="soon", STREAMSHIM_MODLES="o3*")
    out = r.stdout.decode().splitlines()
    assert r.returncode == 1
    lines = [line.split(": ", 1)[0] for line in out[:-1]]
    for n in (1, 2, 4, 5, 7):
        assert f"{conf}:{n}" in lines, out
    assert any("unknown setting 'colour'" in line for line in out), out
    assert any(line.startswith("STREAMSHIM_PACE: ") for line in out), out
    assert any(line.startswith("STREAMSHIM_MODLES: not a streamshim variable") for line in out)
    assert out[-1] == f"checked {conf} and the environment: {len(out) - 1} problems"


def test_check_config_log_problems(tmp_path):
    r = check_config(STREAMSHIM_CONFIG="", STREAMSHIM_LOG="info:/no/such/dir/x.log")
    assert r.returncode == 1
    assert ("STREAMSHIM_LOG: log file /no/such/dir/x.log cannot be opened: its "
            "directory does not exist") in r.stdout.decode()
    r = check_config(STREAMSHIM_CONFIG="", STREAMSHIM_LOG="loud")
    assert r.returncode == 1 and "log level 'loud' is none of" in r.stdout.decode()
    (tmp_path / "target").write_text("")
    (tmp_path / "link.log").symlink_to(tmp_path / "target")
    r = check_config(STREAMSHIM_CONFIG="", STREAMSHIM_LOG=f"info:{tmp_path}/link.log")
    assert r.returncode == 1 and "is a symbolic link" in r.stdout.decode()
    # a file that does not exist yet in a directory that does: fine, and
    # not created by the check
    r = check_config(STREAMSHIM_CONFIG="", STREAMSHIM_LOG=f"debug:{tmp_path}/new.log")
    assert r.returncode == 0, r.stdout
    assert not (tmp_path / "new.log").exists()


def test_a_bad_log_of_the_file_is_named_by_its_file_and_line(tmp_path):
    """check-config says FILE:LINE for the file's log, as for any line; the
    library names the file's line too, not STREAMSHIM_LOG."""
    conf = write(tmp_path / "c.conf", "pace = 1\nlog = loud:x.log\n")
    r = check_config(conf)
    assert r.returncode == 1
    assert r.stdout.decode().splitlines()[0] == (
        f"{conf}:2: log level 'loud' is none of off, error, warn, info, debug "
        "(expected level[:file])")
    bad_dir = write(tmp_path / "d.conf", "\nlog = warn:/no/such/dir/x.log\n")
    r = check_config(bad_dir)
    assert r.stdout.decode().startswith(f"{bad_dir}:2: log file /no/such/dir/x.log cannot be "
                                        "opened: its directory does not exist\n")
    r = run([CURL, "-s", "http://127.0.0.1:1/"], env=shim_env(config=conf))
    err = r.stderr.decode()
    assert (f"config {conf}:2: log: expected level[:file] with level one of off, error, "
            "warn, info, debug") in err, err
    assert "STREAMSHIM_LOG" not in err
    r = run([CURL, "-s", "http://127.0.0.1:1/"], env=shim_env(config=conf, log="loud"))
    assert "STREAMSHIM_LOG: expected level[:file]" in r.stderr.decode()


def test_check_config_unreadable_and_default(tmp_path):
    r = check_config(tmp_path / "missing.conf")
    assert r.returncode == 2 and b"cannot read" in r.stderr
    # without FILE: the file the library would read (none here)
    r = check_config(STREAMSHIM_CONFIG=None, XDG_CONFIG_HOME=tmp_path, HOME=tmp_path)
    out = r.stdout.decode()
    assert out.startswith("checked ") and "no problems" in out
    write(tmp_path / "streamshim" / "config", "pace = -1\n")
    r = check_config(STREAMSHIM_CONFIG=None, XDG_CONFIG_HOME=tmp_path)
    assert r.returncode == 1
    assert r.stdout.decode().startswith(f"{tmp_path}/streamshim/config:1: ")
    # a named file that is missing is a problem of its own
    r = check_config(STREAMSHIM_CONFIG=tmp_path / "gone.conf")
    assert r.returncode == 1 and "does not exist: ignored" in r.stdout.decode()


def test_check_config_refuses_a_file_others_may_write(tmp_path):
    """As ssh refuses its config: a file group or others may write is not
    used, by the library nor by check-config (through a symlink too)."""
    conf = write(tmp_path / "shared.conf", "pace = 1\n")
    conf.chmod(0o666)
    r = check_config(conf)
    assert r.returncode == 2
    assert f"cannot read {conf}: is writable by group or others" in r.stderr.decode()
    link = tmp_path / "link.conf"
    link.symlink_to(conf)
    for mode in (0o660, 0o606):
        conf.chmod(mode)
        r = check_config(STREAMSHIM_CONFIG=link)
        assert r.returncode == 1, r.stdout
        assert "is writable by group or others: ignored" in r.stdout.decode()
    conf.chmod(0o644)
    r = check_config(STREAMSHIM_CONFIG=link)
    assert r.returncode == 0, r.stdout


def library_log(tmp_path, **settings):
    """What the library logs (info) at its first libcurl call under settings."""
    log = tmp_path / "lib.log"
    r = run([CURL, "-s", "http://127.0.0.1:1/"], env=shim_env(log=f"info:{log}", **settings))
    assert r.stderr == b"", r.stderr
    return log.read_text()


def test_a_dangling_user_config_link_is_the_config_and_is_reported(tmp_path):
    """lstat, not access(F_OK): ~/.config/streamshim/config -> nowhere is
    the user's file, reported as unusable, not a silent fall through to
    the next in the search order."""
    home = tmp_path / "home"
    link = home / ".config" / "streamshim" / "config"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "nowhere")
    env = dict(STREAMSHIM_CONFIG=None, XDG_CONFIG_HOME=None, HOME=home)
    r = check_config(**env)
    assert r.returncode == 1, r.stdout
    assert r.stdout.decode().splitlines() == [
        f"{link}: is a symbolic link to nothing: ignored",
        f"checked {link} and the environment: 1 problem"]
    assert f"config {link} is a symbolic link to nothing: ignored" in \
        library_log(tmp_path, config=None, XDG_CONFIG_HOME=None, HOME=home)


def test_a_streamshim_config_too_long_for_a_path_is_reported(tmp_path):
    name = "/" + "x" * 4999
    r = check_config(STREAMSHIM_CONFIG=name)
    assert r.returncode == 1, r.stdout
    want = "STREAMSHIM_CONFIG: a file name of 5000 bytes, longer than 4095: ignored"
    assert r.stdout.decode().splitlines()[0] == want
    assert want in library_log(tmp_path, config=name)
    r = run([WRAPPER, "--config", name, "true"], env=wrapper_env())
    assert r.returncode == 2  # the wrapper's own check: not a readable file


def test_a_named_config_the_library_refuses_is_named_by_its_variable(tmp_path):
    conf = write(tmp_path / "theirs.conf", "pace = 1\n")
    os.chown(conf, 65534, 65534)
    r = check_config(STREAMSHIM_CONFIG=conf)
    assert r.returncode == 1
    assert r.stdout.decode().splitlines()[0] == \
        f"STREAMSHIM_CONFIG: config {conf} is owned by another user: ignored"
    assert f"STREAMSHIM_CONFIG: config {conf} is owned by another user: ignored" in \
        library_log(tmp_path, config=conf)


@pytest.mark.parametrize("kind,why", [("other-owner", "is owned by another user"),
                                      ("writable", "is writable by group or others"),
                                      ("fifo", None)])
def test_the_wrappers_config_the_library_would_refuse_is_a_usage_error(tmp_path, kind, why):
    """--config of a file the library would not read stops the wrapper
    (exit 2, saying why); the same file in STREAMSHIM_CONFIG of the
    environment is a warning and the program runs."""
    conf = tmp_path / "c.conf"
    if kind == "fifo":
        os.mkfifo(conf)
    else:
        write(conf, "pace = 1\n")
        if kind == "other-owner":
            os.chown(conf, 65534, 65534)
        else:
            conf.chmod(0o666)
    r = run([WRAPPER, "--config", conf, "sh", "-c", "echo ran"], env=wrapper_env(), timeout=15)
    assert (r.returncode, r.stdout) == (2, b""), r.stderr
    err = r.stderr.decode()
    if why:
        assert f"streamshim: --config: config {conf} {why}\n" in err, err
    else:
        assert f"cannot read config file '{conf}'" in err, err
    if why:
        r = run([WRAPPER, "sh", "-c", "echo ran"], env=wrapper_env(STREAMSHIM_CONFIG=conf))
        assert (r.returncode, r.stdout) == (0, b"ran\n")
        assert f"STREAMSHIM_CONFIG: config {conf} {why}: ignored" in r.stderr.decode()


def test_an_empty_config_means_none(tmp_path, server):
    """--config '' is STREAMSHIM_CONFIG='' (no file), for the wrapper,
    explain and models alike."""
    xdg = tmp_path / "xdg"
    write(xdg / "streamshim" / "config", FORCE_O3)
    r = run([WRAPPER, "--config", "", "sh", "-c", 'echo "[$STREAMSHIM_CONFIG]"'],
            env=wrapper_env(XDG_CONFIG_HOME=xdg, STREAMSHIM_CONFIG=None))
    assert (r.returncode, r.stdout, r.stderr) == (0, b"[]\n", b"")
    fields, _ = explain(server.openai_url(), '{"model":"o3-mini","stream":true}',
                        "--config", "", STREAMSHIM_CONFIG=None, XDG_CONFIG_HOME=xdg)
    assert fields["config:"] == "(none)" and fields["decision:"] == "watch", fields
    r = run([CTL, "models", "--config", "", "--json"],
            env=wrapper_env(STREAMSHIM_CONFIG=None, XDG_CONFIG_HOME=xdg))
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    assert json.loads(r.stdout)["config"] is None


def test_check_config_reads_standard_input(tmp_path):
    r = run([WRAPPER, "check-config", "-"], env=wrapper_env(), input="pace = 1\nchunk = 0\n")
    assert r.returncode == 1, r.stderr
    out = r.stdout.decode().splitlines()
    assert out[0].startswith("(standard input):2: chunk must be"), out
    assert out[-1] == "checked (standard input) and the environment: 1 problem"
    r = run([WRAPPER, "check-config", "-"], env=wrapper_env(), input=FORCE_O3)
    assert r.returncode == 0, r.stdout
    # explain reads its body there: not both
    r = run([WRAPPER, "explain", "--config", "-", "http://127.0.0.1:1/v1/chat/completions"],
            env=wrapper_env(), input="{}")
    assert r.returncode == 2 and b"cannot both be standard input" in r.stderr


def test_check_config_usage_names_every_option():
    r = run([WRAPPER, "check-config", "--help"], env=wrapper_env())
    assert r.returncode == 0
    assert b"check-config [--quiet] [FILE]" in r.stderr and b"standard input" in r.stderr


def test_check_config_and_models_escape_control_bytes(tmp_path):
    """Names and values from files and the environment reach the terminal
    escaped, as the library's log escapes them: no ESC, no forged line."""
    conf = tmp_path / "c\x1b[2Jonf\nchecked"
    conf.write_bytes(b"col\x1b]0;t\x07our = 1\n[refusal \"r\x1b[31m\"]\nmessage = *\x1b[5m*\n")
    r = check_config(conf)
    assert r.returncode == 1
    out = r.stdout.decode()
    assert "\x1b" not in out and "\x07" not in out, repr(out)
    shown = f"{tmp_path}/c\\x1b[2Jonf\\nchecked"
    assert out.splitlines() == [
        f"{shown}:1: unknown setting 'col\\x1b]0;t\\x07our'",
        f"checked {shown} and the environment: 1 problem"], out
    r = run([WRAPPER, "check-config", "--quiet"], env=wrapper_env(STREAMSHIM_CONFIG=conf))
    err = r.stderr.decode()
    assert err == f"streamshim: config {shown}:1: unknown setting 'col\\x1b]0;t\\x07our'\n", err
    r = run([CTL, "models"], env=wrapper_env(STREAMSHIM_CONFIG=conf))
    out = r.stdout.decode()
    assert "\x1b" not in out and f"config    {shown}\n" in out, out
    assert "r\\x1b[31m" in out and "*\\x1b[5m*" in out, out


@pytest.mark.parametrize("args,status", [(["models"], 1), (["models", "--json"], 1),
                                         (["check-config"], 2),
                                         (["explain", "http://127.0.0.1:1/v1/chat/completions"], 2)])
def test_ctl_output_that_cannot_be_written_fails(args, status):
    """Like coreutils: a full disk (/dev/full) is an error, on stderr, and
    the command's failure status."""
    with open("/dev/full", "wb") as full:
        r = subprocess.run([str(CTL), *args], env=wrapper_env(), input=b"{}", stdout=full,
                           stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == status, r.stderr
    assert r.stderr.decode().endswith("streamshim: write error: No space left on device\n")


# ---- explain ---------------------------------------------------------------

def explain(url, body, *args, **env):
    r = run([WRAPPER, "explain", *args, url], env=wrapper_env(**env), input=body)
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    head, _, sent = text.partition("\nbody:\n")
    fields = dict(line.split(None, 1) for line in head.splitlines())
    return fields, sent[:-1] if sent.endswith("\n") else sent


def sent_by_library(server, url, body, env):
    server.clear()
    r = run([CURL, "-sN", url, "-H", "Content-Type: application/json",
             "-H", "Authorization: Bearer sk-explain", "--data-binary", body], env=env)
    assert r.returncode == 0, r.stderr
    return server.requests()[-1]["body"].decode()


def test_explain_destream_by_glob_and_the_body_is_the_librarys(server):
    body = '{"model": "o3-mini", "stream": true, "stream_options": {"include_usage": true}, "messages": []}'
    fields, sent = explain(server.openai_url(), body, STREAMSHIM_MODELS="o1*,o3-mini*",
                           STREAMSHIM_CONFIG="")
    assert fields["decision:"] == "de-stream"
    assert fields["why:"] == "model o3-mini matches o3-mini* in models (STREAMSHIM_MODELS)"
    assert fields["model:"] == "o3-mini"
    assert fields["endpoint:"].startswith("chat completions /v1/chat/completions on 127.0.0.1:")
    assert sent == '{"model": "o3-mini", "messages": []}'
    assert sent == sent_by_library(server, server.openai_url(), body,
                                   shim_env(models="o1*,o3-mini*", config=""))


def test_explain_azure_deployment_from_the_config_file(server, tmp_path):
    conf = write(tmp_path / "c.conf", "models = o3-mini*\n")
    body = '{"model":"whatever","stream":true,"messages":[]}'
    fields, sent = explain(server.azure_url("o3-mini"), body, "--config", str(conf))
    assert fields["decision:"] == "de-stream"
    assert fields["why:"] == f"model o3-mini matches o3-mini* in models ({conf})"
    assert fields["model:"] == "o3-mini (the Azure deployment)"
    assert fields["config:"] == str(conf)
    assert sent == '{"model":"whatever","messages":[]}'


def test_explain_stream_only(server):
    body = '{"model":"qwq-plus","messages":[{"role":"user","content":"hi"}]}'
    url = server.openai_url("/compatible-mode/v1/chat/completions")
    fields, sent = explain(url, body, STREAMSHIM_STREAM_ONLY="qwq*", STREAMSHIM_CONFIG="")
    assert fields["decision:"] == "stream"
    assert fields["why:"] == "model qwq-plus matches qwq* in stream_only (STREAMSHIM_STREAM_ONLY)"
    assert sent == body[:-1] + ',"stream":true,"stream_options":{"include_usage":true}}'
    assert sent == sent_by_library(server, url, body, shim_env(stream_only="qwq*", config=""))


def test_explain_watch_and_learned(server, tmp_path):
    cache = tmp_path / "refusals"
    body = '{"model":"gpt-9","stream":true,"messages":[]}'
    url = server.openai_url()
    fields, sent = explain(url, body, "--cache", str(cache), STREAMSHIM_CONFIG="")
    assert fields["decision:"] == "watch"
    assert "sent as written (streaming) and watched for a refusal to stream" in fields["why:"]
    assert sent == body
    host = url.split("/")[2]
    cred = "Authorization: Bearer sk-one"
    r = run([CTL, "learn", "--secret", cred, "--at", "1900000000", host, "gpt-9"],
            env=wrapper_env(STREAMSHIM_CACHE=cache, STREAMSHIM_CACHE_TTL="400000d"))
    assert r.returncode == 0, r.stderr
    env = dict(STREAMSHIM_CONFIG="", STREAMSHIM_CACHE_TTL="400000d")
    # learned for that credential: de-streamed, and the entry shown
    fields, sent = explain(url, body, "--cache", str(cache), "-H", cred, **env)
    assert fields["decision:"] == "de-stream"
    assert fields["why:"] == "model gpt-9: the server refused to stream it before (learned)"
    assert fields["learned:"].startswith(f"host {host}, model gpt-9, credential ")
    assert "no-stream, rule built-in" in fields["learned:"] and str(cache) in fields["learned:"]
    assert sent == '{"model":"gpt-9","messages":[]}'
    # another credential, or none: not learned for it
    fields, _ = explain(url, body, "--cache", str(cache), "-H", "Authorization: Bearer sk-two", **env)
    assert fields["decision:"] == "watch"


@pytest.mark.parametrize("url_path,body,env,why", [
    ("/v1/chat/completions", '{"model":"o3-mini","stream":true}', {"STREAMSHIM_MODE": "off"},
     "mode off: every request passes through"),
    ("/v1/chat/completions", '{"model":"o3-mini","stream":true}', {"STREAMSHIM_MODE": "force"},
     "mode force with no models or stream_only configured: every request passes through"),
    ("/v1/embeddings", '{"model":"o3-mini","stream":true}', {},
     "not an endpoint streamshim knows"),
    ("/v1/chat/completions", 'not json', {}, "the body is not a JSON object"),
    ("/v1/chat/completions", '{"stream":true,"messages":[]}', {}, "no model in the request"),
    ("/v1/chat/completions", '{"model":"gpt-4o","stream":true}',
     {"STREAMSHIM_MODE": "force", "STREAMSHIM_MODELS": "o3*"},
     "mode force: model gpt-4o is not configured to de-stream"),
])
def test_explain_pass(server, url_path, body, env, why):
    fields, sent = explain(server.openai_url(url_path), body, STREAMSHIM_CONFIG="", **env)
    assert fields["decision:"] == "pass"
    assert fields["why:"].startswith(why), fields
    assert sent == body


def test_explain_body_from_a_file_and_usage(tmp_path, server):
    f = write(tmp_path / "b.json", '{"model":"o1","stream":true}\n')
    r = run([WRAPPER, "explain", server.openai_url(), str(f)],
            env=wrapper_env(STREAMSHIM_MODELS="o1", STREAMSHIM_CONFIG=""))
    assert r.returncode == 0 and r.stdout.decode().endswith('\nbody:\n{"model":"o1"}\n')
    r = run([WRAPPER, "explain"], env=wrapper_env())
    assert r.returncode == 2 and b"a URL is needed" in r.stderr
    r = run([WRAPPER, "explain", server.openai_url(), str(tmp_path / "none")], env=wrapper_env())
    assert r.returncode == 2 and b"cannot read the body" in r.stderr


# ---- the wrapper's checks, the log's messages -------------------------------

@pytest.mark.parametrize("args,words", [
    (["--mode", "bogus"], b"invalid mode 'bogus'"),
    (["--pace", "99999999"], b"invalid pace"),
    (["--log", "nonsense"], b"--log: log level 'nonsense' is none of"),
    (["--log", "info:/no/such/dir/x.log"],
     b"--log: log file /no/such/dir/x.log cannot be opened: its directory does not exist"),
])
def test_a_bad_option_value_is_a_usage_error(args, words):
    r = run([WRAPPER, *args, "true"], env=wrapper_env(STREAMSHIM_CONFIG=""))
    assert r.returncode == 2, r.stderr
    assert words in r.stderr


def test_a_capture_file_that_cannot_be_opened_is_a_usage_error(tmp_path):
    """As --log's file: in a missing directory, or a directory itself."""
    for target, why in ((tmp_path / "no-such-dir" / "cap.jsonl",
                         "cannot be opened: its directory does not exist"),
                        (tmp_path, "is a directory")):
        r = run([WRAPPER, "--capture", target, "sh", "-c", "echo ran"],
                env=wrapper_env(STREAMSHIM_CONFIG=""))
        assert (r.returncode, r.stdout) == (2, b""), r.stderr
        assert f"streamshim: --capture: capture file {target} {why}\n" in r.stderr.decode()
    # check-config: the variable's, and the file's at its line
    r = check_config(STREAMSHIM_CONFIG="", STREAMSHIM_CAPTURE=tmp_path / "none" / "c.jsonl")
    assert r.returncode == 1 and r.stdout.decode().startswith("STREAMSHIM_CAPTURE: capture file ")
    conf = write(tmp_path / "c.conf", "pace = 1\ncapture = /no/such/dir/c.jsonl\n")
    r = check_config(conf)
    assert r.stdout.decode().startswith(f"{conf}:2: capture file /no/such/dir/c.jsonl cannot "
                                        "be opened: its directory does not exist\n")
    # a file that can be: fine, and not created by the check
    r = run([WRAPPER, "--capture", tmp_path / "new.jsonl", "true"], env=wrapper_env())
    assert (r.returncode, r.stderr) == (0, b"")
    assert not (tmp_path / "new.jsonl").exists()


def test_capture_off_is_passed_on_as_it_is(tmp_path):
    r = run([WRAPPER, "--capture", "off", "sh", "-c", 'echo "$STREAMSHIM_CAPTURE"'],
            env=wrapper_env(), cwd=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"off\n", b"")
    r = run([WRAPPER, "--capture", "", "true"], env=wrapper_env())
    assert r.returncode == 2 and b"--capture needs a file or off" in r.stderr


def test_a_bad_environment_is_reported_and_the_program_runs(tmp_path):
    conf = write(tmp_path / "c.conf", "pace = slow\n")
    r = run([WRAPPER, "sh", "-c", "echo ran"],
            env=wrapper_env(STREAMSHIM_MODE="bogus", STREAMSHIM_CONFIG=conf))
    assert r.returncode == 0 and r.stdout == b"ran\n"
    err = r.stderr.decode()
    assert "streamshim: STREAMSHIM_MODE: unknown mode, acting as off" in err
    assert f"streamshim: config {conf}:1: " in err
    # a good environment: not a word
    r = run([WRAPPER, "sh", "-c", "echo ran"], env=wrapper_env(STREAMSHIM_CONFIG=""))
    assert r.returncode == 0 and r.stderr == b""


def test_relative_config_and_log_files_are_made_absolute(tmp_path):
    write(tmp_path / "c.conf", "pace = 1\n")
    r = run([WRAPPER, "--config", "c.conf", "--log", "warn:x.log", "sh", "-c",
             'echo "$STREAMSHIM_CONFIG $STREAMSHIM_LOG"'],
            env=wrapper_env(), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split() == [f"{tmp_path}/c.conf", f"warn:{tmp_path}/x.log"]


def test_the_library_says_the_log_file_cannot_be_opened():
    r = run([CURL, "-s", "http://127.0.0.1:1/"],
            env=shim_env(log="info:/no/such/dir/x.log", config=""))
    assert (b"log file /no/such/dir/x.log cannot be opened: its directory does not exist: "
            b"not used, errors and warnings go to stderr") in r.stderr
    assert b"expected level" not in r.stderr


def test_debug_logs_the_stages_and_byte_counts(server, tmp_path):
    logs = {}
    for level in ("info", "debug"):
        log = tmp_path / f"{level}.log"
        env = shim_env(models="o3-mini*", log=f"{level}:{log}", config="")
        run([CURL, "-sN", server.openai_url(), "-H", "Content-Type: application/json",
             "--data-binary", chat_body("o3-mini").decode()], env=env)
        run([CURL, "-s", server.openai_url("/plain/100")], env=env)
        logs[level] = log.read_text()
    info, debug = logs["info"], logs["debug"]
    assert "debug:" not in info
    assert len(debug.splitlines()) > len(info.splitlines())
    for line in info.splitlines():  # debug has every info line
        assert line.split(": ", 1)[1] in debug
    assert "stages destream (declined stream_only, fallback)" in debug
    assert "no stage takes part (declined destream, stream_only, fallback): passed through" in debug
    assert "ended (result 0): got " in debug and " body bytes, handed the program " in debug
