"""recipe-api as a service for `serving`: its routes over the catalogue, and a readiness flag."""

from __future__ import annotations

from typing import Any, Mapping

from httpkit.routing import Answer
from httpkit.serving import Readiness

from recipe_api import routes
from recipe_api.recipes import RECIPES


class RecipeApi:
    def __init__(self, version: str, recipes: Mapping[int, Mapping[str, Any]] = RECIPES) -> None:
        self.readiness = Readiness()
        self._router = routes.build_router(routes.encode_recipe_answers(recipes, version), self.readiness)

    def dispatch(self, method: str, path: str) -> Answer:
        return self._router.dispatch(method, path)

    async def start(self) -> None:
        pass  # nothing to open: the answers are built in __init__

    async def close(self) -> None:
        pass
