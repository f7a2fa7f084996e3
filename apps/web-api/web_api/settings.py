"""web-api's settings, read once from the environment at startup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from web_api import envconfig


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    version: str
    log_level: str
    shutdown_delay: float
    recipe_api_url: str
    recipe_api_timeout: float


def load(env: Mapping[str, str]) -> Settings:
    """Raises envconfig.ConfigError naming the first bad variable."""
    return Settings(
        host=envconfig.host(env, "HOST", "127.0.0.1"),
        port=envconfig.port(env, "PORT", 3000),
        version=envconfig.version(env, "APP_VERSION", "dev"),
        log_level=envconfig.log_level(env, "LOG_LEVEL", "INFO"),
        shutdown_delay=envconfig.seconds(env, "SHUTDOWN_DELAY_SECONDS", 0, minimum=0, maximum=120, allow_zero=True),
        recipe_api_url=envconfig.http_url(env, "RECIPE_API_URL", "http://127.0.0.1:4000"),
        recipe_api_timeout=envconfig.seconds(env, "RECIPE_API_TIMEOUT_SECONDS", 2, minimum=0, maximum=60,
                                             allow_zero=False),
    )
