"""Real loopback HTTP servers that misbehave on purpose, standing in for a recipe-api that is broken in a way the
real one cannot be made to be (answering 500, garbage, non-JSON, slowly, or dropping pooled connections)."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from typing import Callable

VALID_BODY = (b'{"producer_pid":1,"producer_version":"fake","recipe":{"id":42,"name":"Chicken Tikka Masala",'
              b'"steps":"Throw it in a pot...","ingredients":[]}}')


def json_body() -> object:
    import json

    return json.loads(VALID_BODY)


def http_response(status: int, body: bytes, content_type: str = "application/json") -> bytes:
    return (f"HTTP/1.1 {status} Whatever\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
            .encode() + body)


class Connection:
    """What a behaviour sees: the request count on this connection, and the socket to answer on."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.requests = 0


# A behaviour answers one request; it returns False to close the connection without answering further.
Behaviour = Callable[[Connection], bool]


def answering(status: int, body: bytes, content_type: str = "application/json") -> Behaviour:
    def behave(connection: Connection) -> bool:
        connection.sock.sendall(http_response(status, body, content_type))
        return True
    return behave


def garbage(connection: Connection) -> bool:
    connection.sock.sendall(b"SURPRISE this is not HTTP at all\r\n\r\n")
    return False


def slow(seconds: float) -> Behaviour:
    def behave(connection: Connection) -> bool:
        time.sleep(seconds)
        connection.sock.sendall(http_response(200, VALID_BODY))
        return True
    return behave


class FakeUpstream:
    """A threaded loopback server running `behaviour` for every request it reads. Use as a context manager."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests = 0
        self.connections = 0
        self._lock = threading.Lock()
        upstream = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                upstream._serve(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> "FakeUpstream":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(10)
        connection = Connection(sock)
        with self._lock:
            self.connections += 1
        buffered = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffered:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    buffered += chunk
                _, buffered = buffered.split(b"\r\n\r\n", 1)  # GETs have no body
                connection.requests += 1
                with self._lock:
                    self.requests += 1
                if not self.behaviour(connection):
                    return
        except OSError:
            return


class DropsReusedConnections:
    """Answers the first request on each connection (after `first_answer_delay` seconds), then closes the connection
    on the second one without an answer: what a recipe-api pod going away does to web-api's pooled keep-alive
    connections."""

    def __init__(self, first_answer_delay: float = 0.0) -> None:
        self.dropped = 0
        self.first_answer_delay = first_answer_delay
        self._lock = threading.Lock()

    def __call__(self, connection: Connection) -> bool:
        if connection.requests == 1:
            time.sleep(self.first_answer_delay)
            connection.sock.sendall(http_response(200, VALID_BODY))
            return True
        with self._lock:
            self.dropped += 1
        return False


def endless_header(connection: Connection) -> bool:
    """A status line, then one header line that never ends (until the client hangs up)."""
    connection.sock.sendall(b"HTTP/1.1 200 OK\r\nX-Endless: ")
    for _ in range(1024):  # 64 MiB at most
        connection.sock.sendall(b"a" * 65536)
    return False


def answering_twice(connection: Connection) -> bool:
    """Two answers to one request, in one write: the second must not be taken for the next request's answer."""
    connection.sock.sendall(http_response(200, VALID_BODY) * 2)
    return True


def numbered_after_early_hints(connection: Connection) -> bool:
    """A 103 Early Hints, then the real answer, whose body names the request it answers (1, 2, ... per connection):
    an interim answer taken for the final one would hand the real one to the next request."""
    body = b'{"answer_to_request":%d}' % connection.requests
    connection.sock.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                            + http_response(200, body))
    return True


def continue_then_answer(connection: Connection) -> bool:
    """A 100 Continue nobody asked for, then the answer."""
    connection.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n" + http_response(200, VALID_BODY))
    return True


CHUNKED_200 = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"


def one_byte_chunks(total: int) -> Behaviour:
    """A 200 whose JSON body of `total` bytes comes in 1-byte chunks."""
    body = b'{"pad":"' + b"x" * (total - 10) + b'"}'
    framed = b"".join(b"1\r\n%c\r\n" % byte for byte in body) + b"0\r\n\r\n"

    def behave(connection: Connection) -> bool:
        connection.sock.sendall(CHUNKED_200)
        for start in range(0, len(framed), 65536):
            connection.sock.sendall(framed[start:start + 65536])
        return True
    return behave


def endless_trailer(connection: Connection) -> bool:
    """A chunked 200 whose trailer section never ends (until the client hangs up)."""
    connection.sock.sendall(CHUNKED_200 + b"%x\r\n%s\r\n0\r\nX-Endless: " % (len(VALID_BODY), VALID_BODY))
    for _ in range(4096):  # 256 MiB at most
        connection.sock.sendall(b"a" * 65536)
    return False


def switching_protocols(connection: Connection) -> bool:
    connection.sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                            + b"\x81\x05hello")
    return True
