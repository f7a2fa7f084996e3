"""Container lifecycle: `docker stop` drains and exits 0 promptly; serving writes nothing to the root filesystem."""

from __future__ import annotations

import pytest

from tests.containers.services import RECIPE_API, SERVICES, WEB_API, Chain, Service, wait_ready
from tests.support import docker
from tests.support.http import http_get

pytestmark = pytest.mark.docker

by_service = pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
# Generous on purpose: this checks behaviour (SIGTERM handled, no SIGKILL after docker's grace period), not speed.
STOP_BOUND_SECONDS = 8.0
SHUTDOWN_DELAY_SECONDS = 1


def service_env(service: Service) -> dict[str, str]:
    env = {"APP_VERSION": "lifecycle"}
    if service is WEB_API:
        env["RECIPE_API_URL"] = f"http://recipe-api:{RECIPE_API.port}"
    return env


@by_service
def test_docker_stop_waits_the_shutdown_delay_then_exits_zero(
    images: dict[str, str], network: str, containers: docker.ContainerSet, service: Service
) -> None:
    container = containers.run(
        images[service.name], service.name, network=network, publish=service.port,
        env={**service_env(service), "SHUTDOWN_DELAY_SECONDS": str(SHUTDOWN_DELAY_SECONDS)},
    )
    wait_ready(container, f"http://127.0.0.1:{container.published_port(service.port)}")

    elapsed, exit_code = container.stop(grace_seconds=10)

    # Exit 0 rather than 137: the server handled SIGTERM itself, before docker's grace period ran out.
    assert exit_code == 0, container.describe()
    assert SHUTDOWN_DELAY_SECONDS <= elapsed < STOP_BOUND_SECONDS, f"docker stop took {elapsed:.1f}s"


@by_service
def test_serving_and_stopping_write_nothing_to_the_root_filesystem(
    images: dict[str, str], network: str, chain: Chain, containers: docker.ContainerSet, service: Service
) -> None:
    # Deliberately not read-only: `docker diff` then shows any write the service would attempt in production.
    container = containers.run(
        images[service.name], service.name, network=network, publish=service.port, hardened=False,
        env=service_env(service),
    )
    base_url = f"http://127.0.0.1:{container.published_port(service.port)}"
    wait_ready(container, base_url)
    paths = ["/", "/health"] if service is WEB_API else ["/recipes/42", "/recipes/7", "/recipes/abc", "/health"]
    for path in paths:
        http_get(base_url + path)
    assert http_get(base_url + paths[0]).status == 200, container.describe()

    _, exit_code = container.stop(grace_seconds=10)

    assert exit_code == 0, container.describe()
    assert container.changes() == []
