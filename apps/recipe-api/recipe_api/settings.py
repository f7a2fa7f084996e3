"""recipe-api's settings, read once from the environment at startup: only the ones every httpkit service has."""

from __future__ import annotations

from typing import Mapping

from httpkit import envconfig

Settings = envconfig.ServerSettings


def load(env: Mapping[str, str]) -> Settings:
    """Raises envconfig.ConfigError naming the first bad variable."""
    return envconfig.server_settings(env, default_port=4000)
