"""JSON answers shared by the routes: every answer, errors included, is JSON.
"""

from __future__ import annotations

import json
from typing import Any

from .httpserver import Response


def encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def error(status: int, code: str, **details: Any) -> Response:
    return Response(status, encode({"error": code, **details}))


def not_found(path: str) -> Response:
    return error(404, "not_found", path=path)


ALLOWED_METHODS = ("GET", "HEAD")
_ALLOW_HEADER = b"Allow: " + ", ".join(ALLOWED_METHODS).encode() + b"\r\n"


def method_not_allowed(method: str) -> Response:
    body = encode({"error": "method_not_allowed", "method": method, "allowed": list(ALLOWED_METHODS)})
    return Response(405, body, _ALLOW_HEADER)
