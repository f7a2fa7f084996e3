"""The header-read timeout, against a real recipe-api process with HEADER_TIMEOUT_SECONDS=1 (the services' 30 s is
too long to wait for in a test): it closes idle keep-alive connections, connections that send nothing but CRLFs,
and heads trickled byte by byte alike, because bytes that do not complete a head do not extend it. A client that
reads none of its answers is disconnected after as long."""

from __future__ import annotations

import json
import select
import socket
import time
from typing import Iterator

import pytest

from tests.apps.raw_http import connect, is_closed, read_response
from tests.support.processes import ProcessGroup, ServiceProcess
from tests.support.wait import wait_until

HEADER_TIMEOUT = 1.0
# How long a test waits for the server to act once the timeout has passed: the server sweeps once a second, and a
# loaded CI machine may add more. A generous bound on how long to wait, not a measure of speed.
GIVE_UP_AFTER = HEADER_TIMEOUT + 10


@pytest.fixture(scope="module")
def service(module_processes: ProcessGroup) -> Iterator[ServiceProcess]:
    yield module_processes.start("recipe-api", {"HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT)})


def closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    return is_closed(sock)


def keep_sending_until_answered(sock: socket.socket, piece: bytes) -> float:
    """Send `piece` every 0.1 s (each well within the timeout) until the server answers or closes; return how long
    that took."""
    started = time.monotonic()
    while not select.select([sock], [], [], 0.1)[0]:
        assert time.monotonic() - started < GIVE_UP_AFTER, f"still open after {GIVE_UP_AFTER}s of {piece!r}"
        try:
            sock.sendall(piece)
        except OSError:
            break
    return time.monotonic() - started


def test_an_idle_keep_alive_connection_is_closed(service: ServiceProcess) -> None:
    with connect(service) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(sock, bytearray())[0] == 200

        assert closed_within(sock, GIVE_UP_AFTER)


def test_a_connection_that_never_sends_anything_is_closed(service: ServiceProcess) -> None:
    with connect(service) as sock:
        assert closed_within(sock, GIVE_UP_AFTER)


def test_a_connection_sending_only_crlfs_is_closed(service: ServiceProcess) -> None:
    """The parser skips CRLFs before a request: no request ever begins, but every CRLF is activity."""
    with connect(service) as sock:
        elapsed = keep_sending_until_answered(sock, b"\r\n")

        assert is_closed(sock)
        assert elapsed >= HEADER_TIMEOUT


def test_a_head_trickled_byte_by_byte_gets_a_408(service: ServiceProcess) -> None:
    """Slowloris: each byte comes well before any idle timeout could fire."""
    with connect(service) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        elapsed = keep_sending_until_answered(sock, b"a")
        status, headers, body = read_response(sock, bytearray())

        assert (status, json.loads(body), headers["connection"]) == (408, {"error": "request_timeout"}, "close")
        assert elapsed >= HEADER_TIMEOUT
        assert is_closed(sock)


def test_a_half_sent_head_gets_a_408(service: ServiceProcess) -> None:
    with connect(service) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow")
        sock.settimeout(GIVE_UP_AFTER)
        status, _, body = read_response(sock, bytearray())

        assert (status, json.loads(body)) == (408, {"error": "request_timeout"})
        assert is_closed(sock)


def test_the_timeout_restarts_with_each_request_on_a_keep_alive_connection(service: ServiceProcess) -> None:
    with connect(service) as sock:
        buffered = bytearray()
        for _ in range(4):
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_response(sock, buffered)[0] == 200
            time.sleep(HEADER_TIMEOUT / 3)


def test_a_client_that_never_reads_its_answers_is_disconnected(service: ServiceProcess) -> None:
    """Pipelined requests, none of the answers read: the connection is aborted rather than closed gracefully, which
    would wait forever for the unread answers to drain."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(5)
        sock.connect(("127.0.0.1", service.port))
        requests = b"GET /recipes/42 HTTP/1.1\r\nHost: t\r\n\r\n" * 2000
        try:
            sock.sendall(requests)
        except OSError:
            pass  # the server may already have stopped reading, or closed

        def disconnected() -> bool:
            try:
                sock.send(b"\r\n")
                return False
            except OSError:
                return True

        wait_until(disconnected, timeout=GIVE_UP_AFTER + 5,
                   what="the server to drop the connection it cannot answer on")
