"""Fuzzing the shared HTTP layer with hypothesis, over real sockets to real processes, bounded in time for CI
(max_examples per test, a short wait per example).

- The request path (httpkit.httpserver, in recipe-api): generated requests (methods, targets, versions, headers,
  Content-Length and chunked bodies, trailers), mutated with random bytes and split at random points. Whatever
  arrives, the server answers only well-formed HTTP/1.1 with JSON bodies, or closes, and never logs an error.
- The response path (httpkit.http1, in web-api): a fake recipe-api sends generated answers (1xx, 101, 204, chunked,
  trailers, bad lengths, garbage). web-api always answers a JSON 200 carrying a JSON object, or a JSON 502/503/504,
  within its budget, and never logs an error.
"""

from __future__ import annotations

import json
import re
import select
import socket
import time
from typing import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apps import upstreams
from tests.support.http import http_get
from tests.support.processes import ProcessGroup, ServiceProcess

FUZZ = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
# How long a request-path example waits for more bytes once the server has gone quiet.
QUIET_SECONDS = 0.05
BUDGET = 1.0
SLACK = 2.0

token = st.text(alphabet="!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                min_size=1, max_size=12)
field_value = st.one_of(st.text(max_size=30).map(lambda text: text.encode("utf-8", "replace")),
                        st.binary(max_size=30))


def _chunked(chunks: list[bytes], trailers: list[tuple[str, bytes]]) -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks if chunk)
    return body + b"0\r\n" + b"".join(b"%s: %s\r\n" % (name.encode(), value) for name, value in trailers) + b"\r\n"


@st.composite
def message_bodies(draw) -> tuple[list[tuple[str, bytes]], bytes]:
    """Framing headers and the body they frame (or misframe)."""
    kind = draw(st.sampled_from(["none", "length", "bad-length", "chunked", "both"]))
    body = draw(st.binary(max_size=64))
    if kind == "length":
        return [("Content-Length", str(len(body)).encode())], body
    if kind == "bad-length":
        return [("Content-Length", draw(st.sampled_from([b"-1", b"1e3", b"99999999999999999999", b"", b"4, 4"])))], body
    chunks = draw(st.lists(st.binary(min_size=1, max_size=16), max_size=5))
    trailers = draw(st.lists(st.tuples(token, field_value), max_size=3))
    framed = _chunked(chunks, trailers)
    if kind == "chunked":
        return [("Transfer-Encoding", b"chunked")], framed
    if kind == "both":
        return [("Transfer-Encoding", b"chunked"), ("Content-Length", str(len(framed)).encode())], framed
    return [], b""


@st.composite
def requests(draw) -> bytes:
    method = draw(st.sampled_from(["GET", "HEAD", "POST", "OPTIONS", "CONNECT", "PRI", "get"]) | token)
    target = draw(st.sampled_from(["/recipes/42", "/health", "/recipes/%2F", "/recipes/%ZZ", "*", "http://h/recipes/1",
                                   "/recipes/" + "9" * 30, "/../../etc/passwd", "/recipes/42?x=%00"])
                  | st.text(max_size=40).map(lambda text: "/" + text))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "http/1.1", ""]))
    headers = draw(st.lists(st.sampled_from([("Host", b"t"), ("Host", b"t"), ("Expect", b"100-continue"),
                                             ("Connection", b"close"), ("Connection", b"keep-alive, Upgrade"),
                                             ("Upgrade", b"h2c")]) | st.tuples(token, field_value), max_size=6))
    framing, body = draw(message_bodies())
    head = f"{method} {target} {version}\r\n".encode("utf-8", "replace")
    head += b"".join(b"%s: %s\r\n" % (name.encode(), value) for name, value in headers + framing) + b"\r\n"
    raw = head + body
    if draw(st.booleans()):  # a random mutation: bytes inserted, or the tail cut off
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(max_size=8)) if draw(st.booleans()) else raw[:at] + raw[at:][1:]
    return raw * draw(st.integers(1, 3))  # pipelined copies


_STATUS_LINE = re.compile(rb"HTTP/1\.1 (\d{3}) [^\r\n]*\r\n")


def assert_well_formed(answer: bytes) -> None:
    """A series of HTTP/1.1 answers: 100 Continue interim heads, then final ones with a JSON body of their length."""
    rest = answer
    while rest:
        match = _STATUS_LINE.match(rest)
        assert match, f"not a status line: {rest[:120]!r}"
        head, separator, rest = rest.partition(b"\r\n\r\n")
        assert separator, f"unfinished head: {head[:200]!r}"
        status = int(match.group(1))
        if status == 100:
            continue
        headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
        length = int(headers[b"Content-Length"])
        assert headers[b"Content-Type"] == b"application/json"
        if len(rest) < length:
            return  # a HEAD answer has no body; the server may also have been cut short by its close
        body, rest = rest[:length], rest[length:]
        try:
            json.loads(body)
        except ValueError:
            # Only a HEAD answer carries no body, and then the next answer follows at once.
            assert _STATUS_LINE.match(body), f"not JSON: {body[:200]!r}"
            rest = body + rest


def exchange(port: int, raw: bytes, pieces: list[int]) -> bytes:
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        start = 0
        try:
            for size in pieces + [len(raw)]:
                sock.sendall(raw[start:start + size])
                start += size
        except OSError:
            pass  # the server refused and closed: what it answered is still checked
        while select.select([sock], [], [], QUIET_SECONDS)[0]:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
    return answer


@pytest.fixture(scope="module")
def producer(module_processes: ProcessGroup) -> Iterator[ServiceProcess]:
    service = module_processes.start("recipe-api")
    yield service
    assert http_get(service.url("/health")).status == 200
    assert_quiet(service)


def assert_quiet(service: ServiceProcess) -> None:
    output = service.stdout() + service.stderr()
    assert "Traceback" not in output and "level=error" not in output, output[-3000:]


@FUZZ
@given(raw=requests(), pieces=st.lists(st.integers(1, 64), max_size=3))
def test_the_request_path_answers_well_formed_json_or_closes(producer: ServiceProcess, raw: bytes,
                                                             pieces: list[int]) -> None:
    assert_well_formed(exchange(producer.port, raw, pieces))
    assert producer.popen.poll() is None


@st.composite
def answers(draw) -> bytes:
    status = draw(st.sampled_from([200, 200, 200, 100, 101, 103, 204, 304, 404, 500, 999]) | st.integers(0, 1000))
    reason = draw(st.sampled_from(["OK", "", "Whatever"]))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/1.1", "HTTP/2", "ICY"]))
    body = draw(st.sampled_from([upstreams.VALID_BODY, b"{}", b"[]", b'{"x": NaN}', b"", b"\xff\xfe"])
                | st.binary(max_size=64))
    framing, framed = draw(st.sampled_from(["length", "chunked", "close", "bad-length"])), body
    headers = draw(st.lists(st.tuples(token, field_value), max_size=4))
    if framing == "length":
        headers.append(("Content-Length", str(len(body)).encode()))
    elif framing == "bad-length":
        headers.append(("Content-Length", draw(st.sampled_from([b"-1", b"x", b"99999999999", b"1, 2"]))))
    elif framing == "chunked":
        cut = draw(st.integers(0, len(body)))
        trailers = draw(st.lists(st.tuples(token, field_value), max_size=3))
        framed = _chunked([body[:cut], body[cut:]], trailers)
        headers.append(("Transfer-Encoding", b"chunked"))
    head = f"{version} {status} {reason}\r\n".encode()
    head += b"".join(b"%s: %s\r\n" % (name.encode(), value) for name, value in headers) + b"\r\n"
    prefix = draw(st.sampled_from([b"", b"HTTP/1.1 100 Continue\r\n\r\n",
                                   b"HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"]))
    raw = prefix + head + framed
    if draw(st.booleans()):
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(max_size=8)) + raw[at:]
    return raw


class Scripted:
    """The fake recipe-api's behaviour: send the current example's bytes, then close."""

    def __init__(self) -> None:
        self.raw = b""

    def __call__(self, connection: upstreams.Connection) -> bool:
        connection.sock.sendall(self.raw)
        return False


@pytest.fixture(scope="module")
def scripted() -> Scripted:
    return Scripted()


@pytest.fixture(scope="module")
def consumer(module_processes: ProcessGroup, scripted: Scripted) -> Iterator[ServiceProcess]:
    with upstreams.FakeUpstream(scripted) as upstream:
        service = module_processes.start("web-api", {"RECIPE_API_URL": upstream.url,
                                                     "RECIPE_API_TIMEOUT_SECONDS": str(BUDGET)})
        yield service
        assert http_get(service.url("/health")).status == 200
        assert_quiet(service)


@FUZZ
@given(raw=answers())
def test_the_response_path_always_gives_a_json_answer_within_the_budget(consumer: ServiceProcess,
                                                                       scripted: Scripted, raw: bytes) -> None:
    scripted.raw = raw
    started = time.monotonic()
    result = http_get(consumer.url("/"), timeout=BUDGET + 30)
    elapsed = time.monotonic() - started

    assert result.content_type == "application/json"
    body = result.json()
    assert isinstance(body, dict)
    if result.status == 200:
        assert isinstance(body["producer_data"], dict)
    else:
        assert result.status in (502, 503, 504) and list(body) == ["error"], (result.status, body)
    assert elapsed < BUDGET + SLACK
