"""recipe-api's routes. Recipe bodies are encoded once at startup: they depend only on the pid, the version
and the catalogue, so a request costs a dictionary lookup rather than a JSON encoding."""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

from recipe_api import responses
from recipe_api.httpserver import Response
from recipe_api.routing import Router
from recipe_api.serving import Readiness

# An id longer than this cannot name a recipe (ids are 64-bit at most) and is refused before int() parses it.
MAX_ID_DIGITS = 18
_INTEGER = re.compile(r"-?[0-9]+")

HEALTHY = Response(200, responses.encode({"status": "ok"}))
READY = Response(200, responses.encode({"status": "ready"}))
SHUTTING_DOWN = Response(503, responses.encode({"status": "shutting_down"}))
RECIPE_NOT_FOUND = responses.error(404, "not_found")


def encode_recipe_answers(recipes: Mapping[int, Mapping[str, Any]], version: str) -> dict[int, Response]:
    pid = os.getpid()
    return {
        recipe_id: Response(200, responses.encode({"producer_pid": pid, "producer_version": version,
                                                   "recipe": recipe}))
        for recipe_id, recipe in recipes.items()
    }


def build_router(recipe_answers: Mapping[int, Response], readiness: Readiness) -> Router:
    def get_recipe(raw_id: str) -> Response:
        if not _INTEGER.fullmatch(raw_id):
            return responses.error(400, "invalid_id", detail="the recipe id must be an integer", id=raw_id[:40])
        if len(raw_id.lstrip("-")) > MAX_ID_DIGITS:
            return responses.error(400, "invalid_id", detail=f"the recipe id has more than {MAX_ID_DIGITS} digits",
                                   id=raw_id[:40])
        return recipe_answers.get(int(raw_id), RECIPE_NOT_FOUND)

    def ready() -> Response:
        return SHUTTING_DOWN if readiness.shutting_down else READY

    router = Router()
    router.get_below("/recipes/", get_recipe)
    router.get("/health", lambda: HEALTHY)
    router.get("/ready", ready)
    return router
