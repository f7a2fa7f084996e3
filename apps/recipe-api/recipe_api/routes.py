"""recipe-api's routes. Recipe bodies are encoded once at startup: they depend only on the pid, the version
and the catalogue, so a request costs a dictionary lookup rather than a JSON encoding."""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

from httpkit import responses
from httpkit.httpserver import Response
from httpkit.routing import Router
from httpkit.serving import Readiness, router_with_probes

# An id longer than this cannot name a recipe (ids are 64-bit at most) and is refused before int() parses it.
MAX_ID_DIGITS = 18
_INTEGER = re.compile(r"-?[0-9]+")


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
        answer = recipe_answers.get(int(raw_id))
        # Like the 400, the 404 names the id it could not find.
        return answer if answer is not None else responses.error(404, "not_found", id=raw_id)

    router = router_with_probes(readiness)
    router.get_below("/recipes/", get_recipe)
    return router
