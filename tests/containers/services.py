"""The two services as the container tests see them (build context, Dockerfile, package, the port the image sets)
and the chain."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.support.docker import Container
from tests.support.http import http_get
from tests.support.wait import wait_until

READY_TIMEOUT_SECONDS = 20.0

REPO = Path(__file__).resolve().parents[2]
# Both images build from apps/ (it holds the shared HTTP package, httpkit), each with its own Dockerfile.
APPS = REPO / "apps"


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    port: int

    @property
    def context(self) -> Path:
        return APPS

    def dockerfile(self, context: Path = APPS) -> Path:
        return context / self.name / "Dockerfile"


RECIPE_API = Service("recipe-api", "recipe_api", 4000)
WEB_API = Service("web-api", "web_api", 3000)
SERVICES = (RECIPE_API, WEB_API)


@dataclass(frozen=True)
class Chain:
    """The running pair: containers, their published base URLs on 127.0.0.1, and the APP_VERSION each was given."""

    recipe_api: Container
    web_api: Container
    recipe_api_url: str
    web_api_url: str
    recipe_api_version: str
    web_api_version: str


def wait_ready(container: Container, base_url: str) -> None:
    """Wait for GET /ready to answer 200; on timeout the error carries the container's state and logs."""
    try:
        wait_until(
            lambda: http_get(f"{base_url}/ready", timeout=2).status == 200,
            timeout=READY_TIMEOUT_SECONDS,
            what=f"{container.name} to answer 200 on {base_url}/ready",
        )
    except AssertionError as error:
        raise AssertionError(f"{error}\n{container.describe()}") from None
