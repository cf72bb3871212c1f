"""mitmdump (Debian's mitmproxy) as a reverse proxy in front of the
benchmark's nginx, running tests/bench/mitm_destream.py: the proxy
alternative the shim is compared with.

    with mitm.Proxy(bench, "http://127.0.0.1:PORT") as p:   # or https://
        p.url                                              # http(s)://127.0.0.1:N

The proxy speaks TLS to the client when the upstream is https (its own
CA, made in the session's directory: clients pass -k) and checks no
upstream certificate (--ssl-insecure: the benchmark's is self-signed).
"""
import socket
import subprocess
import time
from pathlib import Path

import serve

MITMDUMP = "/usr/bin/mitmdump"
ADDON = Path(__file__).resolve().parent / "mitm_destream.py"


class Proxy:
    def __init__(self, bench, upstream):
        self.port = serve.free_port()
        scheme = "https" if upstream.startswith("https:") else "http"
        self.url = "%s://127.0.0.1:%d" % (scheme, self.port)
        conf = bench.tmp / "mitm"
        conf.mkdir(exist_ok=True)
        self.log = open(conf / "mitmdump.log", "ab")
        self.proc = subprocess.Popen(
            [MITMDUMP, "-q", "--mode", "reverse:" + upstream, "--listen-host", "127.0.0.1",
             "-p", str(self.port), "-s", str(ADDON), "--ssl-insecure",
             "--set", "confdir=" + str(conf), "--set", "keep_host_header=true"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            env={"PATH": "/usr/bin:/bin", "HOME": str(conf)}, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.close()
        raise RuntimeError("mitmdump did not start: " + (conf / "mitmdump.log").read_text())

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
