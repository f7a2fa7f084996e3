"""web-api's routes. GET / splices recipe-api's body, checked to be a JSON object, into web-api's own answer
rather than decoding and re-encoding it."""

from __future__ import annotations

import json
import logging
import os

from httpkit import responses
from httpkit.httpserver import Response
from httpkit.routing import Router
from httpkit.serving import Readiness, router_with_probes

from web_api.client import RecipeApiClient, UpstreamError

RECIPE_PATH = "/recipes/42"


def encode_body_prefix(version: str) -> bytes:
    """Everything of GET /'s body before recipe-api's answer: it depends only on the pid and the version."""
    return b'{"consumer_pid":%d,"consumer_version":%s,"producer_data":' % (os.getpid(), json.dumps(version).encode())


def build_router(client: RecipeApiClient, version: str, readiness: Readiness, log: logging.Logger) -> Router:
    body_prefix = encode_body_prefix(version)

    async def index() -> Response:
        try:
            producer_body = await client.get_json_object(RECIPE_PATH)
        except UpstreamError as error:
            # The detail (recipe-api's address, part of its answer) goes to the log only, never to a client.
            return responses.error(error.status, error.code)
        return Response(200, body_prefix + producer_body + b"}")

    router = router_with_probes(readiness)
    router.get("/", index)
    return router
