"""The HTTP/1.1 layer both services share (httpserver.py), over raw sockets against a real recipe-api process:
keep-alive, pipelining, HTTP/1.0, HEAD, limits, malformed requests, and closing idle connections on shutdown."""

from __future__ import annotations

import json
import select
import signal

import pytest

from tests.apps.raw_http import connect, is_closed, read_response
from tests.support.processes import ProcessGroup, ServiceProcess

RECIPE = b"GET /recipes/42 HTTP/1.1\r\nHost: test\r\n\r\n"


def test_keep_alive_serves_many_requests_on_one_connection(recipe_api: ServiceProcess) -> None:
    with connect(recipe_api) as sock:
        buffered = bytearray()
        for _ in range(20):
            sock.sendall(RECIPE)
            status, headers, body = read_response(sock, buffered)
            assert status == 200
            assert json.loads(body)["recipe"]["id"] == 42
            assert "connection" not in headers
        assert headers["content-type"] == "application/json"
        assert headers["date"].endswith(" GMT")


def test_pipelined_requests_are_answered_in_order(recipe_api: ServiceProcess) -> None:
    paths = ["/recipes/42", "/recipes/7", "/health", "/recipes/abc", "/nope"] * 4
    with connect(recipe_api) as sock:
        sock.sendall(b"".join(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode() for path in paths))
        buffered = bytearray()
        statuses = [read_response(sock, buffered)[0] for _ in paths]

    assert statuses == [200, 404, 200, 400, 404] * 4


def test_connection_close_is_honoured(recipe_api: ServiceProcess) -> None:
    with connect(recipe_api) as sock:
        sock.sendall(b"GET /recipes/42 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        status, headers, _ = read_response(sock, bytearray())

        assert (status, headers["connection"]) == (200, "close")
        assert is_closed(sock)


def test_http_1_0_gets_an_answer_then_the_connection_closes(recipe_api: ServiceProcess) -> None:
    with connect(recipe_api) as sock:
        sock.sendall(b"GET /recipes/42 HTTP/1.0\r\n\r\n")
        status, _, body = read_response(sock, bytearray())

        assert status == 200
        assert json.loads(body)["producer_pid"] == recipe_api.pid
        assert is_closed(sock)


def test_head_sends_the_length_but_no_body_and_keeps_the_connection(recipe_api: ServiceProcess) -> None:
    with connect(recipe_api) as sock:
        sock.sendall(b"HEAD /recipes/42 HTTP/1.1\r\nHost: t\r\n\r\n" + RECIPE)
        buffered = bytearray()
        while b"\r\n\r\n" not in buffered:
            buffered += sock.recv(65536)
        head, _, rest = bytes(buffered).partition(b"\r\n\r\n")
        buffered[:] = rest
        status, headers, body = read_response(sock, buffered)

    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert f"Content-Length: {len(body)}".encode() in head
    assert status == 200


@pytest.mark.parametrize(("target", "status"), [
    ("/recipes/%34%32", 200),  # percent-encoded 42
    ("/recipes/42?with=query", 200),
    ("http://example.org/recipes/42", 200),  # absolute form, as proxies send it
    ("/recipes/%ZZ", 400),
    # An encoded slash is not a path separator: decoding it before routing would make one segment two.
    ("/recipes%2F42", 404),
    ("/recipes%2f42", 404),
    ("/recipes/4%2F2", 400),
])
def test_request_targets(recipe_api: ServiceProcess, target: str, status: int) -> None:
    with connect(recipe_api) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        assert read_response(sock, bytearray())[0] == status


@pytest.mark.parametrize("framed_body", [
    b"Content-Length: 5\r\n\r\nhello",
    b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
], ids=["content-length", "chunked"])
def test_a_request_body_is_read_and_ignored(recipe_api: ServiceProcess, framed_body: bytes) -> None:
    """The body is skipped by its framing: the next request on the connection is found where it really starts."""
    with connect(recipe_api) as sock:
        sock.sendall(b"GET /recipes/42 HTTP/1.1\r\nHost: t\r\n" + framed_body + b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n")
        buffered = bytearray()
        assert [read_response(sock, buffered)[0] for _ in range(2)] == [200, 404]


@pytest.mark.parametrize(("request_bytes", "status", "code"), [
    (b"NOT HTTP AT ALL\r\n\r\n", 400, "bad_request"),
    (b"GET /recipes/42 HTTP/1.1\r\nBad Header Without Colon\r\n\r\n", 400, "bad_request"),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414, "uri_too_long"),
    (b"GET / HTTP/1.1\r\n" + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"v" * 1000) for i in range(70)) + b"\r\n",
     431, "request_header_fields_too_large"),
    # Request smuggling: framings a proxy in front could read differently from this server are refused.
    (b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     400, "bad_request"),
    (b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400, "bad_request"),
    (b"GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400, "bad_request"),
    # RFC 9112 3.2: an HTTP/1.1 request carries exactly one Host.
    (b"GET /recipes/42 HTTP/1.1\r\n\r\n", 400, "bad_request"),
    (b"GET /recipes/42 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "bad_request"),
], ids=["garbage", "bad-header", "long-url", "huge-headers", "length-and-chunked", "two-lengths",
        "chunked-not-last", "no-host", "two-hosts"])
def test_a_malformed_request_gets_a_json_error_and_a_close(recipe_api: ServiceProcess, request_bytes: bytes,
                                                           status: int, code: str) -> None:
    with connect(recipe_api) as sock:
        sock.sendall(request_bytes)
        got_status, headers, body = read_response(sock, bytearray())

        assert (got_status, headers["content-type"], json.loads(body)) == (status, "application/json",
                                                                          {"error": code})
        assert headers["connection"] == "close"
        assert is_closed(sock)


def test_one_endless_header_line_is_refused_before_it_grows_the_server(recipe_api: ServiceProcess) -> None:
    """The parser buffers a header until its line ends: the server must count the bytes as they arrive."""
    with connect(recipe_api) as sock:
        sock.sendall(b"GET /recipes/42 HTTP/1.1\r\nHost: t\r\nX-Endless: ")
        sent = 0
        # In small pieces, each read by the server before the next: so it has nothing unread when it closes, and
        # closes with its answer rather than a reset.
        while not select.select([sock], [], [], 0.05)[0]:
            assert sent < 1 << 20, "1 MiB of one header line and the server still reads on"
            sock.sendall(b"a" * 8192)
            sent += 8192
        status, headers, body = read_response(sock, bytearray())

        assert (status, json.loads(body)) == (431, {"error": "request_header_fields_too_large"})
        assert headers["connection"] == "close"
        assert is_closed(sock)


def test_an_upgrade_request_is_answered_then_closed(recipe_api: ServiceProcess) -> None:
    with connect(recipe_api) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        assert read_response(sock, bytearray())[0] == 200
        assert is_closed(sock)


def test_shutdown_closes_idle_keep_alive_connections(processes: ProcessGroup) -> None:
    service = processes.start("recipe-api")
    with connect(service) as sock:
        sock.sendall(RECIPE)
        assert read_response(sock, bytearray())[0] == 200

        service.send(signal.SIGTERM)

        assert service.wait_exit(timeout=15) == 0
        assert is_closed(sock)


def test_shutdown_answers_a_request_on_an_open_connection_during_the_delay(processes: ProcessGroup) -> None:
    service = processes.start("recipe-api", {"SHUTDOWN_DELAY_SECONDS": "1"})
    with connect(service) as sock:
        buffered = bytearray()
        sock.sendall(RECIPE)
        assert read_response(sock, buffered)[0] == 200

        service.send(signal.SIGTERM)
        service.wait_for_output("still serving for 1s")
        sock.sendall(RECIPE)

        status, headers, _ = read_response(sock, buffered)
        assert (status, headers.get("connection")) == (200, None)
        assert service.wait_exit(timeout=15) == 0
