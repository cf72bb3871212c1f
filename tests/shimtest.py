"""Helpers shared by the integration tests of the shim itself."""

import json
import re

from conftest import CURL, ROOT, BUILD_DIR, chat_body, plain_env, run, shim_env

CLIENT = BUILD_DIR / "clients" / "llmclient"


def drop_stream_members(body):
    """The request body the server must receive: the original without its
    top-level stream and stream_options members (checked by value; the
    byte-exact rule is asserted separately where the form is known)."""
    obj = json.loads(body)
    obj.pop("stream", None)
    obj.pop("stream_options", None)
    return obj


def plain_answer(url, body, headers=()):
    """The server's non-streamed answer to body (with stream members removed),
    fetched without the shim."""
    stripped = json.dumps(drop_stream_members(body)).encode()
    cmd = [CURL, "-s", url, "-H", "Content-Type: application/json",
           "--data-binary", "@-"]
    for h in headers:
        cmd += ["-H", h]
    r = run(cmd, env=plain_env(), input=stripped)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def curl(url, body, *extra, env=None, headers=(), timeout=60):
    """Run the curl CLI posting body (from stdin, as `-d @-` does)."""
    cmd = [CURL, "-sS", "-N", url, "-H", "Content-Type: application/json",
           "--data-binary", "@-", *extra]
    for h in headers:
        cmd += ["-H", h]
    return run(cmd, env=env, input=body, timeout=timeout)


def parse_frames(data):
    """Frames written by llmclient --calls: [(kind, bytes)]."""
    frames, i = [], 0
    while i < len(data):
        m = re.match(rb"([BHO]) (\d+)\n", data[i:])
        assert m, f"bad frame at {i}: {data[i:i+40]!r}"
        n = int(m.group(2))
        start = i + m.end()
        frames.append((m.group(1).decode(), data[start:start + n]))
        i = start + n + 1
    return frames


def body_calls(frames):
    return [b for k, b in frames if k == "B"]


def header_lines(frames):
    return [b for k, b in frames if k == "H"]


def curl_three(server, tmp_path, env, tag, size=5000):
    """Three transfers in one curl run (--next): a GET of /plain/size, an
    o3-mini stream (de-streamed, or refused and retried), a native gpt-4o
    stream. The three outputs."""
    url = server.openai_url()
    base = url.rsplit("/v1/", 1)[0]
    out = [tmp_path / f"{tag}{i}" for i in range(3)]
    cmd = [CURL, "-sS", f"{base}/plain/{size}", "-o", out[0], "--next",
           url, "-H", "Content-Type: application/json", "-d", chat_body("o3-mini").decode(),
           "-o", out[1], "--next",
           url, "-H", "Content-Type: application/json", "-d", chat_body("gpt-4o").decode(),
           "-o", out[2]]
    r = run(cmd, env=env)
    assert r.returncode == 0, r.stderr
    return [p.read_bytes() for p in out]


# A program that does one transfer (a POST of argv[3] when given, else a
# GET of argv[1]), closes every descriptor as a daemon does, opens 600
# files in argv[2] (their numbers are the ones just closed), does another
# transfer and prints how many bytes landed in those files.
FD_REUSE = r"""
import os, sys, pycurl, io
def transfer(url):
    c = pycurl.Curl()
    c.setopt(pycurl.URL, url)
    if len(sys.argv) > 3:
        c.setopt(pycurl.POSTFIELDS, sys.argv[3])
        c.setopt(pycurl.HTTPHEADER, ["Content-Type: application/json"])
    c.setopt(pycurl.WRITEDATA, io.BytesIO())
    c.perform()
    c.close()
transfer(sys.argv[1])
os.closerange(3, 1024)
files = [open(os.path.join(sys.argv[2], "f%d" % i), "wb") for i in range(600)]
transfer(sys.argv[1])
print(sum(os.path.getsize(f.name) for f in files))
"""


# pycurl's CurlMulti loop (perform, select, info_read after the loop) over
# the bodies in argv[2:] posted to argv[1]: per transfer, its content type,
# a newline, the body, then "\n----\n".
PYCURL_MULTI = r"""
import sys, pycurl
url, bodies = sys.argv[1], sys.argv[2:]
m = pycurl.CurlMulti()
outs = []
for b in bodies:
    c = pycurl.Curl()
    c.setopt(pycurl.URL, url)
    c.setopt(pycurl.POSTFIELDS, open(b, 'rb').read())
    c.setopt(pycurl.HTTPHEADER, ['Content-Type: application/json'])
    out = []
    c.setopt(pycurl.WRITEFUNCTION, out.append)
    m.add_handle(c)
    outs.append((c, out))
while True:
    ret, active = m.perform()
    if ret != pycurl.E_CALL_MULTI_PERFORM and not active:
        break
    if ret != pycurl.E_CALL_MULTI_PERFORM:
        m.select(1.0)
queued, ok, failed = m.info_read()
assert not failed, failed
for c, out in outs:
    sys.stdout.buffer.write(c.getinfo(pycurl.CONTENT_TYPE).encode() + b'\n' + b''.join(out)
                            + b'\n----\n')
    m.remove_handle(c)
"""
