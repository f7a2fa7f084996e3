"""A small HTTP/1.1 server on asyncio protocols and the llhttp parser (httptools), for JSON GET APIs.

Why not aiohttp's server: serving recipe-api's routes it cost 36-42 us of CPU per request, this one 13 us
(wrk -t1 -c32 against one process, CPU time from /proc/<pid>/stat), and the services' throughput on a
2-core node is bounded by CPU. The parser (llhttp, also Node's) does the hard part; this module does framing:
keep-alive, pipelining (answers stay in order), HEAD, Expect: 100-continue, size limits, timeouts, flow control
and a graceful drain.

What it deliberately does not do: request bodies (read, bounded and dropped), chunked responses, TLS, upgrades
(answered, then the connection closes). The services only serve small JSON answers to GETs.

Every limit and timeout below is listed, with what a client gets when it reaches it, in the README's
"Limits and timeouts" table: keep the two in step.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import re
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import Awaitable, Callable, NamedTuple, Union
from urllib.parse import unquote

import httptools

# Limits on what a client may send. Larger requests get a JSON 414/431/413 and the connection closes.
MAX_URL_BYTES = 8 * 1024
MAX_HEADER_BYTES = 64 * 1024
# The whole request head, counted as it arrives: the parser (httptools) buffers a header until it ends, so one
# endless header line would otherwise grow without bound (and cost quadratic copying).
MAX_HEAD_BYTES = MAX_URL_BYTES + MAX_HEADER_BYTES
# A request body is read and dropped, but not without end: bytes, chunks, and everything of a chunked body that is
# not data (chunk-size lines, extensions and the trailer section, whose fields the parser buffers like headers).
MAX_BODY_BYTES = 1 << 20
MAX_CHUNKS = 1024
MAX_TRAILER_BYTES = 16 * 1024
# From the moment a connection waits for a request (accepted, or its last answer written) until that request's head
# is complete: it covers idle keep-alive connections, connections sending only CRLFs, and heads trickled byte by
# byte alike, because bytes that do not complete a head do not extend it. A client that reads none of its answers
# for as long is disconnected too. The services set it from HEADER_TIMEOUT_SECONDS (at most 30 s); web-api's pool
# closes its own idle connections after 15 to 22.5 s, so before the server does.
HEADER_TIMEOUT_SECONDS = 30.0
# A request must arrive whole (head and any body) within this long of its first byte, or it gets a JSON 408 and
# the connection closes.
REQUEST_TIMEOUT_SECONDS = 10.0
# Requests parsed but not yet answered on one connection (pipelining; answers wait while the client reads none):
# at this many the server stops reading, and one more parsed from the same read gets a JSON 429 and the close.
MAX_PIPELINED = 32
SWEEP_INTERVAL_SECONDS = 1.0


class Response(NamedTuple):
    status: int
    body: bytes
    # Extra header lines, each ending in CRLF, e.g. b"Allow: GET, HEAD\r\n". Content-Type is always JSON.
    headers: bytes = b""


# A dispatcher maps (method, path) to a Response, or to an awaitable of one for handlers that do I/O.
Dispatch = Callable[[str, str], Union[Response, Awaitable[Response]]]

_STATUS_LINES = {status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode() for status in HTTPStatus}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _error_body(code: str) -> bytes:
    return b'{"error":"%s"}' % code.encode()


class HttpServer:
    """Serves `dispatch` on host:port. `start`, then `shutdown` to drain."""

    def __init__(self, dispatch: Dispatch, *, log: logging.Logger, access_log: bool,
                 header_timeout: float = HEADER_TIMEOUT_SECONDS) -> None:
        self.dispatch = dispatch
        self.log = log
        self.access_log = access_log
        self.header_timeout = header_timeout
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
        """Once a second: refresh the Date header and apply the timeouts."""
        self.date_header = b"Date: " + formatdate(time.time(), usegmt=True).encode() + b"\r\n"
        now = time.monotonic()
        for connection in list(self.connections):
            connection.sweep(now)
        self._ticker = asyncio.get_running_loop().call_later(SWEEP_INTERVAL_SECONDS, self._tick)


class _Request(NamedTuple):
    method: str
    target: bytes
    keep_alive: bool
    version: str = "1.1"
    # Set for a request refused after it was parsed: it is answered with this, in its turn, then the close.
    refusal: Response | None = None


class _Connection(asyncio.Protocol):
    """One client connection. Requests are answered one at a time, in order."""

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._header_bytes = 0
        self._hosts = 0
        self._expects_continue = False
        self._in_message = False
        self._in_head = False
        # Bytes of the current message that are not body data, counted per read after the read it began in: the
        # head while it arrives, then chunk framing and trailers. Body data and chunks are counted by the callbacks.
        self._overhead_bytes = 0
        self._body_bytes = 0
        self._body_in_read = 0
        self._chunks = 0
        self._message_began_in_this_read = False
        self._head_ended_in_this_read = False
        self._message_started = 0.0
        self._refused = False  # a request was refused: the rest of the input is ignored until the close
        self._pending: collections.deque[_Request] = collections.deque()
        self._busy = False  # a handler is running, or the connection is about to close
        self._task: asyncio.Future[Response] | None = None
        self._write_paused = False
        self._write_paused_since = 0.0
        self._reading_paused = False
        self._close_after_answer = False
        # When the connection began to wait for its next request: the header timeout counts from here.
        self._waiting_since = time.monotonic()
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
        continuing = self._in_message
        self._message_began_in_this_read = self._head_ended_in_this_read = False
        self._body_in_read = 0
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # Answered as a plain request (no upgrade is offered); the parser stops here, so the connection closes.
            self._close_after_answer = self._refused = True
            if not self._busy and not self._pending and self._transport is not None:
                self._transport.close()
            return
        except httptools.HttpParserError as error:
            too_large = error.__context__
            if isinstance(too_large, _RequestTooLarge):
                self._fail(too_large.status, too_large.code)
            else:
                self._fail(400, "bad_request")
            return
        if not self._in_message or self._refused:
            return
        if continuing and not self._message_began_in_this_read and not self._head_ended_in_this_read:
            # A read wholly inside the head, or wholly after it: the head held, or the framing and trailers of a
            # chunked body, is at most one read over its limit.
            self._overhead_bytes += len(data) - self._body_in_read
            if self._in_head:
                if self._overhead_bytes > MAX_HEAD_BYTES:
                    self._fail(431, "request_header_fields_too_large")
                    return
            elif self._overhead_bytes > MAX_TRAILER_BYTES:
                self._fail(431, "request_header_fields_too_large")
                return
        self._send_continue_if_next()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._pending.clear()
        self._server.forget(self)

    def pause_writing(self) -> None:
        self._write_paused = True
        self._write_paused_since = time.monotonic()
        self._pause_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._answer_pending()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._in_message = self._in_head = self._message_began_in_this_read = True
        self._message_started = time.monotonic()
        self._url = b""
        self._header_bytes = self._hosts = self._overhead_bytes = self._body_bytes = self._chunks = 0
        self._expects_continue = False

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > MAX_URL_BYTES:
            raise _RequestTooLarge(414, "uri_too_long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > MAX_HEADER_BYTES:
            raise _RequestTooLarge(431, "request_header_fields_too_large")
        # Trailer fields (after the head) are counted, otherwise ignored.
        if len(name) == 4:
            if self._in_head and name.lower() == b"host":
                self._hosts += 1
        elif len(name) == 6 and self._in_head and name.lower() == b"expect":
            self._expects_continue = value.strip().lower() == b"100-continue"

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_ended_in_this_read = True
        self._overhead_bytes = 0  # from here on: chunk framing and trailers
        if self._expects_continue and self._parser.get_http_version() != "1.1":
            self._expects_continue = False  # RFC 9110: a 1.0 client's Expect is ignored

    def on_body(self, body: bytes) -> None:
        self._body_in_read += len(body)
        self._body_bytes += len(body)
        if self._body_bytes > MAX_BODY_BYTES:
            raise _RequestTooLarge(413, "content_too_large")

    def on_chunk_header(self) -> None:
        self._chunks += 1
        if self._chunks > MAX_CHUNKS:
            raise _RequestTooLarge(413, "content_too_large")

    def on_message_complete(self) -> None:
        self._in_message = self._expects_continue = False
        if self._refused:
            return
        parser = self._parser
        version = parser.get_http_version()
        method = parser.get_method().decode("ascii", "replace")
        if (self._hosts != 1 and version == "1.1") or len(self._pending) >= MAX_PIPELINED:
            if self._hosts != 1 and version == "1.1":
                refusal = Response(400, _error_body("bad_request"))  # RFC 9112 3.2: exactly one Host
            else:
                refusal = Response(429, _error_body("too_many_pipelined_requests"))
            self._refused = True  # answered in its turn, then the close; the rest of the input is ignored
            self._pause_reading()
            request = _Request(method, self._url, False, version, refusal)
        else:
            request = _Request(method, self._url, parser.should_keep_alive(), version)
        if self._busy or self._write_paused or self._pending:
            self._pending.append(request)
            if len(self._pending) >= MAX_PIPELINED:
                self._pause_reading()
        else:
            self._handle(request)

    # answering
    def _handle(self, request: _Request) -> None:
        if request.refusal is not None:
            self._answer(request, request.refusal, "-")
            return
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
        if keep_alive:
            # HTTP/1.0 keeps a connection only when the answer says so.
            end = b"\r\n" if request.version == "1.1" else b"Connection: keep-alive\r\n\r\n"
        else:
            end = b"Connection: close\r\n\r\n"
        head = b"".join((
            _STATUS_LINES.get(response.status) or b"HTTP/1.1 %d Unknown\r\n" % response.status,
            self._server.date_header,
            b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(response.body),
            response.headers,
            end,
        ))
        transport.write(head if request.method == "HEAD" else head + response.body)
        if self._server.access_log:
            self._server.log.debug('%s "%s %s HTTP/%s" %d %d', self._peer, request.method,
                                   request.target.decode("latin-1"), request.version,
                                   response.status, len(response.body))
        if not keep_alive:
            self._busy = True  # answer nothing more on this connection
            self._pending.clear()
            transport.close()
            return
        self._answer_pending()

    def _answer_pending(self) -> None:
        """Answer what is queued, as long as the client reads its answers; then wait for the next request."""
        while self._pending and not self._busy and not self._write_paused:
            self._handle(self._pending.popleft())
        if not self._pending and not self._busy and not self._write_paused:
            self._waiting_since = time.monotonic()
            if self._expects_continue:
                self._send_continue_if_next()
            if self._reading_paused:
                self._resume_reading()

    def _send_continue_if_next(self) -> None:
        """Expect: 100-continue on the request whose body is awaited, once every earlier one is answered."""
        if (not self._expects_continue or not self._in_message or self._in_head or self._busy or self._pending
                or self._write_paused or self._refused or self._transport is None):
            return
        self._expects_continue = False
        self._transport.write(_CONTINUE)

    def _fail(self, status: int, code: str) -> None:
        """A request refused before it was complete: answer it (if nothing else is in progress), then close."""
        self._refused = True
        self._in_message = False
        self._pause_reading()
        if self._busy or self._pending:
            self._pending.append(_Request("GET", b"-", False, refusal=Response(status, _error_body(code))))
            return
        self._answer(_Request("GET", b"-", False), Response(status, _error_body(code)), "-")

    # lifecycle, called by HttpServer
    def close_when_idle(self) -> None:
        if not self._busy and not self._pending and not self._in_message:
            if self._transport is not None:
                self._transport.close()
        else:
            self._close_after_answer = True

    def sweep(self, now: float) -> None:
        """Apply the timeouts (called about once a second)."""
        if self._transport is None or self._busy:
            return  # a handler is running: bounded by its own budget
        if self._write_paused:
            if now - self._write_paused_since > self._server.header_timeout:
                self.abort()  # a graceful close would wait for the unread answers forever
        elif self._pending or self._refused:
            return
        elif self._in_message and not self._reading_paused and now - self._message_started > REQUEST_TIMEOUT_SECONDS:
            self._fail(408, "request_timeout")
        elif (not self._in_message or self._in_head) and now - self._waiting_since > self._server.header_timeout:
            if self._in_message:
                self._fail(408, "request_timeout")  # a head begun but not finished in time
            elif self._transport.get_write_buffer_size():
                self.abort()  # answers the peer has not read for that long
            else:
                self._transport.close()  # idle, or nothing but CRLFs

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _pause_reading(self) -> None:
        if not self._reading_paused and self._transport is not None:
            self._reading_paused = True
            self._transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._reading_paused and not self._write_paused and not self._refused and self._transport is not None:
            self._reading_paused = False
            if self._in_message:
                self._message_started = time.monotonic()  # the pause was the server's doing, not the client's
            self._transport.resume_reading()


class _RequestTooLarge(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


_ENCODED_SLASH = re.compile(r"%2[fF]")


def _path_of(target: bytes) -> str:
    """The decoded path of a request target (origin form "/a?b" or absolute form "http://h/a?b").

    An encoded slash (%2F) stays encoded: decoding it would turn one path segment into two before routing."""
    if target[:1] == b"/" and b"?" not in target and b"%" not in target and b"#" not in target:
        return target.decode("latin-1")  # the common case, without the URL parser
    path = (httptools.parse_url(target).path or b"/").decode("latin-1")
    return "%2F".join(unquote(part, encoding="utf-8", errors="replace") for part in _ENCODED_SLASH.split(path))
