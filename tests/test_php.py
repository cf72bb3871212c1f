"""PHP's curl extension: opened with RTLD_DEEPBIND, so a plain preload
never sees its calls; `streamshim` adds the deepbind companion for PHP."""

import os
import subprocess

import pytest

from conftest import BUILD_DIR, ROOT, chat_body, plain_env, run, shim_env, wrapper_env
from shimtest import drop_stream_members, plain_answer
from sse import check_chat_stream

pytestmark = pytest.mark.needs_lib

# PHP opens its extensions (opcache too) with RTLD_DEEPBIND, which the ASan
# runtime refuses outright: PHP cannot run under `make check-asan`.
php_runs = pytest.mark.skipif(bool(os.environ.get("SS_PRELOAD_FIRST")),
                              reason="ASan aborts on PHP's RTLD_DEEPBIND dlopen")

WRAPPER = ROOT / "scripts" / "streamshim"
PHP = "/usr/bin/php"


@php_runs
def test_plain_preload_does_not_reach_php(server, tmp_path):
    body = tmp_path / "b.json"
    body.write_bytes(chat_body("o3-mini"))
    r = run([PHP, ROOT / "tests/php/stream.php", server.openai_url(), body],
            env=shim_env(models="o3-mini"))
    assert b"unsupported_value" in r.stdout  # the documented reason for the companion


DEEPBIND_WARNING = b"PHP opens its curl extension with RTLD_DEEPBIND"


@php_runs
def test_plain_preload_of_php_is_diagnosed(server, tmp_path):
    """A new user's first try: a plain LD_PRELOAD with a log. PHP unloads
    its extensions (and libcurl) and empties its environment before the
    shim's destructor runs, so nothing used to be said; now the log says
    why nothing was reached and what to do, to stderr or to the file."""
    body = tmp_path / "b.json"
    body.write_bytes(chat_body("o3-mini"))
    r = run([PHP, ROOT / "tests/php/stream.php", server.openai_url(), body],
            env=shim_env(log="info"), timeout=30)
    assert b"unsupported_value" in r.stdout  # not reached, as documented
    lines = r.stderr.splitlines()
    assert lines[0].startswith(b"ok=1 status=400")
    assert [l for l in lines[1:] if DEEPBIND_WARNING in l]
    assert all(l.startswith(b"streamshim[") for l in lines[1:]), lines
    log = tmp_path / "log"
    r = run([PHP, "-r", "echo 1;"], env=shim_env(log=f"warn:{log}"), timeout=30)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"1", b"")
    assert DEEPBIND_WARNING.decode() in log.read_text()


@php_runs
def test_php_with_the_companion_is_not_diagnosed(server, tmp_path):
    """With the companion the calls reach the shim; a script that makes
    none is not warned about either."""
    body = tmp_path / "b.json"
    body.write_bytes(chat_body("o3-mini"))
    for cmd in ([PHP, ROOT / "tests/php/stream.php", server.openai_url(), body],
                [PHP, "-r", "echo 1;"]):
        r = run([WRAPPER, "--log", "info", "--", *cmd], env=wrapper_env(), timeout=30)
        assert r.returncode == 0, r.stderr
        assert DEEPBIND_WARNING not in r.stderr and b"no libcurl call" not in r.stderr


@php_runs
def test_php_writefunction_closure_streams(server, tmp_path):
    body = tmp_path / "b.json"
    body.write_bytes(chat_body("o3-mini", "from PHP"))
    server.clear()
    r = run([WRAPPER, "--models", "o3-mini", "--", PHP, ROOT / "tests/php/stream.php",
             server.openai_url(), body], env=wrapper_env())
    assert r.returncode == 0, r.stderr
    assert b"ct=text/event-stream; charset=utf-8" in r.stderr
    assert server.requests()[0].json() == drop_stream_members(body.read_bytes())
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body.read_bytes()))


@php_runs
def test_php_closure_auto_mode(server, tmp_path):
    """Nothing configured: PHP's streaming request is refused, retried
    without stream and replayed."""
    body = tmp_path / "b.json"
    body.write_bytes(chat_body("o3-mini", "from PHP, auto"))
    server.clear()
    r = run([WRAPPER, "--", PHP, ROOT / "tests/php/stream.php", server.openai_url(), body],
            env=wrapper_env())
    assert r.returncode == 0, r.stderr
    assert b"ct=text/event-stream; charset=utf-8" in r.stderr
    first, retry = server.requests()
    assert first["body"] == body.read_bytes()
    assert retry.json() == drop_stream_members(body.read_bytes())
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body.read_bytes()))


@php_runs
def test_php_multi(server, tmp_path):
    files = []
    for i, (model, stream) in enumerate([("o3-mini", True), ("gpt-4o", False),
                                         ("o3-mini", True), ("gpt-4o", True)]):
        f = tmp_path / f"b{i}.json"
        f.write_bytes(chat_body(model, f"request {i}", stream=stream))
        files.append(f)
    r = run([WRAPPER, "--models", "o3-mini", "--", PHP, ROOT / "tests/php/multi.php",
             server.openai_url(), *files], env=wrapper_env())
    assert r.returncode == 0 and b"result" not in r.stderr, r.stderr
    for f in files:
        out = (tmp_path / (f.name + ".out")).read_bytes()
        if b'"stream":true' in f.read_bytes():
            check_chat_stream(out, plain_answer(server.openai_url(), f.read_bytes()))
        else:
            assert out.lstrip().startswith(b"{")


@pytest.mark.skipif(bool(os.environ.get("SS_PRELOAD_FIRST")),
                    reason="the ASan runtime's own dlopen interceptor hides the caller "
                           "(a RUNPATH-relative dlopen fails with libasan alone preloaded)")
def test_companion_keeps_relative_dlopen_of_the_caller(tmp_path):
    """dlopen("libplug.so") from a program whose RUNPATH is $ORIGIN/lib must
    still find the plugin with the companion's dlopen in between."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "plug.c").write_text("int plug(void) { return 42; }\n")
    (tmp_path / "main.c").write_text(
        '#include <dlfcn.h>\n#include <stdio.h>\n'
        'int main(void) { void *h = dlopen("libplug.so", RTLD_NOW);\n'
        '  int (*f)(void) = h ? (int (*)(void))dlsym(h, "plug") : 0;\n'
        '  printf("%d\\n", f ? f() : -1); return f ? 0 : 1; }\n')
    subprocess.run(["cc", "-shared", "-fPIC", "-o", tmp_path / "lib/libplug.so",
                    tmp_path / "plug.c"], check=True)
    subprocess.run(["cc", "-o", tmp_path / "main", tmp_path / "main.c",
                    "-Wl,-rpath,$ORIGIN/lib", "-ldl"], check=True)
    env = plain_env(LD_PRELOAD=str(BUILD_DIR / "libstreamshim-deepbind.so"))
    r = run([tmp_path / "main"], env=env)
    assert (r.returncode, r.stdout) == (0, b"42\n"), r.stderr


@php_runs
def test_php_header_and_returntransfer(server, tmp_path):
    body = tmp_path / "b.json"
    body.write_bytes(chat_body("o3-mini"))
    r = run([WRAPPER, "--models", "o3-mini", "--", PHP, ROOT / "tests/php/header.php",
             server.openai_url(), body], env=wrapper_env())
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith(b"HTTP/1.1 200") and r.stderr.endswith(b"\r\n\r\n")
    assert b"Content-Type: text/event-stream; charset=utf-8\r\n" in r.stderr
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body.read_bytes()))
