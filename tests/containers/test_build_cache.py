"""The build context and layer order: clutter beside the code changes nothing, a code change keeps the venv layer.

Each test builds copies of a service's context (the working tree is never modified) on the same base, tagged after
the session's images and removed at the end.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.containers.services import SERVICES, Service
from tests.support import docker

pytestmark = pytest.mark.docker

by_service = pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)


@pytest.fixture
def build_copy(images: dict[str, str], tmp_path: Path) -> Iterator:
    """build_copy(service, label, edit) -> image id: build a copy of the service's context after `edit(copy_dir)`."""
    tags: list[str] = []

    def build(service: Service, label: str, edit=lambda context: None) -> str:
        context = tmp_path / label / service.name
        shutil.copytree(service.context, context)
        edit(context)
        tag = f"{images[service.name]}-{label}"
        tags.append(tag)
        docker.build_image(context, tag, build_args={"BASE_IMAGE": docker.base_image()})
        return docker.inspect_image(tag)["Id"]

    try:
        yield build
    finally:
        for tag in reversed(tags):
            docker.remove_image(tag)


def add_clutter(service: Service):
    def edit(context: Path) -> None:
        package = context / service.package
        (package / "__pycache__").mkdir(exist_ok=True)
        (package / "__pycache__" / "stale.cpython-311.pyc").write_bytes(b"not bytecode")
        (package / ".routes.py.swp").write_bytes(b"vim swap")
        (package / "app.py~").write_text("editor backup\n")
        (context / "tests").mkdir()
        (context / "tests" / "test_local.py").write_text("def test_local(): pass\n")
        (context / ".venv" / "bin").mkdir(parents=True)
        (context / ".venv" / "bin" / "python").write_text("#!/bin/sh\n")
        (context / ".pytest_cache").mkdir()
        (context / "notes.md").write_text("scratch\n")
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
        with (context / service.package / "__init__.py").open("a") as module:
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
