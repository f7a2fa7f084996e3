"""The build context and layer order: clutter beside the code changes nothing, a code change keeps the venv layer,
and each Dockerfile copies exactly its requirements, its package and the shared httpkit package.

Each test builds copies of the shared context, apps/ (the working tree is never modified), on the same base, tagged
after the session's images and removed at the end.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.containers.services import APPS, SERVICES, Service
from tests.support import docker

pytestmark = pytest.mark.docker

by_service = pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)


@pytest.fixture
def build_copy(images: dict[str, str], tmp_path: Path) -> Iterator:
    """build_copy(service, label, edit) -> image id: build the service from a copy of apps/ after `edit(copy_dir)`."""
    tags: list[str] = []

    def build(service: Service, label: str, edit=lambda context: None) -> str:
        context = tmp_path / label / "apps"
        shutil.copytree(service.context, context, ignore=shutil.ignore_patterns("__pycache__"))
        edit(context)
        tag = f"{images[service.name]}-{label}"
        tags.append(tag)
        docker.build_image(context, tag, build_args={"BASE_IMAGE": docker.base_image()},
                           dockerfile=service.dockerfile(context))
        return docker.inspect_image(tag)["Id"]

    try:
        yield build
    finally:
        for tag in reversed(tags):
            docker.remove_image(tag)


def add_clutter(service: Service):
    def edit(context: Path) -> None:
        for package in (context / service.name / service.package, context / "httpkit" / "httpkit"):
            (package / "__pycache__").mkdir(exist_ok=True)
            (package / "__pycache__" / "stale.cpython-311.pyc").write_bytes(b"not bytecode")
            (package / ".routes.py.swp").write_bytes(b"vim swap")
            (package / "app.py~").write_text("editor backup\n")
        for folder in (context, context / service.name, context / "httpkit"):
            (folder / "tests").mkdir()
            (folder / "tests" / "test_local.py").write_text("def test_local(): pass\n")
            (folder / ".venv" / "bin").mkdir(parents=True)
            (folder / ".venv" / "bin" / "python").write_text("#!/bin/sh\n")
            (folder / ".pytest_cache").mkdir()
            (folder / "notes.md").write_text("scratch\n")
        # What belongs to the other service, or to httpkit's packaging, is not this image's either.
        other = next(other for other in SERVICES if other is not service)
        (context / other.name / other.package / "routes.py").write_text("# changed\n")
        (context / other.name / "requirements.txt").write_text("# changed\n")
        (context / "httpkit" / "pyproject.toml").write_text("# changed\n")
    return edit


@by_service
def test_tests_caches_venvs_and_editor_files_stay_out_of_the_image(build_copy, service: Service) -> None:
    clean = build_copy(service, "clean")
    cluttered = build_copy(service, "clutter", add_clutter(service))
    # Same image id: nothing of the clutter reached any layer (and the build cache was hit throughout).
    assert cluttered == clean


@by_service
def test_a_code_change_rebuilds_only_the_code_layers(build_copy, service: Service) -> None:
    def change_code(context: Path) -> None:
        with (context / service.name / service.package / "__init__.py").open("a") as module:
            module.write("# a code-only change\n")

    before = docker.inspect_image(build_copy(service, "before"))["RootFS"]["Layers"]
    after = docker.inspect_image(build_copy(service, "after", change_code))["RootFS"]["Layers"]
    base_layers = docker.inspect_image(docker.base_image())["RootFS"]["Layers"]

    shared = 0
    while shared < min(len(before), len(after)) and before[shared] == after[shared]:
        shared += 1
    assert len(before) == len(after)
    # Base and venv are reused byte for byte; only the code and its bytecode (the last two layers) are new.
    assert shared > len(base_layers), "the venv layer was rebuilt by a code-only change"
    assert len(after) - shared <= 2, f"a code-only change rebuilt {len(after) - shared} layers"


_COPY = re.compile(r"^COPY\s+(?!--from)(\S+)\s+(\S+)\s*$", re.MULTILINE)


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_each_dockerfile_copies_exactly_its_requirements_its_package_and_httpkit(service: Service) -> None:
    """What goes into an image is what stack/image_refs.py hashes into its reference: nothing more may be copied."""
    copied = [source for source, _ in _COPY.findall(service.dockerfile().read_text())]

    assert copied == [f"{service.name}/requirements.txt", "httpkit/httpkit/", f"{service.name}/{service.package}/"]
    assert "\nADD " not in service.dockerfile().read_text()


def test_the_shared_context_lets_in_only_what_the_dockerfiles_copy() -> None:
    allowed = [line for line in (APPS / ".dockerignore").read_text().splitlines() if line.startswith("!")]

    expected = ["!httpkit/httpkit/"] + [f"!{service.name}/{part}" for service in SERVICES
                                        for part in ("requirements.txt", f"{service.package}/")]
    assert sorted(allowed) == sorted(expected)
