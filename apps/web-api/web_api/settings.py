"""web-api's settings, read once from the environment at startup: httpkit's shared ones and the upstream's."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

from httpkit import envconfig


@dataclass(frozen=True)
class Settings(envconfig.ServerSettings):
    recipe_api_url: str
    recipe_api_timeout: float


def load(env: Mapping[str, str]) -> Settings:
    """Raises envconfig.ConfigError naming the first bad variable."""
    shared = envconfig.server_settings(env, default_port=3000)
    return Settings(
        **{field.name: getattr(shared, field.name) for field in dataclasses.fields(shared)},
        recipe_api_url=envconfig.http_url(env, "RECIPE_API_URL", "http://127.0.0.1:4000"),
        recipe_api_timeout=envconfig.seconds(env, "RECIPE_API_TIMEOUT_SECONDS", 2, minimum=0, maximum=60,
                                             allow_zero=False),
    )
