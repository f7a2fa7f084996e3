"""web-api as a service for `serving`: its routes, a readiness flag, and the recipe-api client pool, opened
before the listener and closed once the last in-flight request has finished."""

from __future__ import annotations

import logging

from httpkit.routing import Answer
from httpkit.serving import Readiness

from web_api import routes
from web_api.client import RecipeApiClient
from web_api.settings import Settings


class WebApi:
    def __init__(self, settings: Settings, log: logging.Logger) -> None:
        self.readiness = Readiness()
        self._log = log
        self._client = RecipeApiClient(settings.recipe_api_url, settings.recipe_api_timeout, log)
        self._router = routes.build_router(self._client, settings.version, self.readiness, log)

    def dispatch(self, method: str, path: str) -> Answer:
        return self._router.dispatch(method, path)

    async def start(self) -> None:
        await self._client.start()

    async def close(self) -> None:
        await self._client.close()
        self._log.info("closed the recipe-api client pool")
