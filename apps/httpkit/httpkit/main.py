"""`python -m <service>`: read the settings from the environment, then serve until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import os
import sys
from typing import Callable, Mapping, TypeVar

from httpkit import envconfig

SettingsT = TypeVar("SettingsT", bound=envconfig.ServerSettings)


def run(service_name: str, load_settings: Callable[[Mapping[str, str]], SettingsT],
        build_service: Callable[[SettingsT, logging.Logger], object]) -> int:
    """Returns the exit code: 0 after a graceful stop, 1 when the port cannot be bound, 2 on bad configuration."""
    try:
        config = load_settings(os.environ)
    except envconfig.ConfigError as error:
        print(f"{service_name}: configuration error: {error}", file=sys.stderr)
        return 2

    # Imported only once the settings are valid: a bad value is reported without paying for the web stack.
    import uvloop

    from httpkit import logs, serving

    log = logs.configure(service_name, config.log_level)
    return uvloop.run(serving.serve(build_service(config, log), config, log=log))  # type: ignore[arg-type]
