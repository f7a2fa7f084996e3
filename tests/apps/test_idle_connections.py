"""Idle and half-sent connections are closed by the server (the shared httpserver module, run in-process on
loopback with a short idle timeout: the services' own 75 s is too long to wait for in a test)."""

from __future__ import annotations

import asyncio
import importlib
import logging
import socket
import sys
import threading
import time
from typing import Iterator

import pytest

from tests.apps.raw_http import is_closed, read_response
from tests.support.processes import REPO

IDLE_TIMEOUT = 0.5


@pytest.fixture
def server_port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.syspath_prepend(str(REPO / "apps" / "recipe-api"))
    httpserver = importlib.import_module("recipe_api.httpserver")
    monkeypatch.setattr(httpserver, "IDLE_TIMEOUT_SECONDS", IDLE_TIMEOUT)
    monkeypatch.setattr(httpserver, "SWEEP_INTERVAL_SECONDS", 0.1)
    loop = asyncio.new_event_loop()
    server = httpserver.HttpServer(lambda method, path: httpserver.Response(200, b"{}"),
                                   log=logging.getLogger("test"), access_log=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    loop.run_until_complete(server.start("127.0.0.1", port, backlog=16))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield port
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


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", server_port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(sock, bytearray())[0] == 200

        assert closed_after(sock) < IDLE_TIMEOUT + 2


def test_a_half_sent_request_is_not_held_open_forever(server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", server_port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow")

        assert closed_after(sock) < IDLE_TIMEOUT + 2
