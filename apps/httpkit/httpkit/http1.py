"""A small pooled HTTP/1.1 client for GETs to one upstream, on asyncio protocols and the llhttp parser (httptools).

Why not aiohttp's ClientSession: on GET / it cost web-api more CPU than everything else together (measured with
cProfile and wrk, see bench/chain); this client does only what web-api needs, a GET over a pooled keep-alive
connection, with a C parser for the answer.

Interim answers (1xx but 101) are skipped; 101 is refused. Everything the peer sends is bounded as it arrives: the
head (interim heads included), the body, the number of chunks and the chunk framing with the trailer section.

Failures are typed so the caller can decide: ConnectionFailed (no answer: refused, reset, closed by the peer before
or during the answer; safe to retry a GET) and BadResponse (an answer that is not valid HTTP or is too large).
A request that is cancelled (e.g. by a timeout) closes its connection, whose state is then unknown.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass

import httptools


class ConnectionFailed(Exception):
    """No complete answer came back on the connection."""


class BadResponse(Exception):
    """The peer answered something that is not an acceptable HTTP response."""


# The status line and headers of an answer, at most (give or take one read): the parser buffers a header until it
# ends, so a peer sending an endless header must not make this process grow without bound.
MAX_HEAD_BYTES = 64 * 1024
# A chunked answer: at most this many chunks (a recipe comes with a Content-Length, in one piece), and at most this
# many bytes of chunk-size lines, extensions and trailer fields (which the parser buffers like headers).
MAX_CHUNKS = 256
MAX_TRAILER_BYTES = 16 * 1024


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


class ConnectionPool:
    """Keep-alive connections to host:port, at most `max_connections` at once; idle ones close after
    `idle_timeout` seconds. `get` is safe to call from many tasks at once."""

    def __init__(self, host: str, port: int, *, max_connections: int, idle_timeout: float, max_body_bytes: int,
                 host_header: str | None = None) -> None:
        self.host = host
        self.port = port
        self.idle_timeout = idle_timeout
        self.max_body_bytes = max_body_bytes
        self._host_header = host_header or f"{host}:{port}"
        self._idle: collections.deque[_Connection] = collections.deque()
        self._open: set[_Connection] = set()
        self._slots = asyncio.Semaphore(max_connections)
        self._requests: dict[str, bytes] = {}
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False

    async def get(self, path: str, *, fresh: bool = False) -> Response:
        """GET `path`; `fresh` opens a new connection rather than reusing an idle one (a retry after a connection
        failure: the other idle connections may lead to the same peer that just went away)."""
        request = self._requests.get(path)
        if request is None:
            request = self._requests[path] = (
                f"GET {path} HTTP/1.1\r\nHost: {self._host_header}\r\nAccept: application/json\r\n"
                f"User-Agent: web-api\r\n\r\n"
            ).encode("latin-1")
        async with self._slots:
            connection = self._idle.pop() if self._idle and not fresh else None
            while connection is not None and not connection.usable():
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                connection = await self._connect()
            try:
                return await connection.exchange(request)
            except BaseException:
                connection.close()  # cancelled or failed mid-exchange: the connection's state is unknown
                raise

    async def close(self) -> None:
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        for connection in list(self._open):
            connection.close()
        self._idle.clear()

    async def _connect(self) -> _Connection:
        if self._closed:
            raise ConnectionFailed("the connection pool is closed")
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(lambda: _Connection(self), self.host, self.port)
        except OSError as error:
            raise ConnectionFailed(f"cannot connect to {self.host}:{self.port}: {error.strerror or error}") from None
        self._open.add(connection)
        if self._sweeper is None:
            self._schedule_sweep()
        return connection

    def _release(self, connection: _Connection) -> None:
        if self._closed:
            connection.close()
        else:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)

    def _forget(self, connection: _Connection) -> None:
        self._open.discard(connection)
        try:
            self._idle.remove(connection)  # rare: the peer closed an idle connection
        except ValueError:
            pass

    def _schedule_sweep(self) -> None:
        self._sweeper = asyncio.get_running_loop().call_later(self.idle_timeout / 2, self._sweep)

    def _sweep(self) -> None:
        expired_before = time.monotonic() - self.idle_timeout
        while self._idle and self._idle[0].idle_since < expired_before:  # oldest first: the deque is LIFO-used
            self._idle.popleft().close()
        if self._open:
            self._schedule_sweep()
        else:
            self._sweeper = None


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: one request at a time, answer parsed as it arrives."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Response] | None = None
        # One buffer, not a list of pieces: a body in 1-byte chunks must not cost 40 times its size.
        self._body = bytearray()
        self._chunks = 0
        self._overhead = 0  # bytes of the answer that are not body data: head, then chunk framing and trailers
        self._body_in_read = 0
        self._headers_done = False
        self._headers_done_in_this_read = False
        self._length_delimited = False
        self.idle_since = 0.0

    def usable(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    async def exchange(self, request: bytes) -> Response:
        if self._transport is None or self._transport.is_closing():
            raise ConnectionFailed("the pooled connection was closed by the peer")
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        return await self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._pool._forget(self)

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            self._fail(BadResponse(f"unexpected bytes while no request was waiting: {data[:80]!r}"))
            return
        self._body_in_read = 0
        self._headers_done_in_this_read = False
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(BadResponse("a 101 (protocol switch) answer to a GET"))
            return
        except httptools.HttpParserError as error:
            if isinstance(error.__context__, BadResponse):  # raised by one of the callbacks below
                self._fail(error.__context__)
            else:
                self._fail(BadResponse(f"invalid HTTP answer ({error})"))
            return
        if self._waiter is None:
            return  # the answer is complete
        if not self._headers_done:
            self._overhead += len(data)
            if self._overhead > MAX_HEAD_BYTES:
                self._fail(BadResponse(f"answer head larger than {MAX_HEAD_BYTES} bytes"))
        elif not self._headers_done_in_this_read:
            self._overhead += len(data) - self._body_in_read
            if self._overhead > MAX_TRAILER_BYTES:
                self._fail(BadResponse(f"chunk framing and trailers larger than {MAX_TRAILER_BYTES} bytes"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._pool._forget(self)
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._headers_done and not self._length_delimited:
            # An answer without Content-Length or chunked encoding ends when the peer closes.
            self._waiter = None
            waiter.set_result(Response(self._parser.get_status_code(), bytes(self._body)))
        elif self._headers_done:
            waiter.set_exception(ConnectionFailed("the peer closed the connection in the middle of its answer"))
        else:
            reason = f": {exc}" if exc else ""
            waiter.set_exception(ConnectionFailed(f"the peer closed the connection without answering{reason}"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered == b"content-length":
            self._length_delimited = True
            if value.strip().isdigit() and int(value) > self._pool.max_body_bytes:
                raise BadResponse(f"answer of {int(value)} bytes, more than {self._pool.max_body_bytes}")
        elif lowered == b"transfer-encoding":
            self._length_delimited = True

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status == 101:
            raise BadResponse("a 101 (protocol switch) answer to a GET")
        if 100 <= status < 200:
            return  # an interim head: the final head follows, and both count toward MAX_HEAD_BYTES
        self._headers_done = self._headers_done_in_this_read = True
        self._overhead = 0  # from here on: chunk framing and trailers

    def on_body(self, chunk: bytes) -> None:
        self._body_in_read += len(chunk)
        if len(self._body) + len(chunk) > self._pool.max_body_bytes:
            raise BadResponse(f"answer larger than {self._pool.max_body_bytes} bytes")
        self._body += chunk

    def on_chunk_header(self) -> None:
        self._chunks += 1
        if self._chunks > MAX_CHUNKS:
            raise BadResponse(f"answer in more than {MAX_CHUNKS} chunks")

    def on_message_begin(self) -> None:
        if self._waiter is None:
            raise BadResponse("a second answer to a single request")

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            # An interim answer (100 Continue, 103 Early Hints): the final one follows on this connection. Its head
            # counts toward the same head limit, so an endless series of them is refused too.
            self._length_delimited = False
            return
        response = Response(status, bytes(self._body))
        keep_alive = self._parser.should_keep_alive()
        self._body = bytearray()
        self._chunks = self._overhead = 0
        self._headers_done = self._length_delimited = False
        waiter, self._waiter = self._waiter, None
        if keep_alive:
            self._pool._release(self)
        else:
            self.close()
        if waiter is not None and not waiter.done():
            waiter.set_result(response)

    def _fail(self, error: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.close()
