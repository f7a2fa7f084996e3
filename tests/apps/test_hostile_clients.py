"""Hostile and unusual clients against the server side of the shared HTTP layer (httpkit.httpserver), real bytes over
real sockets to real processes: endless trailers, chunk floods, pipelining floods that never read, Expect:
100-continue, Host rules and HTTP/1.0 keep-alive (encoded slashes: test_http_server.py). Each attack must leave the
process within a few MiB of where it was, and /health answering throughout."""

from __future__ import annotations

import json
import socket
import threading
from typing import Iterator

import pytest

from tests.apps import upstreams
from tests.apps.hostile import MAX_GROWTH_PER_CONNECTION, MiB, HealthWatch, settle, stream_until_answered
from tests.apps.raw_http import connect, is_closed, read_response
from tests.support.http import http_get
from tests.support.processes import ProcessGroup, ServiceProcess

CHUNKED_HEAD = b"GET /recipes/42 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
NOT_FOUND = b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"


@pytest.fixture(scope="module")
def producer(module_processes: ProcessGroup) -> ServiceProcess:
    """A recipe-api of the module's own, so that the memory it is measured by is not another test's."""
    return module_processes.start("recipe-api")


def assert_refused(sock: socket.socket, status: int, code: str) -> None:
    got, headers, body = read_response(sock, bytearray())
    assert (got, json.loads(body), headers["connection"]) == (status, {"error": code}, "close")
    assert is_closed(sock)


def test_an_endless_trailer_is_refused_before_it_grows_the_server(producer: ServiceProcess) -> None:
    before = producer.rss_bytes()
    with HealthWatch(producer) as health, connect(producer) as sock:
        sock.sendall(CHUNKED_HEAD + b"5\r\nhello\r\n0\r\nX-Endless: ")
        stream_until_answered(sock, b"a" * 8192, limit=64 * MiB)

        assert_refused(sock, 431, "request_header_fields_too_large")
    assert producer.rss_bytes() - before < MAX_GROWTH_PER_CONNECTION
    assert health.answers and not health.problems, health.problems


def test_endless_trailer_fields_are_refused(producer: ServiceProcess) -> None:
    with connect(producer) as sock:
        sock.sendall(CHUNKED_HEAD + b"0\r\n")
        stream_until_answered(sock, b"X-Field: value\r\n" * 512, limit=64 * MiB)

        assert_refused(sock, 431, "request_header_fields_too_large")


def test_a_small_trailer_is_accepted(producer: ServiceProcess) -> None:
    with connect(producer) as sock:
        sock.sendall(CHUNKED_HEAD + b"5\r\nhello\r\n0\r\nX-Checksum: 1234\r\n\r\n" + NOT_FOUND)
        buffered = bytearray()
        assert [read_response(sock, buffered)[0] for _ in range(2)] == [200, 404]


def test_a_flood_of_one_byte_chunks_is_refused(producer: ServiceProcess) -> None:
    before = producer.rss_bytes()
    with connect(producer) as sock:
        sock.sendall(CHUNKED_HEAD)
        stream_until_answered(sock, b"1\r\na\r\n" * 1000, limit=64 * MiB)

        assert_refused(sock, 413, "content_too_large")
    assert producer.rss_bytes() - before < MAX_GROWTH_PER_CONNECTION


def test_an_endless_body_is_refused(producer: ServiceProcess) -> None:
    with connect(producer) as sock:
        sock.sendall(b"GET /recipes/42 HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n")
        stream_until_answered(sock, b"a" * 65536, limit=200 * MiB)

        assert_refused(sock, 413, "content_too_large")


def test_expect_100_continue_gets_a_100_before_the_body_then_the_answer(producer: ServiceProcess) -> None:
    with connect(producer) as sock:
        sock.sendall(b"GET /recipes/42 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        interim = b""
        while b"\r\n\r\n" not in interim:
            interim += sock.recv(4096)  # times out (5 s) if the server waits for the body
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"

        sock.sendall(b"hello")
        assert read_response(sock, bytearray())[0] == 200


def test_expect_100_continue_without_a_body_gets_only_the_answer(producer: ServiceProcess) -> None:
    with connect(producer) as sock:
        sock.sendall(b"GET /recipes/42 HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\r\n" + NOT_FOUND)
        buffered = bytearray()
        assert [read_response(sock, buffered)[0] for _ in range(2)] == [200, 404]


def test_an_http_1_0_request_needs_no_host(producer: ServiceProcess) -> None:
    with connect(producer) as sock:
        sock.sendall(b"GET /recipes/42 HTTP/1.0\r\n\r\n")
        assert read_response(sock, bytearray())[0] == 200


def test_http_1_0_keep_alive_is_confirmed_and_kept(producer: ServiceProcess) -> None:
    with connect(producer) as sock:
        buffered = bytearray()
        for _ in range(3):
            sock.sendall(b"GET /recipes/42 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, _ = read_response(sock, buffered)
            assert (status, headers.get("connection")) == (200, "keep-alive")


@pytest.fixture(scope="module")
def counted_upstream() -> Iterator[upstreams.FakeUpstream]:
    with upstreams.FakeUpstream(upstreams.answering(200, upstreams.VALID_BODY)) as upstream:
        yield upstream


@pytest.fixture(scope="module")
def consumer(module_processes: ProcessGroup, counted_upstream: upstreams.FakeUpstream) -> ServiceProcess:
    return module_processes.start("web-api", {"RECIPE_API_URL": counted_upstream.url,
                                              "RECIPE_API_TIMEOUT_SECONDS": "5"})


def test_pipelining_clients_that_never_read_cannot_make_the_server_work_or_grow(
        consumer: ServiceProcess, counted_upstream: upstreams.FakeUpstream) -> None:
    """Each client sends 256 KiB of pipelined GET / in one go and reads nothing: the server answers what fits in the
    socket buffers and its own write buffer, queues a bounded number more, and calls recipe-api for no more."""
    clients = 8
    burst = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" * (256 * 1024 // 27)
    assert http_get(consumer.url("/")).status == 200
    before_rss, before_calls = consumer.rss_bytes(), counted_upstream.requests
    sockets = []
    try:
        with HealthWatch(consumer) as health:
            for _ in range(clients):
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.connect(("127.0.0.1", consumer.port))
                sockets.append(sock)
                threading.Thread(target=_send_quietly, args=(sock, burst), daemon=True).start()
            calls = settle(lambda: counted_upstream.requests) - before_calls
            growth = consumer.rss_bytes() - before_rss
    finally:
        for sock in sockets:
            sock.close()

    assert calls <= clients * 1000, f"{calls} upstream calls for {clients} clients that read nothing"
    assert growth < clients * MAX_GROWTH_PER_CONNECTION / 4, f"grew {growth / MiB:.1f} MiB"
    assert health.answers and not health.problems, health.problems


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
    except OSError:
        pass  # the server stopped reading and closed: what is expected of it
