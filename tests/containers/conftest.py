"""Session fixtures for the container tests: both images built once, and the chain running on a private network.

Image policy: each run builds under its own tags (`recipes-test/<service>:<session>`) and removes those tags at the
end with `docker image rm --no-prune`, which keeps the untagged parent layers. Those layers are the legacy
builder's cache, so the next run rebuilds in seconds; `docker image prune` reclaims them (BuildKit keeps its cache
apart from images: `docker builder prune`).
Containers and networks are always removed, also when a test fails.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import pytest

from tests.containers.services import RECIPE_API, SERVICES, WEB_API, Chain, wait_ready
from tests.support import docker

@pytest.fixture(scope="session")
def docker_engine() -> None:
    problem = docker.engine_problem()
    if problem is None:
        return
    message = f"the container tests need a Docker Engine: {problem}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def session_id(docker_engine: None) -> str:
    return docker.new_session_id()


@pytest.fixture(scope="session")
def images(session_id: str) -> Iterator[dict[str, str]]:
    """Service name -> image tag, both built from the working tree on RECIPES_BASE_IMAGE."""
    tags = {service.name: f"recipes-test/{service.name}:{session_id}" for service in SERVICES}
    build_args = {"BASE_IMAGE": docker.base_image()}
    try:
        with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
            builds = [
                pool.submit(docker.build_image, service.context, tags[service.name], build_args=build_args,
                            dockerfile=service.dockerfile())
                for service in SERVICES
            ]
            for build in builds:
                try:
                    build.result()
                except docker.DockerError as error:
                    pytest.fail(str(error), pytrace=False)
        yield tags
    finally:
        for tag in tags.values():
            docker.remove_image_tag(tag)


@pytest.fixture(scope="session")
def network(session_id: str) -> Iterator[str]:
    name = f"recipes-test-{session_id}"
    docker.create_network(name, session_id)
    try:
        yield name
    finally:
        docker.remove_network(name)


@pytest.fixture
def containers(session_id: str) -> Iterator[docker.ContainerSet]:
    """Containers for one test; all removed when it ends, whatever the outcome."""
    container_set = docker.ContainerSet(session_id, prefix=f"recipes-test-{session_id}")
    try:
        yield container_set
    finally:
        container_set.remove_all()


@pytest.fixture(scope="session")
def chain(session_id: str, images: dict[str, str], network: str) -> Iterator[Chain]:
    """web-api -> recipe-api, both hardened as in Kubernetes: read-only root, no capabilities, no-new-privileges.

    recipe-api is reached by web-api through the network alias `recipe-api`; both publish on random 127.0.0.1 ports
    (recipe-api's only so the test can compare web-api's producer_data with recipe-api's own answer).
    """
    container_set = docker.ContainerSet(session_id, prefix=f"recipes-test-{session_id}-chain")
    versions = {RECIPE_API.name: f"producer-{session_id}", WEB_API.name: f"consumer-{session_id}"}
    try:
        recipe_api = container_set.run(
            images[RECIPE_API.name], RECIPE_API.name, network=network, alias="recipe-api",
            publish=RECIPE_API.port, env={"APP_VERSION": versions[RECIPE_API.name]},
        )
        web_api = container_set.run(
            images[WEB_API.name], WEB_API.name, network=network, publish=WEB_API.port,
            env={"APP_VERSION": versions[WEB_API.name], "RECIPE_API_URL": f"http://recipe-api:{RECIPE_API.port}"},
        )
        recipe_api_url = f"http://127.0.0.1:{recipe_api.published_port(RECIPE_API.port)}"
        web_api_url = f"http://127.0.0.1:{web_api.published_port(WEB_API.port)}"
        wait_ready(recipe_api, recipe_api_url)
        wait_ready(web_api, web_api_url)
        yield Chain(recipe_api, web_api, recipe_api_url, web_api_url,
                    versions[RECIPE_API.name], versions[WEB_API.name])
    finally:
        container_set.remove_all()
