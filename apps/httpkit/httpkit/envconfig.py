"""Parsing of environment variables into typed settings, with one clear message per bad value.

Standard library only, so a bad value is reported before the web stack is even imported.
`server_settings` reads the variables every service built on httpkit shares; a service adds its own.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


class ConfigError(Exception):
    """A setting has a value the service cannot run with. The message names the variable, the value and the rule."""

    def __init__(self, name: str, value: str, allowed: str) -> None:
        super().__init__(f"{name}={value!r} is not valid: {allowed}")
        self.name = name
        self.value = value


def text(env: Mapping[str, str], name: str, default: str) -> str:
    """The variable's value; unset or empty means the default (an empty value in a manifest is a common slip)."""
    value = env.get(name, "")
    return value if value.strip() else default


def host(env: Mapping[str, str], name: str, default: str) -> str:
    value = text(env, name, default)
    if any(character.isspace() for character in value) or "/" in value:
        raise ConfigError(name, value, "expected an IP address or host name to listen on, e.g. 0.0.0.0 or 127.0.0.1")
    return value


def port(env: Mapping[str, str], name: str, default: int) -> int:
    value = text(env, name, str(default))
    if not value.strip().isascii() or not value.strip().isdigit() or not 1 <= int(value) <= 65535:
        raise ConfigError(name, value, "expected a TCP port, an integer from 1 to 65535")
    return int(value)


def seconds(env: Mapping[str, str], name: str, default: float, *, minimum: float, maximum: float,
            allow_zero: bool) -> float:
    value = text(env, name, str(default))
    lowest = "0" if allow_zero else f"above {minimum:g}"
    allowed = f"expected a number of seconds from {lowest} to {maximum:g}, e.g. {default:g}"
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(name, value, allowed) from None
    too_low = number < minimum if allow_zero else number <= minimum
    if not math.isfinite(number) or too_low or number > maximum:
        raise ConfigError(name, value, allowed)
    return number


def log_level(env: Mapping[str, str], name: str, default: str) -> str:
    value = text(env, name, default)
    level = value.strip().upper()
    if level == "WARN":
        level = "WARNING"
    if level not in LOG_LEVELS:
        raise ConfigError(name, value, f"expected one of {', '.join(LOG_LEVELS)} (any case)")
    return level


def version(env: Mapping[str, str], name: str, default: str) -> str:
    value = text(env, name, default)
    if not _VERSION_PATTERN.fullmatch(value):
        raise ConfigError(name, value, "expected 1 to 128 letters, digits or . _ + - (an image tag such as v1 or 1.2.3)")
    return value


def http_url(env: Mapping[str, str], name: str, default: str) -> str:
    """A plain-HTTP base URL with a host and no query or fragment, returned without a trailing slash.
    (Traffic between the services stays inside the cluster; TLS there is the service mesh's job.)"""
    value = text(env, name, default)
    allowed = "expected an http:// base URL with a host, e.g. http://recipe-api:4000"
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(name, value, allowed) from None
    if parts.scheme != "http" or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(name, value, allowed)
    if any(character.isspace() for character in value.strip()):
        raise ConfigError(name, value, allowed)
    return value.strip().rstrip("/")


# The header timeout may be shortened (tests do), not lengthened past what the README promises.
MAX_HEADER_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    version: str
    log_level: str
    shutdown_delay: float
    header_timeout: float


def server_settings(env: Mapping[str, str], *, default_port: int) -> ServerSettings:
    """The variables every service shares. Raises ConfigError naming the first bad variable."""
    return ServerSettings(
        host=host(env, "HOST", "127.0.0.1"),
        port=port(env, "PORT", default_port),
        version=version(env, "APP_VERSION", "dev"),
        log_level=log_level(env, "LOG_LEVEL", "INFO"),
        shutdown_delay=seconds(env, "SHUTDOWN_DELAY_SECONDS", 0, minimum=0, maximum=120, allow_zero=True),
        header_timeout=seconds(env, "HEADER_TIMEOUT_SECONDS", MAX_HEADER_TIMEOUT_SECONDS, minimum=0,
                               maximum=MAX_HEADER_TIMEOUT_SECONDS, allow_zero=False),
    )
