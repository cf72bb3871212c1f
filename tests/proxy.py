"""A tiny HTTP CONNECT proxy on loopback for the tests (stdlib only).

    start_proxy() -> (port, stop)

It answers CONNECT host:port with "200 Connection established" and relays
bytes both ways; anything else gets 405. Only loopback targets are allowed."""

import select
import socket
import threading


def _relay(a, b):
    socks = [a, b]
    try:
        while True:
            ready, _, _ = select.select(socks, [], [], 30)
            if not ready:
                return
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        a.close()
        b.close()


def _serve(client, connect_fields=b""):
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = client.recv(4096)
        if not chunk:
            client.close()
            return
        head += chunk
    line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
    if len(line) < 2 or line[0] != "CONNECT":
        client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
        client.close()
        return
    host, _, port = line[1].rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        client.close()
        return
    upstream = socket.create_connection((host, int(port)))
    client.sendall(b"HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n" +
                   connect_fields + b"\r\n")
    _relay(client, upstream)


def start_proxy(connect_fields=b""):
    """connect_fields: header lines (each ending in CRLF) added to the
    CONNECT answer."""
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    stopping = threading.Event()

    def accept_loop():
        while not stopping.is_set():
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            threading.Thread(target=_serve, args=(c, connect_fields),
                             daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()

    def stop():
        stopping.set()
        lsock.close()
    return lsock.getsockname()[1], stop
