"""The library itself: what it exports and needs, that it costs nothing to
programs that never use libcurl, and that each libcurl flavour is reached,
including one a plugin loaded privately (pycurl)."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import BUILD_DIR, LIB, PYTHON, ROOT, chat_body, plain_env, run, shim_env
from shimtest import PYCURL_MULTI, plain_answer
from sse import check_chat_stream

pytestmark = pytest.mark.needs_lib

HOOKS = {"curl_easy_init", "curl_easy_duphandle", "curl_easy_reset", "curl_easy_cleanup",
         "curl_easy_setopt", "curl_easy_perform", "curl_easy_getinfo", "curl_easy_header",
         "curl_easy_nextheader", "curl_multi_add_handle", "curl_multi_remove_handle",
         "curl_multi_info_read", "curl_multi_cleanup", "curl_multi_perform",
         "curl_multi_socket_action", "curl_multi_poll", "curl_multi_wait",
         "curl_multi_timeout", "curl_easy_pause"}
FLAVOURS = ["CURL_OPENSSL_4", "CURL_GNUTLS_3", "CURL_NSS_3"]


def test_exports_only_the_hooks_per_flavour():
    out = subprocess.run(["nm", "-D", "--defined-only", str(LIB)], capture_output=True,
                         text=True, check=True).stdout.split()
    syms = [s for s in out if "@" in s or s.startswith("curl_")]
    nodes = {s for s in out if s in FLAVOURS}
    assert nodes == set(FLAVOURS)
    want = {f"{h}@@CURL_OPENSSL_4" for h in HOOKS} | \
           {f"{h}@{v}" for h in HOOKS for v in FLAVOURS[1:]}
    assert set(syms) == want


def test_runtime_needs_only_libc():
    out = subprocess.run(["readelf", "-d", str(LIB)], capture_output=True, text=True,
                         check=True).stdout
    needed = sorted(l.split("[")[1].rstrip("]") for l in out.splitlines() if "(NEEDED)" in l)
    if BUILD_DIR.name == "build":
        assert needed == ["libc.so.6"]
    assert not any("curl" in n or "python" in n for n in needed)


def test_silent_and_harmless_in_programs_without_libcurl(tmp_path):
    env = shim_env(models="*")
    r = run(["/bin/sh", "-c", "echo hello; ls / >/dev/null; printf done"], env=env)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"hello\ndone", b"")


@pytest.mark.parametrize("client", ["llmclient", "llmclient-gnutls"])
def test_each_flavour_reaches_its_own_libcurl(server, tmp_path, client):
    body = tmp_path / "body.json"
    body.write_bytes(chat_body("o3-mini"))
    log = tmp_path / "log"
    r = run([BUILD_DIR / "clients" / client, "--header", "Content-Type: application/json",
             server.openai_url(), body], env=shim_env(models="o3-mini", log=f"info:{log}"))
    assert r.returncode == 0, r.stderr
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body.read_bytes()))
    flavour = "gnutls" if client.endswith("gnutls") else "openssl"
    text = log.read_text()
    assert f"libcurl {flavour} flavour" in text
    assert ("libcurl-gnutls.so.4" in text) == (flavour == "gnutls")


PYCURL = r"""
import io, sys, pycurl
url, body = sys.argv[1], open(sys.argv[2], 'rb').read()
c = pycurl.Curl()
c.setopt(pycurl.URL, url)
c.setopt(pycurl.POSTFIELDS, body)
c.setopt(pycurl.HTTPHEADER, ['Content-Type: application/json'])
out = []
c.setopt(pycurl.WRITEFUNCTION, out.append)
c.perform()
sys.stderr.write('ct=%s calls=%d\n' % (c.getinfo(pycurl.CONTENT_TYPE), len(out)))
c.close()
sys.stdout.buffer.write(b''.join(out))
"""


@pytest.mark.parametrize("mode", ["configured", "auto"])
def test_pycurl_private_gnutls_libcurl(server, tmp_path, mode):
    """Python loads pycurl (and its libcurl-gnutls) with RTLD_LOCAL:
    dlsym(RTLD_NEXT) finds nothing there, a naive shim crashes."""
    body = tmp_path / "body.json"
    body.write_bytes(chat_body("o3-mini"))
    log = tmp_path / "log"
    r = run([PYTHON, "-c", PYCURL, server.openai_url(), body],
            env=shim_env(models="o3-mini" if mode == "configured" else None,
                         log=f"info:{log}"))
    assert r.returncode == 0, r.stderr
    assert b"ct=text/event-stream; charset=utf-8" in r.stderr
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body.read_bytes()))
    assert "libcurl gnutls flavour (CURL_GNUTLS_3): /lib/x86_64-linux-gnu/libcurl-gnutls.so.4 via the loaded objects" in log.read_text()


def test_deepbind_companion_exports_only_dlopen():
    comp = BUILD_DIR / "libstreamshim-deepbind.so"
    out = subprocess.run(["nm", "-D", "--defined-only", str(comp)], capture_output=True,
                         text=True, check=True).stdout
    assert [line.split()[-1] for line in out.splitlines()] == ["dlopen"]


def test_two_flavours_in_one_process(server):
    """The program on libcurl.so.4, a plugin (loaded RTLD_LOCAL) on
    libcurl-gnutls.so.4: each reaches its own libcurl, both de-stream."""
    body = chat_body("o3-mini")
    r = run([BUILD_DIR / "clients" / "two_flavours", BUILD_DIR / "clients" / "libflavour_user.so",
             server.openai_url(), body.decode()], env=shim_env(models="o3-mini"))
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert "plugin: libcurl/7.88.1 GnuTLS" in err and "main: libcurl/7.88.1 OpenSSL" in err
    assert err.count("ct=text/event-stream; charset=utf-8") == 2
    streams = r.stdout.split(b"data: [DONE]\n\n")
    assert len(streams) == 3 and streams[2] == b""
    for s in streams[:2]:
        check_chat_stream(s + b"data: [DONE]\n\n", plain_answer(server.openai_url(), body))


@pytest.mark.parametrize("mode", ["configured", "auto"])
def test_pycurl_multi(server, tmp_path, mode):
    """pycurl's CurlMulti loop (perform, select, info_read after the loop);
    in auto mode the o3-mini streams are refused and retried in between."""
    files = []
    for i, (model, stream) in enumerate([("o3-mini", True), ("gpt-4o", False), ("o3-mini", True)]):
        f = tmp_path / f"b{i}.json"
        f.write_bytes(chat_body(model, f"pycurl {i}", stream=stream))
        files.append(f)
    r = run([PYTHON, "-c", PYCURL_MULTI, server.openai_url(), *files],
            env=shim_env(models="o3-mini" if mode == "configured" else None))
    assert r.returncode == 0, r.stderr
    outs = r.stdout.split(b"\n----\n")[:3]
    for f, out in zip(files, outs):
        ct, _, out = out.partition(b"\n")
        if b'"stream":true' in f.read_bytes():
            assert ct == b"text/event-stream; charset=utf-8"
            check_chat_stream(out, plain_answer(server.openai_url(), f.read_bytes()))
        else:
            assert ct == b"application/json"
            assert json.loads(out)["object"] == "chat.completion"


CTYPES = r"""
import ctypes
c = ctypes.CDLL('libcurl.so.4')
c.curl_easy_init.restype = ctypes.c_void_p
c.curl_easy_cleanup.argtypes = [ctypes.c_void_p]
c.curl_easy_cleanup(c.curl_easy_init())
"""


def test_ffi_users_are_diagnosed_when_logging():
    """ctypes looks libcurl's functions up by handle: a preload cannot see
    those calls. Asked to log, the shim says so at exit; otherwise it is
    silent."""
    r = run([PYTHON, "-c", CTYPES], env=shim_env(models="o3-mini", log="warn"))
    assert b"libcurl.so.4 was loaded but no libcurl call reached the shim" in r.stderr
    r = run([PYTHON, "-c", CTYPES], env=shim_env(models="o3-mini"))
    assert r.stderr == b""
    r = run(["/bin/true"], env=shim_env(models="o3-mini", log="debug"))
    assert b"libcurl" not in r.stderr


def test_renamed_soname_is_found(server, tmp_path):
    """pip wheels bundle libcurl under a renamed soname, loaded privately:
    the shim finds it among the loaded objects, whatever its name."""
    src = "/usr/lib/x86_64-linux-gnu/libcurl-gnutls.so.4"
    renamed = tmp_path / "libcurl-3a1b2c4d.so.4.8.0"
    renamed.write_bytes(open(src, "rb").read())
    subprocess.run(["patchelf", "--set-soname", renamed.name, str(renamed)], check=True)
    plugin = tmp_path / "libplugin.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-fvisibility=hidden", "-o", str(plugin),
                    str(ROOT / "tests/clients/lib/flavour_user.c"),
                    f"-L{tmp_path}", f"-l:{renamed.name}", f"-Wl,-rpath,{tmp_path}"],
                   check=True)
    body = chat_body("o3-mini")
    log = tmp_path / "log"
    r = run([BUILD_DIR / "clients" / "two_flavours", plugin, server.openai_url(), body.decode()],
            env=shim_env(models="o3-mini", log=f"info:{log}"))
    assert r.returncode == 0, r.stderr
    assert r.stderr.decode().count("ct=text/event-stream; charset=utf-8") == 2
    assert f"{renamed} via the loaded objects" in log.read_text()


def test_no_work_at_exit_without_libcurl(tmp_path):
    """A process with no libcurl in it does nothing at exit, even with
    logging asked for (a wrapped script loads the shim into every child):
    no settings loaded (a FIFO config would hang), no log file opened, not
    a line written."""
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    log = tmp_path / "log"
    for spec in (f"debug:{log}", "debug"):
        env = shim_env(log=spec, config=fifo)
        for cmd in (["/bin/true"], ["/bin/sh", "-c", "true; /bin/true"], [PYTHON, "-c", "pass"]):
            r = run(cmd, env=env, timeout=15)
            assert (r.returncode, r.stdout, r.stderr) == (0, b"", b""), cmd
    assert not log.exists()


def test_static_libcurl_is_diagnosed(tmp_path):
    """No libcurl object, but its version string among the executable's
    own bytes: a statically linked libcurl, which no preload can reach."""
    src = tmp_path / "static.c"
    src.write_text('#include <stdio.h>\n'
                   'const char version[] = "libcurl/7.88.1 OpenSSL/3.0.15";\n'
                   'int main(void) { return puts(version) < 0; }\n')
    exe = tmp_path / "static"
    subprocess.run(["cc", "-O2", "-o", str(exe), str(src)], check=True)
    r = run([exe], env=shim_env(log="warn"), timeout=15)
    assert r.returncode == 0
    assert b"a statically linked libcurl cannot be interposed" in r.stderr
    r = run([exe], env=shim_env(), timeout=15)
    assert r.stderr == b""
    # a log asked for only by the config file: the image is not read
    conf = tmp_path / "conf"
    conf.write_text("log = warn\n")
    r = run([exe], env=shim_env(config=conf), timeout=15)
    assert r.returncode == 0 and r.stderr == b""


CLEARED = r"""
import ctypes, os, sys
os.environ.clear()  # as PHP does at shutdown, and PHP-FPM in its workers
ctypes.CDLL('libcurl.so.4')
"""


def test_diagnosis_survives_an_emptied_environment():
    """The settings come from the environment the process started with
    when the host has emptied it since."""
    r = run([PYTHON, "-c", CLEARED], env=shim_env(log="warn"), timeout=15)
    assert r.returncode == 0
    assert b"libcurl.so.4 was loaded but no libcurl call reached the shim" in r.stderr


PYCURL_CLEARED = r"""
import os, sys, pycurl
url, body = sys.argv[1], open(sys.argv[2], 'rb').read()
os.environ.clear()
c = pycurl.Curl()
c.setopt(pycurl.URL, url)
c.setopt(pycurl.POSTFIELDS, body)
c.setopt(pycurl.HTTPHEADER, ['Content-Type: application/json'])
c.setopt(pycurl.WRITEFUNCTION, sys.stdout.buffer.write)
c.perform()
"""


def test_settings_survive_an_emptied_environment(server, tmp_path):
    """PHP-FPM clears its workers' environment (clear_env) before their
    first libcurl call: STREAMSHIM_MODELS still applies (one request, de-
    streamed, instead of auto mode's streaming attempt and retry)."""
    body = tmp_path / "body.json"
    body.write_bytes(chat_body("o3-mini"))
    server.clear()
    r = run([PYTHON, "-c", PYCURL_CLEARED, server.openai_url(), body],
            env=shim_env(models="o3-mini"), timeout=30)
    assert r.returncode == 0, r.stderr
    assert len(server.requests()) == 1
    check_chat_stream(r.stdout, plain_answer(server.openai_url(), body.read_bytes()))


@pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed")
def test_nothing_opened_at_exit_without_libcurl(tmp_path):
    """The same, seen by strace: the shim opens neither the executable
    (the static check reads the bytes already mapped), nor the config, nor
    the log."""
    conf = tmp_path / "streamshim.conf"
    conf.write_text("mode = auto\n")
    log = tmp_path / "log"
    trace = tmp_path / "trace"
    r = run(["strace", "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", trace,
             "/bin/sh", "-c", "/bin/true"],
            env=shim_env(log=f"debug:{log}", config=conf), timeout=30)
    assert r.returncode == 0, r.stderr
    opened = trace.read_text()
    assert "libstreamshim.so" in opened  # the trace saw the shim loaded
    for name in ("/proc/self/exe", str(conf), str(log)):
        assert name not in opened, name
