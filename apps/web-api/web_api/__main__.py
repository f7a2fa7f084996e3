"""`python -m web_api`: read the settings from the environment, then serve until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import sys

from httpkit import main as httpkit_main

from web_api import SERVICE_NAME, settings


def build(config: settings.Settings, log: logging.Logger) -> object:
    from web_api.app import WebApi  # the web stack is imported only once the settings are valid

    return WebApi(config, log)


if __name__ == "__main__":
    sys.exit(httpkit_main.run(SERVICE_NAME, settings.load, build))
