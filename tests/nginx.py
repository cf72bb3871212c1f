"""A TLS + HTTP/2 reverse proxy in front of tests/server.py: Debian's nginx
(/usr/sbin/nginx, `scripts/install-deps` installs it), run as a plain child
process, never as the system service.

    from nginx import tls_server            # the session fixture (below)
    srv = start_nginx(upstream_port, tmpdir) # or by hand; srv.stop() at the end

Everything nginx writes (pid, logs, temp dirs) and the self-signed
certificate (made with the `openssl` CLI at start, SAN IP:127.0.0.1 and
DNS:localhost) live in `tmpdir`. nginx listens on a free 127.0.0.1 port with
`ssl http2` (1.22 syntax: ALPN offers h2 and http/1.1) and proxies every
request to http://127.0.0.1:<upstream_port> over HTTP/1.1 with keep-alive,
without buffering the answer, request headers passed through (Host included).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import plain_env

NGINX = "/usr/sbin/nginx"
OPENSSL = shutil.which("openssl", path="/usr/bin:/bin") or "openssl"

CONF = """\
{user}worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    client_max_body_size 64m;

    upstream streamshim_test_server {{
        server 127.0.0.1:{upstream};
        keepalive 8;
    }}

    server {{
        listen 127.0.0.1:{port} ssl http2;
        server_name localhost 127.0.0.1;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;

        location / {{
            proxy_pass http://streamshim_test_server;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificate(directory):
    """A self-signed EC certificate for 127.0.0.1/localhost in directory
    (cert.pem, key.pem). Returns the certificate's path."""
    d = Path(directory)
    cert, key = d / "cert.pem", d / "key.pem"
    r = subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        env=plain_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, check=False)
    if r.returncode != 0:
        raise RuntimeError("openssl req failed: " + r.stderr.decode(errors="replace"))
    return cert


def _children(pid):
    """Pids whose parent is pid (nginx's workers)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold blanks and parentheses
        fields = stat[stat.rfind(b")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] != b"Z"


class NginxProcess:
    """One nginx master (foreground, `daemon off;`) and its workers."""

    def __init__(self, upstream_port, directory, start_timeout=15):
        if not os.access(NGINX, os.X_OK):
            raise RuntimeError(f"{NGINX} is missing: run scripts/install-deps")
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cacert = make_certificate(self.dir)
        self.upstream_port = upstream_port
        self.host = "127.0.0.1"
        self.proc = None
        self.workers = []
        last_error = ""
        for _ in range(5):  # the free port may be taken between probe and bind
            self.port = free_port()
            self._write_conf()
            self._start()
            last_error = self._wait_ready(start_timeout)
            if last_error is None:
                break
            self.stop()
        else:
            raise RuntimeError(f"nginx did not start: {last_error}")
        self.url = f"https://{self.host}:{self.port}"

    def _write_conf(self):
        # As root the workers would run as nobody, who cannot enter the 0700
        # pytest temp directories: keep them root then.
        user = "user root;\n" if os.geteuid() == 0 else ""
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(CONF.format(user=user, d=self.dir, port=self.port,
                                         upstream=self.upstream_port))

    def _start(self):
        self._err = open(self.dir / "nginx.stderr", "ab")
        # -e: the error log before the configuration is read (else the
        # compiled-in /var/log/nginx/error.log)
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.dir), "-c", str(self.conf), "-e", str(self.dir / "error.log"),
             "-g", "daemon off;"],
            cwd=str(self.dir), env=plain_env(), stdin=subprocess.DEVNULL, stdout=self._err,
            stderr=subprocess.STDOUT, start_new_session=True)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"exited with {self.proc.returncode}: {self.log_text()}"
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    pass
            except OSError:
                time.sleep(0.02)
                continue
            self.workers = _children(self.proc.pid)
            return None
        return "timed out: " + self.log_text()

    def log_text(self):
        parts = []
        for name in ("nginx.stderr", "error.log"):
            try:
                parts.append((self.dir / name).read_text(errors="replace"))
            except OSError:
                pass
        return "\n".join(parts)

    def stop(self):
        """Fast shutdown (SIGTERM), SIGKILL after 10 s; then make sure the
        workers are gone too."""
        if self.proc is None:
            return
        workers = set(self.workers) | (set(_children(self.proc.pid)) if self.proc.poll() is None else set())
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        deadline = time.monotonic() + 5
        for pid in workers:
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        self._err.close()
        self.proc = None

    def leftovers(self):
        """Pids of this instance still alive (after stop(): [])."""
        return [p for p in self.workers if _alive(p)]


def start_nginx(upstream_port, directory):
    return NginxProcess(upstream_port, directory)


@pytest.fixture(scope="session")
def tls_server(server, tmp_path_factory):
    """nginx with TLS (.url https://127.0.0.1:PORT, .cacert) and HTTP/2 in
    front of the session's `server`; stopped at the end of the session."""
    srv = start_nginx(server.port, tmp_path_factory.mktemp("nginx"))
    try:
        yield srv
    finally:
        srv.stop()
        if "[emerg]" in srv.log_text() or "[alert]" in srv.log_text():
            sys.stderr.write("nginx log:\n" + srv.log_text())
