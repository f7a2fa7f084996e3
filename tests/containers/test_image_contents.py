"""What is inside the images, checked by a probe script run with each image's own interpreter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.containers.services import SERVICES, Service
from tests.support import docker

pytestmark = pytest.mark.docker

by_service = pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
PROBE = (Path(__file__).parent / "image_probe.py").read_text()
INSTALLED = ("/app", "/opt/venv")


# Hardened like the services, except for a writable root filesystem: on a read-only one, access(W_OK) answers
# "not writable" (EROFS) whatever the permissions, and the ownership check below could never fail.
PROBE_HARDENING = [arg for arg in docker.HARDENED if arg != "--read-only"]


def probe(image: str, *, user: str | None) -> dict[str, Any]:
    """Run the probe in a throwaway, offline container of `image` (as `user`, or as the image's USER)."""
    user_args = ["--user", user] if user else []
    result = docker.docker(
        "run", "--rm", "--network", "none", *PROBE_HARDENING, *user_args,
        "--entrypoint", "/opt/venv/bin/python", image, "-c", PROBE, *INSTALLED,
        timeout=60,
    )
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def as_image_user(images: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {name: probe(tag, user=None) for name, tag in images.items()}


@pytest.fixture(scope="module")
def as_root(images: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Root sees everything (/root included), so this is the view for "what does the image contain"."""
    return {name: probe(tag, user="0:0") for name, tag in images.items()}


@by_service
def test_code_and_venv_belong_to_root_and_the_service_user_cannot_write_them(
    as_image_user: dict, service: Service
) -> None:
    facts = as_image_user[service.name]
    assert facts["uid"] != 0
    assert facts["not_owned_by_root"] == []
    assert facts["writable"] == []


@by_service
def test_no_packaging_tools_compilers_or_caches(as_root: dict, service: Service) -> None:
    facts = as_root[service.name]
    assert facts["venv"] == "/opt/venv"
    assert facts["packaging_tools"] == [], "pip/setuptools/wheel should not be importable from the venv"
    assert not [script for script in facts["venv_scripts"] if script.startswith(("pip", "easy_install", "wheel"))]
    assert facts["build_tools"] == {}
    assert facts["caches"] == []


@by_service
def test_every_module_is_precompiled_for_a_read_only_filesystem(as_root: dict, service: Service) -> None:
    assert as_root[service.name]["bytecode_problems"] == []
