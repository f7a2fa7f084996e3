"""A small HTTP/1.1 server on asyncio protocols and the llhttp parser (httptools), for JSON GET APIs.

Why not aiohttp's server: serving recipe-api's routes it cost 36-42 us of CPU per request, this one 13 us
(wrk -t1 -c32 against one process, CPU time from /proc/<pid>/stat), and the services' throughput on a
2-core node is bounded by CPU. The parser (llhttp, also Node's) does the hard part; this module does framing:
keep-alive, pipelining (answers stay in order), HEAD, size limits, idle and request timeouts, flow control and a
graceful drain.

What it deliberately does not do: request bodies (read and dropped), chunked responses, TLS, upgrades (answered,
then the connection closes). The services only serve small JSON answers to GETs.

This file is identical in recipe_api and web_api; tests/apps/test_shared_modules.py keeps the copies in sync.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import Awaitable, Callable, NamedTuple, Union
from urllib.parse import unquote

import httptools

# Limits on what a client may send. Larger requests get a JSON 414/431 and the connection closes.
MAX_URL_BYTES = 8 * 1024
MAX_HEADER_BYTES = 64 * 1024
# The whole request head, counted as it arrives: the parser (httptools) buffers a header until it ends, so one
# endless header line would otherwise grow without bound (and cost quadratic copying).
MAX_HEAD_BYTES = MAX_URL_BYTES + MAX_HEADER_BYTES
# A request must arrive whole (head and any body) within this long of its first byte, or it gets a JSON 408 and
# the connection closes: a client trickling bytes (slowloris) keeps resetting the idle timeout, not this one.
REQUEST_TIMEOUT_SECONDS = 10.0
# Requests parsed but not yet answered on one connection (pipelining) before the server stops reading it.
MAX_PIPELINED = 32
# A connection with no request in progress is closed after this long. Clients' pools (web-api's: 15 s) close
# theirs sooner, so a reused connection rarely meets a server-side close.
IDLE_TIMEOUT_SECONDS = 75.0
SWEEP_INTERVAL_SECONDS = 1.0


class Response(NamedTuple):
    status: int
    body: bytes
    # Extra header lines, each ending in CRLF, e.g. b"Allow: GET, HEAD\r\n". Content-Type is always JSON.
    headers: bytes = b""


# A dispatcher maps (method, path) to a Response, or to an awaitable of one for handlers that do I/O.
Dispatch = Callable[[str, str], Union[Response, Awaitable[Response]]]

_STATUS_LINES = {status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode() for status in HTTPStatus}


def _error_body(code: str) -> bytes:
    return b'{"error":"%s"}' % code.encode()


class HttpServer:
    """Serves `dispatch` on host:port. `start`, then `shutdown` to drain."""

    def __init__(self, dispatch: Dispatch, *, log: logging.Logger, access_log: bool) -> None:
        self.dispatch = dispatch
        self.log = log
        self.access_log = access_log
        self.connections: set[_Connection] = set()
        self.date_header = b""
        self.closing = False
        self._server: asyncio.AbstractServer | None = None
        self._ticker: asyncio.TimerHandle | None = None
        self._drained: asyncio.Event | None = None

    async def start(self, host: str, port: int, *, backlog: int) -> None:
        loop = asyncio.get_running_loop()
        self._tick()
        self._server = await loop.create_server(lambda: _Connection(self), host, port, backlog=backlog,
                                                reuse_address=True)

    async def shutdown(self, timeout: float) -> int:
        """Stop accepting, close idle connections, let in-flight requests finish (at most `timeout` seconds),
        then abort what is left. Returns the number of connections that had to be aborted."""
        self.closing = True
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.close_when_idle()
        aborted = 0
        if self.connections:
            self._drained = asyncio.Event()
            try:
                await asyncio.wait_for(self._drained.wait(), timeout)
            except TimeoutError:
                aborted = len(self.connections)
                for connection in list(self.connections):
                    connection.abort()
        if self._ticker is not None:
            self._ticker.cancel()
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            except TimeoutError:
                pass  # aborted connections finish closing with the event loop
        return aborted

    def forget(self, connection: _Connection) -> None:
        self.connections.discard(connection)
        if self._drained is not None and not self.connections:
            self._drained.set()

    def _tick(self) -> None:
        """Once a second: refresh the Date header, close connections idle for too long, and time out requests
        that are taking too long to arrive."""
        self.date_header = b"Date: " + formatdate(time.time(), usegmt=True).encode() + b"\r\n"
        now = time.monotonic()
        idle_since = now - IDLE_TIMEOUT_SECONDS
        started_before = now - REQUEST_TIMEOUT_SECONDS
        for connection in list(self.connections):
            if connection.idle_since(idle_since):
                connection.expire()
            elif connection.request_started_before(started_before):
                connection.time_out_request()
        self._ticker = asyncio.get_running_loop().call_later(SWEEP_INTERVAL_SECONDS, self._tick)


class _Request(NamedTuple):
    method: str
    target: bytes
    keep_alive: bool
    version: str = "1.1"


class _Connection(asyncio.Protocol):
    """One client connection. Requests are answered one at a time, in order."""

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._header_bytes = 0
        self._in_message = False
        self._in_head = False
        self._head_bytes = 0
        self._head_began_in_this_chunk = False
        self._message_started = 0.0
        self._refused = False  # a request was refused: the rest of the input is ignored until the close
        self._pending: collections.deque[_Request] = collections.deque()
        self._busy = False  # a handler is running, or the connection is about to close
        self._task: asyncio.Future[Response] | None = None
        self._write_paused = False
        self._reading_paused = False
        self._close_after_answer = False
        self._last_activity = time.monotonic()
        self._peer = "-"

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._server.connections.add(self)
        if self._server.access_log:
            peer = transport.get_extra_info("peername")
            self._peer = peer[0] if peer else "-"

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._last_activity = time.monotonic()
        self._head_began_in_this_chunk = False
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # Answered as a plain request (no upgrade is offered); the parser stops here, so the connection closes.
            self._close_after_answer = True
            if not self._busy and not self._pending and self._transport is not None:
                self._transport.close()
        except httptools.HttpParserError as error:
            too_large = error.__context__
            if isinstance(too_large, _RequestTooLarge):
                self._fail(too_large.status, too_large.code)
            else:
                self._fail(400, "bad_request")
            return
        if self._in_head and not self._head_began_in_this_chunk:
            # Counts whole chunks after the one the head began in: the head held is at most one chunk over the limit.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._fail(431, "request_header_fields_too_large")

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._pending.clear()
        self._server.forget(self)

    def pause_writing(self) -> None:
        self._write_paused = True
        self._pause_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._resume_reading()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._in_message = self._in_head = self._head_began_in_this_chunk = True
        self._message_started = time.monotonic()
        self._url = b""
        self._header_bytes = 0
        self._head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > MAX_URL_BYTES:
            raise _RequestTooLarge(414, "uri_too_long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > MAX_HEADER_BYTES:
            raise _RequestTooLarge(431, "request_header_fields_too_large")

    def on_headers_complete(self) -> None:
        self._in_head = False

    def on_message_complete(self) -> None:
        self._in_message = False
        parser = self._parser
        request = _Request(parser.get_method().decode("ascii", "replace"), self._url, parser.should_keep_alive(),
                           parser.get_http_version())
        if self._busy:
            self._pending.append(request)
            if len(self._pending) >= MAX_PIPELINED:
                self._pause_reading()
        else:
            self._handle(request)

    # answering
    def _handle(self, request: _Request) -> None:
        try:
            path = _path_of(request.target)
        except httptools.HttpParserInvalidURLError:
            self._answer(request, Response(400, _error_body("bad_request")), "-")
            return
        try:
            result = self._server.dispatch(request.method, path)
        except Exception:  # noqa: BLE001 - a bug answers 500 and is logged; the server keeps serving
            self._server.log.exception("unexpected error while serving %s %s", request.method, path)
            result = Response(500, _error_body("internal_error"))
        if isinstance(result, Response):
            self._answer(request, result, path)
            return
        self._busy = True
        # Held here: the event loop keeps only a weak reference to a task.
        self._task = asyncio.ensure_future(result)
        self._task.add_done_callback(lambda done: self._finish(request, path, done))

    def _finish(self, request: _Request, path: str, task: asyncio.Future) -> None:
        self._task = None
        if task.cancelled():
            response = Response(503, _error_body("cancelled"))
        elif task.exception() is not None:
            error = task.exception()
            self._server.log.error("unexpected error while serving %s %s: %r", request.method, path, error,
                                   exc_info=error)
            response = Response(500, _error_body("internal_error"))
        else:
            response = task.result()
        self._busy = False
        self._answer(request, response, path)

    def _answer(self, request: _Request, response: Response, path: str) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        keep_alive = request.keep_alive and not self._close_after_answer and not self._server.closing
        head = b"".join((
            _STATUS_LINES.get(response.status) or b"HTTP/1.1 %d Unknown\r\n" % response.status,
            self._server.date_header,
            b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(response.body),
            response.headers,
            b"\r\n" if keep_alive else b"Connection: close\r\n\r\n",
        ))
        transport.write(head if request.method == "HEAD" else head + response.body)
        self._last_activity = time.monotonic()
        if self._server.access_log:
            self._server.log.debug('%s "%s %s HTTP/%s" %d %d', self._peer, request.method,
                                   request.target.decode("latin-1"), request.version,
                                   response.status, len(response.body))
        if not keep_alive:
            self._busy = True  # answer nothing more on this connection
            self._pending.clear()
            transport.close()
            return
        while self._pending and not self._busy:
            self._handle(self._pending.popleft())
        if not self._pending:
            self._resume_reading()

    def _fail(self, status: int, code: str) -> None:
        """A request refused before it was complete: answer it (if nothing else is in progress), then close."""
        self._refused = self._close_after_answer = True
        if self._busy:
            self._pending.clear()
            return
        self._answer(_Request("GET", b"-", False), Response(status, _error_body(code)), "-")

    # lifecycle, called by HttpServer
    def close_when_idle(self) -> None:
        if not self._busy and not self._pending and not self._in_message:
            if self._transport is not None:
                self._transport.close()
        else:
            self._close_after_answer = True

    def idle_since(self, moment: float) -> bool:
        return not self._busy and self._last_activity < moment

    def request_started_before(self, moment: float) -> bool:
        # Not while reading is paused: then the server, not the client, is holding the request back.
        return self._in_message and not self._refused and not self._reading_paused and self._message_started < moment

    def time_out_request(self) -> None:
        self._fail(408, "request_timeout")

    def expire(self) -> None:
        """Close a connection idle for too long, including one stuck in a half-sent request."""
        if self._transport is not None:
            if self._transport.get_write_buffer_size():
                # Answers the peer has not read for that long: a graceful close would wait for it forever.
                self._transport.abort()
            else:
                self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _pause_reading(self) -> None:
        if not self._reading_paused and self._transport is not None:
            self._reading_paused = True
            self._transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._reading_paused and not self._write_paused and self._transport is not None:
            self._reading_paused = False
            if self._in_message:
                self._message_started = time.monotonic()  # the pause was the server's doing, not the client's
            self._transport.resume_reading()


class _RequestTooLarge(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


def _path_of(target: bytes) -> str:
    """The decoded path of a request target (origin form "/a?b" or absolute form "http://h/a?b")."""
    if target[:1] == b"/" and b"?" not in target and b"%" not in target and b"#" not in target:
        return target.decode("latin-1")  # the common case, without the URL parser
    path = httptools.parse_url(target).path or b"/"
    return unquote(path.decode("latin-1"), encoding="utf-8", errors="replace")

