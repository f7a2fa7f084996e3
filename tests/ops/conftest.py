"""Fixtures that put stand-in `pulumi`, `minikube`, `kubectl` and `docker` executables on PATH (see fake_cli.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.fakes import FAKE_TOOLS, FakeClis


@pytest.fixture(scope="session")
def sysbin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every executable of this machine's PATH except the four tools the stand-ins replace (a real docker CLI
    exists here and must not answer in their place)."""
    directory = tmp_path_factory.mktemp("sysbin")
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if not entry or not os.path.isdir(entry) or Path(entry).resolve() == directory:
            continue
        for name in os.listdir(entry):
            target = Path(entry) / name
            link = directory / name
            if name in FAKE_TOOLS or link.exists() or link.is_symlink():
                continue
            if target.is_file() and os.access(target, os.X_OK):
                link.symlink_to(target)
    return directory


@pytest.fixture
def fake(tmp_path: Path, sysbin: Path) -> Iterator[FakeClis]:
    yield FakeClis(tmp_path, sysbin)
