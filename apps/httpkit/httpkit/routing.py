"""Routing for GET-only JSON APIs: exact paths and one-segment-below-a-prefix paths ("/recipes/{id}").
Other methods on a known path get a JSON 405; unknown paths a JSON 404.
"""

from __future__ import annotations

from typing import Awaitable, Callable, Union

from . import responses
from .httpserver import Response

Answer = Union[Response, Awaitable[Response]]


class Router:
    def __init__(self) -> None:
        self._exact: dict[str, Callable[[], Answer]] = {}
        self._prefixed: list[tuple[str, Callable[[str], Answer]]] = []

    def get(self, path: str, handler: Callable[[], Answer]) -> None:
        self._exact[path] = handler

    def get_below(self, prefix: str, handler: Callable[[str], Answer]) -> None:
        """Route prefix + one non-empty path segment to handler(segment)."""
        self._prefixed.append((prefix, handler))

    def dispatch(self, method: str, path: str) -> Answer:
        handler = self._exact.get(path)
        if handler is not None:
            return handler() if method == "GET" or method == "HEAD" else responses.method_not_allowed(method)
        for prefix, segment_handler in self._prefixed:
            if path.startswith(prefix):
                segment = path[len(prefix):]
                if segment and "/" not in segment:
                    if method == "GET" or method == "HEAD":
                        return segment_handler(segment)
                    return responses.method_not_allowed(method)
        return responses.not_found(path)
