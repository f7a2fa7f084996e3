"""web-api's client for recipe-api: one pool of keep-alive connections for the whole process (see httpkit.http1).

Every call is bounded by one total budget (RECIPE_API_TIMEOUT_SECONDS) that includes its single retry. A connection
failure is retried once, at once, on a new connection: a recipe-api pod going away mid-rollout closes its pooled
keep-alive connections, and the next request on such a connection must not fail (nor its retry, which another idle
connection to the same pod could fail again). Failures become UpstreamError, which says which kind:
unreachable (503), timeout (504) or a bad answer (502).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlsplit

from httpkit import http1

# Connections kept to recipe-api at most. Above the concurrency one web-api process sees (its event loop is the
# bottleneck long before 128 requests are in flight), so requests do not queue for a connection.
POOL_SIZE = 128
# Idle pooled connections are closed after this long: below recipe-api's own idle timeout
# (httpkit.httpserver: HEADER_TIMEOUT_SECONDS, 30 s; the sweep runs every 7.5 s, so one lives at most 22.5 s idle),
# so web-api closes first and rarely reuses a connection being closed.
KEEPALIVE_SECONDS = 15.0
# A recipe is a few hundred bytes; anything this large is not an answer web-api can forward.
MAX_BODY_BYTES = 1 << 20


class UpstreamError(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def unreachable(detail: str) -> UpstreamError:
    return UpstreamError(503, "recipe_api_unreachable", detail)


def timed_out(detail: str) -> UpstreamError:
    return UpstreamError(504, "recipe_api_timeout", detail)


def bad_answer(detail: str) -> UpstreamError:
    return UpstreamError(502, "recipe_api_bad_answer", detail)


class RecipeApiClient:
    def __init__(self, base_url: str, timeout: float, log: logging.Logger) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url
        self.timeout = timeout
        self._host = parts.hostname or ""
        self._port = parts.port or 80
        self._host_header = parts.netloc
        self._base_path = parts.path.rstrip("/")
        self._failures = FailureLog(log)
        self._pool: http1.ConnectionPool | None = None

    async def start(self) -> None:
        self._pool = http1.ConnectionPool(
            self._host, self._port, max_connections=POOL_SIZE, idle_timeout=KEEPALIVE_SECONDS,
            max_body_bytes=MAX_BODY_BYTES, host_header=self._host_header,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def get_json_object(self, path: str) -> bytes:
        """GET base_url + path and return the body, checked to be one JSON object. Raises UpstreamError."""
        assert self._pool is not None, "RecipeApiClient.start() was not awaited"
        target = self._base_path + path
        try:
            async with asyncio.timeout(self.timeout):
                try:
                    response = await self._pool.get(target)
                except http1.ConnectionFailed as first_failure:
                    self._failures.retrying(target, first_failure)
                    response = await self._pool.get(target, fresh=True)
        except TimeoutError:
            error = timed_out(f"recipe-api did not answer GET {self.base_url}{path} within {self.timeout:g}s")
        except http1.ConnectionFailed as failure:
            error = unreachable(f"cannot reach recipe-api at {self.base_url}{path}: {failure}")
        except http1.BadResponse as failure:
            error = bad_answer(f"recipe-api sent a broken answer to GET {self.base_url}{path}: {failure}")
        else:
            try:
                body = self._checked_body(response, self.base_url + path)
            except UpstreamError as upstream_error:
                error = upstream_error
            else:
                self._failures.succeeded()
                return body
        self._failures.failed(error)
        raise error

    @staticmethod
    def _checked_body(response: http1.Response, url: str) -> bytes:
        body = response.body
        if response.status != 200:
            raise bad_answer(f"recipe-api answered GET {url} with HTTP {response.status}: {body[:200]!r}")
        try:
            value = _STRICT_JSON.decode(body.decode())
        except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise bad_answer(f"recipe-api answered GET {url} with a body that is not UTF-8 JSON ({error}): "
                             f"{body[:200]!r}") from None
        if not isinstance(value, dict):
            raise bad_answer(f"recipe-api answered GET {url} with JSON that is not an object: {body[:200]!r}")
        return body


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# NaN and Infinity are not JSON: a body holding them must not be spliced into web-api's answer.
_STRICT_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class FailureLog:
    """Logs upstream failures without flooding: the first one at once, then at most one summary line per
    INTERVAL_SECONDS while they last, and one line when recipe-api answers again."""

    INTERVAL_SECONDS = 5.0

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._failing = False
        self._suppressed = 0
        self._last_logged = 0.0

    def retrying(self, url: str, failure: BaseException) -> None:
        if self._log.isEnabledFor(logging.DEBUG):
            self._log.debug("retrying GET %s once after a connection failure: %s", url, _describe(failure))

    def failed(self, error: UpstreamError) -> None:
        now = time.monotonic()
        if not self._failing or now - self._last_logged >= self.INTERVAL_SECONDS:
            more = f" ({self._suppressed} more failures since the last line)" if self._suppressed else ""
            self._log.warning("upstream failure, answering %s %s: %s%s", error.status, error.code, error.detail, more)
            self._failing = True
            self._suppressed = 0
            self._last_logged = now
        else:
            self._suppressed += 1

    def succeeded(self) -> None:
        if self._failing:
            more = f" ({self._suppressed} more failures since the last line)" if self._suppressed else ""
            self._log.info("recipe-api answers again%s", more)
            self._failing = False
            self._suppressed = 0
