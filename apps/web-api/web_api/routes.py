"""web-api's routes. GET / splices recipe-api's body, checked to be a JSON object, into web-api's own answer
rather than decoding and re-encoding it."""

from __future__ import annotations

import json
import logging
import os

from web_api import responses
from web_api.client import RecipeApiClient, UpstreamError
from web_api.httpserver import Response
from web_api.routing import Router
from web_api.serving import Readiness

RECIPE_PATH = "/recipes/42"

HEALTHY = Response(200, responses.encode({"status": "ok"}))
READY = Response(200, responses.encode({"status": "ready"}))
SHUTTING_DOWN = Response(503, responses.encode({"status": "shutting_down"}))


def encode_body_prefix(version: str) -> bytes:
    """Everything of GET /'s body before recipe-api's answer: it depends only on the pid and the version."""
    return b'{"consumer_pid":%d,"consumer_version":%s,"producer_data":' % (os.getpid(), json.dumps(version).encode())


def build_router(client: RecipeApiClient, version: str, readiness: Readiness, log: logging.Logger) -> Router:
    body_prefix = encode_body_prefix(version)

    async def index() -> Response:
        try:
            producer_body = await client.get_json_object(RECIPE_PATH)
        except UpstreamError as error:
            return responses.error(error.status, error.code, detail=error.detail)
        return Response(200, body_prefix + producer_body + b"}")

    def ready() -> Response:
        return SHUTTING_DOWN if readiness.shutting_down else READY

    router = Router()
    router.get("/", index)
    router.get("/health", lambda: HEALTHY)
    router.get("/ready", ready)
    return router
