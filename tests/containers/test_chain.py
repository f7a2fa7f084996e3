"""The chain in containers: web-api -> recipe-api over a user-defined network, both hardened as in Kubernetes."""

from __future__ import annotations

import pytest

from tests.containers.services import RECIPE_API, SERVICES, Chain, Service
from tests.support import docker
from tests.support.http import http_get

pytestmark = pytest.mark.docker

by_service = pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
EXPECTED_RECIPE = {
    "id": 42,
    "name": "Chicken Tikka Masala",
    "steps": "Throw it in a pot...",
    "ingredients": [
        {"id": 1, "name": "Chicken", "quantity": "1 lb"},
        {"id": 2, "name": "Sauce", "quantity": "2 cups"},
    ],
}


def container_of(chain: Chain, service: Service) -> docker.Container:
    return chain.recipe_api if service is RECIPE_API else chain.web_api


def test_containers_run_read_only_without_capabilities_or_privilege_escalation(chain: Chain) -> None:
    for container in (chain.recipe_api, chain.web_api):
        host_config = container.inspect()["HostConfig"]
        assert host_config["ReadonlyRootfs"] is True
        assert host_config["CapDrop"] == ["ALL"]
        assert "no-new-privileges" in host_config["SecurityOpt"]


def test_web_api_returns_recipe_api_answer_through_the_network_alias(chain: Chain) -> None:
    direct = http_get(f"{chain.recipe_api_url}/recipes/42")
    assert direct.status == 200, direct.body
    response = http_get(f"{chain.web_api_url}/")
    assert response.status == 200, response.body
    assert response.content_type == "application/json"
    body = response.json()

    assert set(body) == {"consumer_pid", "consumer_version", "producer_data"}
    assert body["consumer_version"] == chain.web_api_version
    assert body["producer_data"] == direct.json()
    assert body["producer_data"]["producer_version"] == chain.recipe_api_version
    assert body["producer_data"]["recipe"] == EXPECTED_RECIPE
    # Exec-form CMD: each server is its container's first process.
    assert body["consumer_pid"] == 1
    assert body["producer_data"]["producer_pid"] == 1


@by_service
def test_pid_1_is_the_server_running_as_the_image_user(chain: Chain, service: Service) -> None:
    container = container_of(chain, service)
    uid, gid = (int(part) for part in container.inspect()["Config"]["User"].split(":"))
    # Read by a process exec'd into the container: PID 1's own credentials, not the exec'd process's.
    status = container.exec("/opt/venv/bin/python", "-c", "print(open('/proc/1/status').read())")
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    assert fields["Uid"].split() == [str(uid)] * 4, fields["Uid"]
    assert fields["Gid"].split() == [str(gid)] * 4, fields["Gid"]
    assert fields["CapEff"].strip() == "0000000000000000"
    cmdline = container.exec("/opt/venv/bin/python", "-c", "print(open('/proc/1/cmdline').read().replace('\\0', ' '))")
    assert cmdline.split() == ["/opt/venv/bin/python", "-m", service.package]


@by_service
def test_startup_line_reaches_stdout_while_the_server_runs(chain: Chain, service: Service) -> None:
    container = container_of(chain, service)
    version = chain.recipe_api_version if service is RECIPE_API else chain.web_api_version
    stdout = container.stdout()
    assert f"version={version} listening on http://0.0.0.0:{service.port} pid=1" in stdout, container.describe()

