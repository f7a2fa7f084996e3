"""Idle, half-sent, trickled and never-read connections are closed by the server (the shared httpserver module, run
in-process on loopback with short timeouts: the services' own 75 s and 10 s are too long to wait for in a test)."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import select
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator

import pytest

from tests.apps.raw_http import is_closed, read_response
from tests.support.processes import REPO
from tests.support.wait import wait_until

IDLE_TIMEOUT = 0.5
REQUEST_TIMEOUT = 1.5
BIG_BODY = b'{"pad":"' + b"x" * (1 << 20) + b'"}'


@dataclass(frozen=True)
class InProcessServer:
    port: int
    server: Any  # httpserver.HttpServer
    module: Any  # the httpserver module, whose timeouts a test may change: they are read at every sweep


@pytest.fixture
def running(monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessServer]:
    monkeypatch.syspath_prepend(str(REPO / "apps" / "recipe-api"))
    httpserver = importlib.import_module("recipe_api.httpserver")
    monkeypatch.setattr(httpserver, "IDLE_TIMEOUT_SECONDS", IDLE_TIMEOUT)
    monkeypatch.setattr(httpserver, "REQUEST_TIMEOUT_SECONDS", REQUEST_TIMEOUT)
    monkeypatch.setattr(httpserver, "SWEEP_INTERVAL_SECONDS", 0.1)
    loop = asyncio.new_event_loop()
    server = httpserver.HttpServer(
        lambda method, path: httpserver.Response(200, BIG_BODY if path == "/big" else b"{}"),
        log=logging.getLogger("test"), access_log=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    loop.run_until_complete(server.start("127.0.0.1", port, backlog=16))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield InProcessServer(port, server, httpserver)
    finally:
        asyncio.run_coroutine_threadsafe(server.shutdown(1.0), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
        sys.modules.pop("recipe_api.httpserver", None)


def closed_after(sock: socket.socket) -> float:
    started = time.monotonic()
    sock.settimeout(5)
    assert is_closed(sock)
    return time.monotonic() - started


@pytest.fixture
def server_port(running: InProcessServer) -> int:
    return running.port


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", server_port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(sock, bytearray())[0] == 200

        assert closed_after(sock) < IDLE_TIMEOUT + 2


def test_a_half_sent_request_is_not_held_open_forever(server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", server_port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow")

        assert closed_after(sock) < IDLE_TIMEOUT + 2


def test_a_request_trickled_byte_by_byte_gets_a_408_within_the_request_timeout(
        running: InProcessServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Slowloris: each byte comes well before the idle timeout, so only the request timeout can end it."""
    # Long, so that a slow CI machine pausing this test between two bytes cannot make the idle timeout fire first.
    monkeypatch.setattr(running.module, "IDLE_TIMEOUT_SECONDS", 60.0)
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        while not select.select([sock], [], [], 0.1)[0]:
            assert time.monotonic() - started < REQUEST_TIMEOUT + 3, "the trickled request was never cut off"
            sock.sendall(b"a")
        status, headers, body = read_response(sock, bytearray())

        assert (status, json.loads(body), headers["connection"]) == (408, {"error": "request_timeout"}, "close")
        assert REQUEST_TIMEOUT <= time.monotonic() - started
        assert is_closed(sock)


def test_a_client_that_never_reads_its_answers_is_disconnected(running: InProcessServer) -> None:
    """Pipelined requests for large answers, none of them read: once idle, the connection is aborted rather than
    closed gracefully, which would wait forever for the unread answers to drain."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(5)
        sock.connect(("127.0.0.1", running.port))
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n" * 64)
        wait_until(lambda: len(running.server.connections) == 1, timeout=5, what="the server to accept the connection")

        wait_until(lambda: not running.server.connections, timeout=IDLE_TIMEOUT + 5,
                   what="the server to drop the connection whose answers are never read")
