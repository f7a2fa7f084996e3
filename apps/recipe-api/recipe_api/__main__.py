"""`python -m recipe_api`: read the settings from the environment, then serve until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import sys

from httpkit import main as httpkit_main

from recipe_api import SERVICE_NAME, settings


def build(config: settings.Settings, log: logging.Logger) -> object:
    from recipe_api.app import RecipeApi  # the web stack is imported only once the settings are valid

    return RecipeApi(config.version)


if __name__ == "__main__":
    sys.exit(httpkit_main.run(SERVICE_NAME, settings.load, build))
