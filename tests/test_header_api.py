"""curl_easy_header, curl_easy_nextheader and curl_easy_getinfo after a
replayed answer answer from the record of what the program was handed
(shim/view.c): the delivered block's fields in order, numbered as libcurl
numbers them among the 1xx blocks and trailers it still reports itself;
no length or encoding the replay does not have; the bytes the program
got. tests/clients/header_api.c prints what the program saw and what
those calls say."""

import re

import pytest

from conftest import BUILD_DIR, chat_body, plain_env, run, shim_env

HEADER_API = BUILD_DIR / "clients" / "header_api"
NEXT_RE = re.compile(r"^next (\w+) (\w+): ([^:]+): (.*) \(amount (\d+) index (\d+)\)$")

pytestmark = pytest.mark.needs_lib


def header_api(server, tmp_path, env, model, *headers):
    assert HEADER_API.is_file(), f"{HEADER_API} is missing: `make clients`"
    body = tmp_path / "body.json"
    body.write_bytes(chat_body(model))
    r = run([HEADER_API, server.openai_url(), body, "Content-Type: application/json",
             *headers], env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().splitlines()


def delivered_blocks(lines):
    """The header blocks the header callback got: [(status, [(name, value)])]
    and the trailer fields after the last block."""
    blocks, trailers, in_block = [], [], False
    for line in lines:
        if not line.startswith("delivered: "):
            continue
        text = line[len("delivered: "):]
        if text.startswith("HTTP/"):
            blocks.append((int(text.split()[1]), []))
            in_block = True
        elif not text:
            in_block = False
        else:
            name, value = text.split(":", 1)
            (blocks[-1][1] if in_block else trailers).append((name, value.strip()))
    return blocks, trailers


def walk(lines, tag):
    return [NEXT_RE.match(x).groups()[1:] for x in lines if x.startswith(f"next {tag} ")]


def numbered(fields):
    """(name, value, amount, index) as libcurl numbers a list of fields."""
    out = []
    for i, (name, value) in enumerate(fields):
        same = [n for n, _ in fields if n.lower() == name.lower()]
        before = [n for n, _ in fields[:i] if n.lower() == name.lower()]
        out.append((name, value, str(len(same)), str(len(before))))
    return out


def info(lines):
    line = next(x for x in lines if x.startswith("info: "))
    return dict(kv.split("=", 1) for kv in re.findall(r"\w+=(?:text/event-stream; charset=utf-8|\S+)", line))


def got(lines, tag, name, index):
    want = f"get {tag} {name}[{index}]"
    return next(x for x in lines if x.startswith(want + " ") or x.startswith(want + ":"))[len(want):]


KNOBS = ["Expect: 100-continue", "X-Test-Info-Header: X-Dup: info",
         "X-Test-Header: X-Dup: one", "X-Test-Header: X-Dup: two"]


@pytest.mark.parametrize("form", ["chunked-trailers", "gzip-length"])
def test_replayed_answer_headers_come_from_the_delivered_block(server, tmp_path, form):
    extra = ["X-Test-Chunked: 1", "X-Test-Trailer: X-Dup: trail", "X-Test-Gzip: 0"] \
        if form == "chunked-trailers" else ["X-Test-Gzip: 1", "Accept-Encoding: gzip"]
    lines = header_api(server, tmp_path, shim_env(models="o3-mini"), "o3-mini",
                       *KNOBS, *extra)
    blocks, trailers = delivered_blocks(lines)
    assert [s for s, _ in blocks] == [100, 200]
    info_fields, final = blocks[0][1], blocks[1][1]
    assert ("X-Dup", "info") in info_fields
    names = [n.lower() for n, _ in final]
    assert "content-length" not in names and "content-encoding" not in names
    # the final block, as delivered, numbered within itself
    assert [(o, *rest) for o, *rest in walk(lines, "final")] == \
        [("header", *f) for f in numbered(final)]
    # 1xx, the block, trailers: in order, numbered over all three
    want = [("1xx", n, v) for n, v in info_fields] + [("header", n, v) for n, v in final] + \
        [("trailer", n, v) for n, v in trailers]
    nums = numbered([(n, v) for _, n, v in want])
    assert walk(lines, "all") == [(o, n, v, a, i) for (o, _, _), (n, v, a, i) in zip(want, nums)]
    assert got(lines, "final", "Content-Length", 0) == ": code 2"  # CURLHE_MISSING
    assert got(lines, "final", "Content-Encoding", 0) == ": code 2"
    assert got(lines, "final", "Content-Type", 1) == ": code 1"  # CURLHE_BADINDEX
    assert got(lines, "final", "Content-Type", 0) == \
        " header: text/event-stream; charset=utf-8 (amount 1)"
    assert got(lines, "final", "X-Dup", 1) == " header: two (amount 2)"
    assert got(lines, "mixed", "X-Dup", 0) == " 1xx: info (amount 3)"
    assert got(lines, "mixed", "X-Dup", 1) == " header: one (amount 3)"
    i = info(lines)
    body = int(next(x for x in lines if x.startswith("body: ")).split()[1])
    assert i["content_type"] == "text/event-stream; charset=utf-8"
    assert i["length"] == "-1" and int(i["size"]) == body > 0
    delivered = sum(len(x) - len("delivered: ") + 2 for x in lines if x.startswith("delivered: "))
    assert int(i["header_size"]) == delivered


def test_native_stream_is_libcurls_answer(server, tmp_path):
    """A stream the shim only watches: every answer is libcurl's own."""
    knobs = KNOBS + ["X-Test-Gzip: 0"]
    under = header_api(server, tmp_path, shim_env(), "gpt-4o", *knobs)
    plain = header_api(server, tmp_path, plain_env(), "gpt-4o", *knobs)
    vary = re.compile(r"req_\d+_[0-9a-f]+|\w{3}, \d\d \w{3} \d{4} [\d:]+ GMT")
    assert [vary.sub("", x) for x in under] == [vary.sub("", x) for x in plain]
