"""The images' configuration as `docker image inspect` reports it: user, port, environment, command, labels."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.containers.services import SERVICES, Service
from tests.support import docker

pytestmark = pytest.mark.docker

by_service = pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)


@pytest.fixture(scope="module")
def configs(images: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {name: docker.inspect_image(tag)["Config"] for name, tag in images.items()}


def environment(config: dict[str, Any]) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in config["Env"] or [])


@by_service
def test_user_is_a_numeric_non_root_uid_and_gid(configs: dict, service: Service) -> None:
    user = configs[service.name]["User"]
    # Kubernetes' runAsNonRoot can only verify a numeric user.
    assert re.fullmatch(r"\d+:\d+", user), f"{service.name}: USER is {user!r}, expected numeric uid:gid"
    uid, gid = (int(part) for part in user.split(":"))
    assert uid != 0 and gid != 0, f"{service.name}: USER {user} is root"


@by_service
def test_exposes_exactly_its_own_port(configs: dict, service: Service) -> None:
    config = configs[service.name]
    assert list(config["ExposedPorts"] or {}) == [f"{service.port}/tcp"]
    assert environment(config)["PORT"] == str(service.port)


@by_service
def test_environment_listens_on_all_interfaces_with_unbuffered_output(configs: dict, service: Service) -> None:
    env = environment(configs[service.name])
    assert env["HOST"] == "0.0.0.0"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"


@by_service
def test_command_is_exec_form_so_the_server_is_pid_1(configs: dict, service: Service) -> None:
    config = configs[service.name]
    assert not config["Entrypoint"], f"{service.name}: unexpected ENTRYPOINT {config['Entrypoint']}"
    assert config["Cmd"] == ["/opt/venv/bin/python", "-m", service.package]


@by_service
def test_carries_oci_title_and_description(configs: dict, service: Service) -> None:
    labels = configs[service.name]["Labels"] or {}
    assert labels.get("org.opencontainers.image.title") == service.name
    assert labels.get("org.opencontainers.image.description")
