"""Fixtures for the service tests: every process started here is stopped and reaped, even when a test fails,
and its output is printed at teardown (pytest shows it with the failure)."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.support.processes import ProcessGroup, ServiceProcess


def _process_group() -> Iterator[ProcessGroup]:
    group = ProcessGroup()
    try:
        yield group
    finally:
        print(group.output())
        group.close()


@pytest.fixture
def processes() -> Iterator[ProcessGroup]:
    yield from _process_group()


@pytest.fixture(scope="module")
def module_processes() -> Iterator[ProcessGroup]:
    yield from _process_group()


@pytest.fixture(scope="module")
def recipe_api(module_processes: ProcessGroup) -> ServiceProcess:
    return module_processes.start("recipe-api", {"APP_VERSION": "v7"})


@pytest.fixture(scope="module")
def web_api(module_processes: ProcessGroup, recipe_api: ServiceProcess) -> ServiceProcess:
    return module_processes.start("web-api", {"APP_VERSION": "v3", "RECIPE_API_URL": recipe_api.base_url})
