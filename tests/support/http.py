"""A tiny HTTP client for tests: never raises on an HTTP status, always bounded by a timeout."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class HttpResult:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()


def http_get(url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 5.0) -> HttpResult:
    """GET `url`. Returns the status and body for any HTTP answer; raises OSError only when no answer came."""
    request = urllib.request.Request(url, headers=dict(headers or {}), method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResult(response.status, response.read(), _lower(response.headers))
    except urllib.error.HTTPError as error:
        with error:
            return HttpResult(error.code, error.read(), _lower(error.headers))
    except urllib.error.URLError as error:
        reason = error.reason
        raise reason if isinstance(reason, OSError) else OSError(str(reason)) from error


def _lower(headers: Any) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()} if headers is not None else {}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
