"""`python -m web_api`: read the settings from the environment, then serve until SIGTERM/SIGINT."""

from __future__ import annotations

import os
import sys

from web_api import SERVICE_NAME, envconfig, settings


def main() -> int:
    try:
        config = settings.load(os.environ)
    except envconfig.ConfigError as error:
        print(f"{SERVICE_NAME}: configuration error: {error}", file=sys.stderr)
        return 2

    # Imported only once the settings are valid: a bad value is reported without paying for the web stack.
    import uvloop

    from web_api import logs, serving
    from web_api.app import WebApi

    log = logs.configure(SERVICE_NAME, config.log_level)
    return uvloop.run(serving.serve(
        WebApi(config, log), host=config.host, port=config.port, version=config.version,
        shutdown_delay=config.shutdown_delay, access_log=config.log_level == "DEBUG", log=log,
    ))


if __name__ == "__main__":
    sys.exit(main())
