"""`streamshim models`: what auto mode knows (scripts/streamshim-ctl.c via
the wrapper scripts/streamshim), both directions (models sent without
stream, stream_only models sent streaming; rules and learned entries with
their direction, old six-field cache lines), `--forget`, `--json`, absent
and unreadable caches; and the wrapper still runs programs, one literally
named `models` included, with its options --mode auto, --cache, --pace,
--stream-only."""

import json
import os
import re
import stat
import subprocess

import pytest

from conftest import BUILD_DIR, CURL, ROOT, plain_env, run, shim_env, wrapper_env

WRAPPER = ROOT / "scripts" / "streamshim"
CTL = BUILD_DIR / "streamshim-ctl"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"

CONFIG = """\
mode = auto
models = o3-mini*, o1*
stream_only = qwq*, qwen3-*-thinking
cache_ttl = 7d
[refusal "relay"]
status = 500
field error.type = server_error
message = *Cannot use tools with stream*
[refusal "broken"]
status = 99
[refusal "gate"]
body = *verified to stream*
[refusal "omni relay"]
direction = stream-only
field error.code = stream_required
"""

BUILTIN_RULES = ["built-in", "dashscope-stream-only", "dashscope-enable-thinking",
                 "dashscope-enable-thinking-zh"]


def models(*args, env):
    r = run([WRAPPER, "models", *args], env=env)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def learn(env, host, *models_, at=None, secret=None, rule=None, direction=None):
    cmd = [CTL, "learn"]
    if at is not None:
        cmd += ["--at", str(at)]
    if secret is not None:
        cmd += ["--secret", secret]
    if rule is not None:
        cmd += ["--rule", rule]
    if direction is not None:
        cmd += ["--direction", direction]
    r = run(cmd + [host, *models_], env=env)
    assert r.returncode == 0, r.stderr


@pytest.fixture
def setup(tmp_path):
    if not CTL.is_file():
        pytest.fail(f"{CTL} is not built (make BUILD=... all)", pytrace=False)
    conf = tmp_path / "streamshim.conf"
    conf.write_text(CONFIG)
    cache = tmp_path / "cache" / "refusals"
    env = wrapper_env(STREAMSHIM_CONFIG=conf, STREAMSHIM_CACHE=cache,
                      STREAMSHIM_MODELS=None, STREAMSHIM_MODE=None)
    return conf, cache, env


def table_rows(out):
    """The learned-refusals table: header and rows as lists of lines."""
    lines = out.split("\n")
    i = next(k for k, l in enumerate(lines) if l.lstrip().startswith("SOURCE"))
    rows = []
    for l in lines[i + 1:]:
        if not l.strip():
            break
        rows.append(l)
    return lines[i], rows


def rules_table(out):
    """The refusal-rules table: [(name, direction, matches)]; names may
    hold blanks, so the columns are cut where the header puts them."""
    lines = out.split("\n")
    i = lines.index("refusal rules (tried in order):") + 1
    head = lines[i]
    assert head.split() == ["NAME", "DIRECTION", "MATCHES"], head
    d, m = head.index("DIRECTION"), head.index("MATCHES")
    rows = []
    for l in lines[i + 1:]:
        if not l.strip():
            break
        assert l[d - 2:d] == "  " and l[d] != " " and l[m - 2:m] == "  ", (l, head)
        rows.append((l[2:d].rstrip(), l[d:m].rstrip(), l[m:]))
    return rows


def test_models_shows_everything(setup):
    conf, cache, env = setup
    learn(env, "api.openai.com", "o1-mini", "o3", secret="sk-abc")
    learn(env, "relay.local", "gpt-5\twith tab", rule="relay")
    learn(env, "dashscope.aliyuncs.com", "qwq-plus", direction="stream-only")
    learn(env, "old.example", "o1-preview", at=1700000000)  # last: kept, expired
    rc, out, err = models(env=env)
    assert rc == 0, err
    # The broken rule is reported like the library would log it, and dropped.
    assert f"config {conf}:10: refusal \"broken\"" in err
    lines = out.split("\n")
    assert lines[0] == "mode      auto"
    assert lines[1] == f"config    {conf}"
    assert lines[2] == "models    o3-mini*, o1*  (de-streamed up front)"
    assert lines[3] == ("streaming qwq*, qwen3-*-thinking  "
                        "(stream_only: sent streaming up front)")
    assert lines[4] == f"cache     {cache}  (entries hold 7d)"
    assert "refusal rules (tried in order):" in out
    assert rules_table(out) == [
        ("built-in", "no-stream",
         'status 400, field error.param = "stream", field error.code = "unsupported_value"'),
        ("dashscope-stream-only", "stream-only",
         'status 400, field error.code = "invalid_parameter_error", '
         'message "This model only support stream mode*"'),
        ("dashscope-enable-thinking", "stream-only",
         'status 400, field error.code = "invalid_parameter_error", '
         'message "parameter.enable_thinking must be set to false for non-streaming calls*"'),
        ("dashscope-enable-thinking-zh", "stream-only",
         'status 400, field error.code = "invalid_parameter_error", '
         'message "parameter.enable_thinking必须设置为false才能进行非流式调用*"'),
        ("relay", "no-stream",
         'status 500, field error.type = "server_error", '
         'message "*Cannot use tools with stream*"'),
        ("gate", "no-stream", 'status 400, body "*verified to stream*"'),
        ("omni relay", "stream-only", 'status 400, field error.code = "stream_required"'),
    ]
    assert "broken" not in out
    assert "learned refusals (5):" in out
    head, rows = table_rows(out)
    assert head.split() == ["SOURCE", "HOST", "MODEL", "CREDENTIAL", "LEARNED", "EXPIRES",
                            "DIRECTION"]
    assert len(rows) == 5
    cols = [head.index(c) for c in ("HOST", "MODEL", "CREDENTIAL", "LEARNED", "EXPIRES",
                                    "DIRECTION")]
    for row in rows:  # aligned: every cell starts under its heading
        for c in cols:
            assert row[c - 2:c] == "  " and row[c] != " ", (row, c)
    # The oldest first; the expired one marked; a tab shown escaped.
    assert rows[0].split() == ["built-in", "old.example", "o1-preview", "-",
                               "2023-11-14T22:13:20Z", "2023-11-21T22:13:20Z", "(expired)",
                               "no-stream"]
    fp = "1460db1b6902f8b1"  # sha256("sk-abc")[:16]
    byhost = {r.split()[2]: r.split() for r in rows}
    assert byhost["o1-mini"][:4] == ["built-in", "api.openai.com", "o1-mini", fp]
    assert re.fullmatch(ISO, byhost["o3"][4]) and re.fullmatch(ISO, byhost["o3"][5])
    assert len(byhost["o3"]) == 7 and byhost["o3"][6] == "no-stream"  # not expired
    assert "gpt-5\\twith tab" in out and "gpt-5\twith" not in out
    assert next(r for r in rows if "relay.local" in r).split()[0] == "relay"
    # Learned as stream-only, by the first built-in rule of that direction.
    assert byhost["qwq-plus"][:4] == ["dashscope-stream-only", "dashscope.aliyuncs.com",
                                      "qwq-plus", "-"]
    assert byhost["qwq-plus"][6] == "stream-only"


def test_models_json(setup):
    conf, cache, env = setup
    learn(env, "api.openai.com", "o1-mini", secret="sk-abc")
    learn(env, "old.example", "o1-preview", at=1700000000)
    rc, out, err = models("--json", env=env)
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["mode"] == "auto" and doc["config"] == str(conf)
    assert doc["models"] == ["o3-mini*", "o1*"]
    assert doc["stream_only"] == ["qwq*", "qwen3-*-thinking"]
    assert doc["cache"] == {"path": str(cache), "ttl": 7 * 86400, "readable": True,
                            "writable": True, "problem": None}
    assert [r["name"] for r in doc["rules"]] == BUILTIN_RULES + ["relay", "gate", "omni relay"]
    assert [r["builtin"] for r in doc["rules"]] == [True] * 4 + [False] * 3
    assert [r["direction"] for r in doc["rules"]] == [
        "no-stream", "stream-only", "stream-only", "stream-only",
        "no-stream", "no-stream", "stream-only"]
    assert doc["rules"][0]["builtin"] and doc["rules"][4]["status"] == 500
    assert doc["rules"][6]["matches"] == 'status 400, field error.code = "stream_required"'
    assert "parameter.enable_thinking必须设置为false" in doc["rules"][3]["matches"]
    old, new = doc["learned"]
    assert old == {"source": "built-in", "host": "old.example", "model": "o1-preview",
                   "fingerprint": "-", "direction": "no-stream",
                   "learned": "2023-11-14T22:13:20Z",
                   "learned_unix": 1700000000, "expires": "2023-11-21T22:13:20Z",
                   "expires_unix": 1700604800, "expired": True}
    assert new["fingerprint"] == "1460db1b6902f8b1" and not new["expired"]
    assert new["direction"] == "no-stream"


def test_both_directions_from_a_hand_written_cache(setup):
    """A cache file as older and newer versions write it: a six-field line
    (before directions) reads as no-stream; seven-field lines of both
    directions; a line with an unknown direction is skipped."""
    conf, cache, env = setup
    cache.parent.mkdir(mode=0o700)
    cache.write_text(
        "# streamshim learned refusals\n"
        "api.openai.com\to1-mini\t-\t1700000000\t99999999999\tbuilt-in\n"
        "dashscope.aliyuncs.com\tqwq-plus\t-\t1700000100\t99999999999\t"
        "dashscope-stream-only\tstream-only\n"
        "dashscope.aliyuncs.com\tqwen3-235b-a22b\t0123456789abcdef\t1700000200\t"
        "99999999999\tdashscope-enable-thinking\tstream-only\n"
        "azure.example\to3-mini\t-\t1700000300\t99999999999\tbuilt-in\tno-stream\n"
        "future.example\tm\t-\t1700000400\t99999999999\tbuilt-in\tsideways\n")
    os.chmod(cache, 0o600)
    rc, out, err = models(env=env)
    assert rc == 0, err
    assert "learned refusals (4):" in out and "future.example" not in out
    head, rows = table_rows(out)
    got = [(r.split()[1], r.split()[2], r.split()[-1]) for r in rows]
    assert got == [("api.openai.com", "o1-mini", "no-stream"),
                   ("dashscope.aliyuncs.com", "qwq-plus", "stream-only"),
                   ("dashscope.aliyuncs.com", "qwen3-235b-a22b", "stream-only"),
                   ("azure.example", "o3-mini", "no-stream")]
    rc, out, err = models("--json", env=env)
    assert rc == 0, err
    doc = json.loads(out)
    assert [(e["model"], e["direction"], e["source"]) for e in doc["learned"]] == [
        ("o1-mini", "no-stream", "built-in"),
        ("qwq-plus", "stream-only", "dashscope-stream-only"),
        ("qwen3-235b-a22b", "stream-only", "dashscope-enable-thinking"),
        ("o3-mini", "no-stream", "built-in")]
    # A write (here a forget) rewrites the lines: a no-stream entry as six
    # fields (older versions sharing the file keep reading it), a
    # stream-only one with its direction.
    rc, out, err = models("--forget", "o3-mini", env=env)
    assert rc == 0 and out == "forgot 1 learned refusal matching 'o3-mini'\n", err
    lines = [l.split("\t") for l in cache.read_text().splitlines() if not l.startswith("#")]
    assert [(f[1], f[6:]) for f in lines] == [("o1-mini", []),
                                              ("qwq-plus", ["stream-only"]),
                                              ("qwen3-235b-a22b", ["stream-only"])]


def test_learning_the_other_direction_replaces_the_entry(setup):
    conf, cache, env = setup
    learn(env, "h", "m", at=1700000000)
    learn(env, "h", "m", at=1700000100, direction="stream-only")
    lines = [l.split("\t") for l in cache.read_text().splitlines() if not l.startswith("#")]
    assert lines == [["h", "m", "-", "1700000100", str(1700000100 + 7 * 86400),
                      "dashscope-stream-only", "stream-only"]]
    learn(env, "h", "m", at=1700000200, direction="no-stream", rule="relay")
    rc, out, err = models("--json", env=env)
    doc = json.loads(out)
    assert [(e["model"], e["direction"], e["source"]) for e in doc["learned"]] == [
        ("m", "no-stream", "relay")]
    r = run([CTL, "learn", "--direction", "both", "h", "m"], env=env)
    assert r.returncode == 2 and b"--direction" in r.stderr


def test_environment_overrides_the_file(setup):
    conf, cache, env = setup
    env.update(STREAMSHIM_MODE="force", STREAMSHIM_MODELS="gpt-x", STREAMSHIM_CACHE_TTL="90m",
               STREAMSHIM_STREAM_ONLY="qwen-omni*")
    rc, out, err = models(env=env)
    assert rc == 0, err
    assert "mode      force\n" in out and "models    gpt-x  (de-streamed" in out
    assert "\nstreaming qwen-omni*  (stream_only: sent streaming up front)\n" in out
    assert "(entries hold 90m)" in out
    # --config and --cache given to the command win.
    other = cache.parent.parent / "other.conf"
    other.write_text("mode = off\n")
    env.pop("STREAMSHIM_MODE")
    rc, out, err = models("--config", other, "--cache", "off", env=env)
    assert rc == 0, err
    assert "mode      off\n" in out and "cache     off" in out
    assert "\nstreaming qwen-omni*  (stream_only" in out  # the variable still applies
    assert "relay" not in out
    assert "learned refusals: none in a file (cache off)" in out
    env.pop("STREAMSHIM_STREAM_ONLY")
    rc, out, err = models("--config", other, env=env)
    assert "\nstreaming (none)\n" in out


def test_forget_pattern_and_all(setup):
    conf, cache, env = setup
    learn(env, "api.openai.com", "o1-mini", "o1-preview", "o3")
    learn(env, "o1-proxy.local", "gpt-5")  # matched by its host
    learn(env, "other.local", "gpt-4o")
    rc, out, err = models("--forget", "o1*", env=env)
    assert rc == 0, err
    assert out == "forgot 3 learned refusals matching 'o1*'\n"
    text = cache.read_text()
    assert "o1-mini" not in text and "o1-proxy" not in text and "\to3\t" in text
    rc, out, _ = models("--forget=gpt-4?", env=env)
    assert out == "forgot 1 learned refusal matching 'gpt-4?'\n"
    rc, out, _ = models("--forget", "nothing*", env=env)
    assert rc == 0 and out == "forgot 0 learned refusals matching 'nothing*'\n"
    rc, out, _ = models("--forget", env=env)
    assert rc == 0 and out == "forgot 1 learned refusal\n"
    assert [l for l in cache.read_text().splitlines() if not l.startswith("#")] == []
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    rc, out, _ = models(env=env)
    assert "learned refusals: none\n" in out


def test_absent_cache(setup, tmp_path):
    conf, cache, env = setup
    rc, out, err = models(env=env)
    assert rc == 0, err
    assert "learned refusals: none\n" in out
    rc, out, err = models("--forget", env=env)
    assert rc == 0 and out == "forgot 0 learned refusals\n"
    # The file is started for its forget record: a process that learned
    # before the forget and writes only now must find it.
    assert "#!forget\t" in cache.read_text()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    rc, out, err = models(env=env)
    assert rc == 0 and "learned refusals: none\n" in out
    # No HOME, no XDG_CACHE_HOME, no cache setting: no file at all.
    env2 = dict(env)
    for k in ("HOME", "XDG_CACHE_HOME", "STREAMSHIM_CACHE"):
        env2.pop(k, None)
    rc, out, err = models(env=env2)
    assert rc == 0, err
    assert "cache     off" in out
    # The default path.
    env2["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    rc, out, _ = models(env=env2)
    assert f"cache     {tmp_path}/xdg/streamshim/refusals  (entries hold 7d)" in out
    learn(env2, "h", "m")
    assert stat.S_IMODE((tmp_path / "xdg" / "streamshim").stat().st_mode) == 0o700
    rc, out, _ = models(env=env2)
    assert "learned refusals (1):" in out


def test_unreadable_or_unwritable_cache(setup, tmp_path):
    conf, cache, env = setup
    # A directory where the file should be: cannot be read nor rewritten.
    cache.mkdir(parents=True)
    rc, out, err = models(env=env)
    assert rc == 1
    assert "CANNOT BE READ (a directory)" in out and "learned refusals: unknown" in out
    rc, out, err = models("--forget", env=env)
    assert rc == 1 and "cannot be rewritten (a directory)" in err
    assert cache.is_dir()
    # Learning there stays in memory: nothing written, and the ctl says so.
    r = run([CTL, "learn", "h", "m"], env=env)
    assert r.returncode == 1 and b"not written, kept in memory only (a directory)" in r.stderr
    assert cache.is_dir() and list(cache.iterdir()) == []
    # A symlink is not followed.
    target = tmp_path / "target"
    target.write_text("h\tm\t-\t1\t99999999999\tbuilt-in\n")
    link = tmp_path / "link"
    link.symlink_to(target)
    env["STREAMSHIM_CACHE"] = str(link)
    rc, out, _ = models(env=env)
    assert rc == 1 and "CANNOT BE READ (a symlink (never followed))" in out
    r = run([CTL, "learn", "h", "m2"], env=env)
    assert r.returncode == 1 and b"kept in memory only" in r.stderr
    assert target.read_text() == "h\tm\t-\t1\t99999999999\tbuilt-in\n"
    # Under a regular file: absent, and it cannot be created.
    env["STREAMSHIM_CACHE"] = str(target / "sub" / "refusals")
    rc, out, _ = models(env=env)
    assert rc == 1 and "learned refusals: none" in out
    assert f"CANNOT BE WRITTEN ({target} is not a directory)" in out
    r = run([CTL, "learn", "h", "m3"], env=env)
    assert r.returncode == 1 and b"is not a directory" in r.stderr


def test_models_usage_errors(setup):
    conf, cache, env = setup
    for args in (["--bogus"], ["--config"], ["--cache"], ["extra"]):
        rc, out, err = models(*args, env=env)
        assert rc == 2 and "Usage:" in err, args
    rc, out, err = models("--help", env=env)
    assert rc == 0 and "--forget" in err


def test_ctl_missing(tmp_path):
    fake = tmp_path / "libstreamshim.so"
    fake.write_bytes(b"")
    r = run([WRAPPER, "models"], env=wrapper_env(STREAMSHIM_LIBRARY=fake))
    assert r.returncode == 1 and b"streamshim-ctl not found" in r.stderr


@pytest.fixture
def models_program(tmp_path):
    """A program literally named `models` on PATH."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    prog = bindir / "models"
    prog.write_text("#!/bin/sh\necho \"I am models: $*\"\n")
    prog.chmod(0o755)
    return bindir


def test_programs_still_run(setup, models_program):
    conf, cache, env = setup
    env["PATH"] = f"{models_program}:{env['PATH']}"
    r = run([WRAPPER, "--", "models", "a"], env=env)
    assert r.returncode == 0 and r.stdout == b"I am models: a\n", r.stderr
    r = run([WRAPPER, "--mode", "auto", "models", "b"], env=env)
    assert r.returncode == 0 and r.stdout == b"I am models: b\n", r.stderr
    r = run([WRAPPER, "--models", "x", "--", "models"], env=env)
    assert r.returncode == 0 and r.stdout == b"I am models: \n", r.stderr
    # As the first argument, the subcommand wins over the program.
    r = run([WRAPPER, "models"], env=env)
    assert r.returncode == 0 and r.stdout.startswith(b"mode      auto\n"), r.stderr
    r = run([WRAPPER, "--", "echo", "hello"], env=env)
    assert r.returncode == 0 and r.stdout == b"hello\n"


def test_wrapper_options(setup, tmp_path):
    conf, cache, env = setup
    r = run([WRAPPER, "--mode", "auto", "--cache", "rel/refusals", "--pace", "250",
             "--", "env"], env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    got = dict(l.split("=", 1) for l in r.stdout.decode().splitlines() if "=" in l)
    assert got["STREAMSHIM_MODE"] == "auto"
    assert got["STREAMSHIM_CACHE"] == f"{tmp_path}/rel/refusals"
    assert got["STREAMSHIM_PACE"] == "250"
    r = run([WRAPPER, "--cache=off", "--pace=0", "--mode=force", "env"], env=env)
    got = dict(l.split("=", 1) for l in r.stdout.decode().splitlines() if "=" in l)
    assert (got["STREAMSHIM_CACHE"], got["STREAMSHIM_PACE"], got["STREAMSHIM_MODE"]) == \
        ("off", "0", "force")
    for bad in (["--mode", "sometimes"], ["--pace", "60001"], ["--pace", "-1"],
                ["--pace", "1e3"], ["--pace", "123456"], ["--cache", ""], ["--pace"]):
        r = run([WRAPPER, *bad, "--", "true"], env=env)
        assert r.returncode == 2, bad
    r = run([WRAPPER, "--help"], env=env)
    help_text = r.stdout.decode()
    assert "auto, force or off" in help_text and "--cache PATH|off" in help_text
    assert "--pace MS" in help_text and "streamshim -- models" in help_text
    assert "--stream-only GLOBS" in help_text and "STREAMSHIM_STREAM_ONLY" in help_text


def test_wrapper_stream_only_option(setup):
    conf, cache, env = setup
    for args in (["--stream-only", "qwq*,qwen-omni*"], ["--stream-only=qwq*,qwen-omni*"]):
        r = run([WRAPPER, *args, "--", "env"], env=env)
        assert r.returncode == 0, r.stderr
        got = dict(l.split("=", 1) for l in r.stdout.decode().splitlines() if "=" in l)
        assert got["STREAMSHIM_STREAM_ONLY"] == "qwq*,qwen-omni*"
    r = run([WRAPPER, "--stream-only"], env=env)
    assert r.returncode == 2 and b"needs a value" in r.stderr
    # Not given: the environment's value stays.
    env["STREAMSHIM_STREAM_ONLY"] = "from-env*"
    r = run([WRAPPER, "--", "env"], env=env)
    assert b"STREAMSHIM_STREAM_ONLY=from-env*\n" in r.stdout
    # The ctl run under the wrapper sees it as the library would.
    r = run([WRAPPER, "--stream-only", "qwq*", "--", CTL, "models"], env=env)
    assert r.returncode == 0, r.stderr
    assert b"\nstreaming qwq*  (stream_only: sent streaming up front)\n" in r.stdout


def test_stream_only_reaches_the_library(setup, tmp_path):
    """The library reads --stream-only's variable when its settings load
    (the first libcurl call): its info line counts the patterns."""
    conf, cache, env = setup
    env.pop("STREAMSHIM_CONFIG")
    log = tmp_path / "shim.log"
    r = run([WRAPPER, "--stream-only", "qwq*, qwen-omni*", "--log", f"info:{log}", "--",
             CURL, "-s", "file:///dev/null"], env=env)
    assert r.returncode == 0, r.stderr
    text = log.read_text()
    assert "info: mode auto, 0 model patterns configured, 2 stream-only\n" in text, text
    # Without it, the line is as before.
    log.unlink()
    r = run([WRAPPER, "--log", f"info:{log}", "--", CURL, "-s", "file:///dev/null"], env=env)
    assert "info: mode auto, 0 model patterns configured\n" in log.read_text()


def test_the_readme_configuration_example_parses_as_it_reads(setup, tmp_path):
    """The README's example file, copied as it stands, gives what its
    comments say: no warning, every value exactly as written."""
    text = (ROOT / "README.md").read_text()
    start = text.index("    # Comments are whole lines starting with")
    block = text[start:text.index("\n\n", text.index("[refusal", start))]
    conf = tmp_path / "readme.conf"
    conf.write_text("\n".join(line[4:] for line in block.splitlines()) + "\n")
    env = wrapper_env(STREAMSHIM_CONFIG=conf, STREAMSHIM_CACHE="off", STREAMSHIM_MODELS=None)
    rc, out, err = models("--json", env=env)
    assert rc == 0 and "config" not in err.lower(), err
    doc = json.loads(out)
    assert doc["mode"] == "auto"
    assert doc["models"] == ["o3-mini*", "o1*", "my deployment"]
    assert doc["stream_only"] == ["qwq*", "qwen-omni*"]
    assert [r["name"] for r in doc["rules"]] == BUILTIN_RULES + ["llama.cpp with tools"]
    assert doc["rules"][4]["status"] == 500 and doc["rules"][4]["direction"] == "no-stream"


def test_names_are_shown_escaped(setup):
    """A name with control bytes, a C1 control and bytes that are not UTF-8
    is shown as the log shows it: escaped, never raw."""
    conf, cache, env = setup
    cache.parent.mkdir(mode=0o700, exist_ok=True)
    cache.write_bytes(b"h\tbad\xff\x1b[31m\xc2\x85x\t-\t1\t99999999999\tbuilt-in\n")
    os.chmod(cache, 0o600)
    rc, out, err = models(env=env)
    raw = out.encode("utf-8", "surrogateescape")
    assert b"bad\\xff\\x1b[31m\\xc2\\x85x" in raw, out
    assert b"\x1b" not in raw and b"\xc2\x85" not in raw and b"\xff" not in raw
