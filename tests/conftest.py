"""Shared fixtures and helpers for the streamshim test suite.

Helpers (plain functions; `from conftest import ...` in a test module):
  ROOT, BUILD_DIR, LIB, PYTHON, CURL      paths (LIB = <root>/$SS_BUILD/libstreamshim.so)
  plain_env(**extra)                      os.environ copy without LD_PRELOAD/STREAMSHIM_*/proxies
  shim_env(models=..., mode=..., log=..., config=..., capture=..., **extra_env)
                                          plain_env + LD_PRELOAD=[$SS_PRELOAD_FIRST ]<LIB>
                                          + STREAMSHIM_<KEY>=value (None removes it)
  require_lib()                           fails clearly (or skips with SS_MISSING_LIB=skip)
  run(cmd, env=None, input=None, timeout=60, cwd=None) -> CompletedProcess (bytes)
  chat_body(model, prompt="Say hello", stream=True, **members) -> bytes (compact JSON)
  start_server(*args) -> ServerProcess    an extra server, e.g. start_server("--refuse", "gpt*")
  JUDGE_DIR, NODE                         the SDK judges (tests/judge) and node

Fixtures:
  root       the repository root (Path)
  lib        the library path; fails clearly when it was not built
  server     session-wide ServerProcess: .url .port .host .log_path,
             .openai_url(path="/v1/chat/completions"), .azure_url(deployment, api_version),
             .requests() -> [Request] (dict: method, path, headers [[n, v]...], body bytes,
             body_len, http_version, client_port, request_id; .header(name), .json()),
             .clear(), .stderr_text()
  judge      session-wide: judge(kind, stream_bytes, **args) -> what the official SDK
             rebuilds from an SSE transcript (tests/judge/<kind>.mjs: chat,
             completions, responses, messages), one Node process for the session
Marker:
  @pytest.mark.needs_lib  the test needs LIB; a clear error if it is missing.
"""

import base64
import json
import os
import selectors
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / os.environ.get("SS_BUILD", "build")
LIB = BUILD_DIR / "libstreamshim.so"
PYTHON = "/usr/bin/python3"
CURL = shutil.which("curl", path="/usr/bin:/bin") or "curl"
SERVER_PY = ROOT / "tests" / "server.py"
JUDGE_DIR = ROOT / "tests" / "judge"
NODE = shutil.which("node") or "node"

_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy",
               "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "FTP_PROXY")

if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

# The library refuses a configuration file that group or others may write
# (as ssh refuses its config): the files the suite writes get the modes a
# umask of 022 gives, whatever the machine's (002 would make every
# fixture config refused). A test that wants another mode sets it.
os.umask(os.umask(0o022) | 0o022)


# ---------------------------------------------------------------------------
# Environments and processes

def plain_env(**extra):
    """A copy of os.environ for running a program without the shim: no
    LD_PRELOAD, no STREAMSHIM_* settings, no user config file, no proxies
    (loopback only).
    Keyword arguments add or (with None) remove variables."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("STREAMSHIM_") and k not in _PROXY_VARS}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    # The user's streamshim config (~/.config/streamshim/config) is not
    # the tests': the library looks under this directory, which is none.
    env["XDG_CONFIG_HOME"] = str(ROOT / "tests" / "no-user-config")
    # nor the machine's (/etc/streamshim/config): no file unless a test
    # names one (the search-order tests remove this with config=None)
    env["STREAMSHIM_CONFIG"] = ""
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def missing_lib_message():
    return (f"{LIB} is missing: build the library first (`make`; `make check-asan` builds "
            f"build-asan). SS_BUILD={os.environ.get('SS_BUILD', 'build')}")


def require_lib():
    """Fail the current test with a clear message when the library is not
    built (skip instead when SS_MISSING_LIB=skip). Returns LIB."""
    if not LIB.is_file():
        if os.environ.get("SS_MISSING_LIB") == "skip":
            pytest.skip(missing_lib_message())
        pytest.fail(missing_lib_message(), pytrace=False)
    return LIB


def preload_value():
    """LD_PRELOAD for the shim: $SS_PRELOAD_FIRST (the sanitizer runtime under
    `make check-asan`) then the library, space-separated."""
    first = os.environ.get("SS_PRELOAD_FIRST", "").strip()
    return (first + " " if first else "") + str(LIB)


def shim_env(env=None, **settings):
    """An environment that runs a program under the shim. Keyword arguments
    in lower case become STREAMSHIM_<UPPER> (models, mode, log, config,
    capture, cache, ...); arguments already in upper case are set as they
    are; None removes the variable. `env` is the base (default plain_env()).
    STREAMSHIM_CACHE defaults to "off" (learned refusals in memory only)."""
    require_lib()
    env = dict(plain_env() if env is None else env)
    env["LD_PRELOAD"] = preload_value()
    # Learned refusals stay in memory unless a test names a cache: runs
    # never share what they learned, nor touch the user's cache.
    env.setdefault("STREAMSHIM_CACHE", "off")
    for k, v in settings.items():
        name = k if k.isupper() else "STREAMSHIM_" + k.upper()
        if v is None:
            env.pop(name, None)
        else:
            env[name] = str(v)
    return env


def wrapper_env(**settings):
    """An environment for the wrapper (scripts/streamshim): shim_env's
    settings, this build's library (and the helpers next to it) as
    STREAMSHIM_LIBRARY, and no preload of the shim itself: the wrapper
    adds it (a sanitizer runtime stays first in LD_PRELOAD)."""
    env = shim_env(**settings)
    first = env.pop("LD_PRELOAD").split()[:-1]
    if first:
        env["LD_PRELOAD"] = " ".join(first)
    env.setdefault("STREAMSHIM_LIBRARY", str(BUILD_DIR / "libstreamshim.so"))
    return env


def run(cmd, env=None, input=None, timeout=60, cwd=None):
    """Run cmd (a list) and return a CompletedProcess with bytes stdout and
    stderr; never raises on a non-zero exit. env defaults to plain_env()."""
    if isinstance(input, str):
        input = input.encode("utf-8")
    return subprocess.run([c if isinstance(c, (str, bytes)) else str(c) for c in cmd], env=plain_env() if env is None else env,
                          input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, cwd=cwd, check=False)


def chat_body(model, prompt="Say hello", stream=True, **members):
    """A compact JSON chat request body. stream=None leaves the member out."""
    body = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    if stream is not None:
        body["stream"] = stream
    body.update(members)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------------------
# The test server

class Request(dict):
    """One logged request (see tests/server.py --log); body is bytes."""

    def header(self, name, default=None):
        """The first value of header `name` (case-insensitive)."""
        for k, v in self["headers"]:
            if k.lower() == name.lower():
                return v
        return default

    def header_values(self, name):
        return [v for k, v in self["headers"] if k.lower() == name.lower()]

    def json(self):
        return json.loads(self["body"].decode("utf-8"))


class ServerProcess:
    """tests/server.py running on a free loopback port (never under the shim)."""

    def __init__(self, log_path, args=(), start_timeout=15):
        self.log_path = Path(log_path)
        self.log_path.touch()
        self.host = "127.0.0.1"
        self._err_path = self.log_path.with_suffix(".stderr")
        self._err = open(self._err_path, "wb")
        self.proc = subprocess.Popen(
            [PYTHON, str(SERVER_PY), "--host", self.host, "--port", "0",
             "--log", str(self.log_path), *args],
            cwd=str(ROOT), env=plain_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=self._err)
        self.port = self._read_port(start_timeout)
        self.url = f"http://{self.host}:{self.port}"

    def _read_port(self, timeout):
        fd = self.proc.stdout.fileno()
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        buf = b""
        deadline = time.monotonic() + timeout
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    break
                piece = os.read(fd, 256)
                if not piece:
                    break
                buf += piece
        finally:
            sel.close()
        line = buf.split(b"\n", 1)[0].decode("ascii", "replace")
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"test server did not start (got {line!r}): {self.stderr_text()}")
        return int(line.split()[1])

    def openai_url(self, path="/v1/chat/completions"):
        return self.url + path

    def azure_url(self, deployment="o3-mini", api_version="2024-12-01-preview"):
        return (f"{self.url}/openai/deployments/{deployment}/chat/completions"
                f"?api-version={api_version}")

    def requests(self):
        """The requests received since the last clear(), in arrival order."""
        out = []
        with open(self.log_path, "rb") as f:
            for line in f:
                if not line.strip():
                    continue
                rec = Request(json.loads(line))
                rec["body"] = base64.b64decode(rec.pop("body_b64"))
                out.append(rec)
        return out

    def sent(self):
        """What the server answered since the last clear(): {request id:
        (status, body before content coding)}."""
        out = {}
        try:
            with open(str(self.log_path) + ".sent", "rb") as f:
                for line in f:
                    if line.strip():
                        rec = json.loads(line)
                        out[rec["request_id"]] = (rec["status"],
                                                  base64.b64decode(rec["body_b64"]))
        except FileNotFoundError:
            pass
        return out

    def clear(self):
        with open(self.log_path, "wb"):
            pass
        with open(str(self.log_path) + ".sent", "wb"):
            pass

    def stderr_text(self):
        try:
            return self._err_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self._err.close()


_extra_servers = []


def start_server(*args, log_path=None):
    """Start another server (stopped at the end of the session)."""
    if log_path is None:
        import tempfile
        fd, log_path = tempfile.mkstemp(prefix="ss-server-", suffix=".log")
        os.close(fd)
    srv = ServerProcess(log_path, args)
    _extra_servers.append(srv)
    return srv


class JudgeProcess:
    """tests/judge/serve.mjs: the official SDKs' stream accumulators in one
    long-running Node process (start-up is paid once per session)."""

    def __init__(self, tmp_dir):
        self.tmp_dir = Path(tmp_dir)
        self.count = 0
        self.proc = subprocess.Popen([NODE, str(JUDGE_DIR / "serve.mjs")], cwd=str(JUDGE_DIR),
                                     env=plain_env(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def __call__(self, kind, stream, **args):
        """What the SDK judge `kind` rebuilds from the SSE bytes `stream`;
        fails the test with the SDK's error when it throws."""
        self.count += 1
        f = self.tmp_dir / f"stream-{self.count}.sse"
        f.write_bytes(stream)
        line = json.dumps({"kind": kind, "file": str(f), "args": args}) + "\n"
        self.proc.stdin.write(line.encode())
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("the judge process died: " +
                               self.proc.stderr.read().decode(errors="replace")[-2000:])
        reply = json.loads(answer)
        if "error" in reply:
            pytest.fail(f"the {kind} judge (official SDK) refused the stream:\n"
                        f"{reply['error']}", pytrace=False)
        f.unlink()
        return reply["ok"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------
# pytest glue

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "needs_lib: the test runs programs under build/libstreamshim.so")


def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_lib") is not None:
        require_lib()


def pytest_sessionfinish(session, exitstatus):
    while _extra_servers:
        _extra_servers.pop().stop()


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def lib():
    return require_lib()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("server") / "requests.log")
    try:
        yield srv
    finally:
        srv.stop()
        err = srv.stderr_text()
        if "Traceback" in err or "server: error" in err:
            sys.stderr.write("test server stderr:\n" + err)


@pytest.fixture(scope="session")
def judge(tmp_path_factory):
    j = JudgeProcess(tmp_path_factory.mktemp("judge"))
    try:
        yield j
    finally:
        j.stop()
