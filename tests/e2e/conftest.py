"""The end-to-end suite's rules: every step is marked `e2e` and may take 20 minutes; when a prerequisite is missing,
every step is skipped with the same single message (checked once, at collection), except under CI=true, where CI
has started a cluster for it (the local one, E2E_KUBE_CONTEXT=recipes-local) and a missing piece is a failure; once a
step fails, the later ones, which build on it, are skipped rather than failing too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.prerequisites import missing_prerequisites

HERE = Path(__file__).resolve().parent
STEP_TIMEOUT_SECONDS = 1200
_first_failure: dict[Path, str] = {}
_missing_in_ci: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    steps = [item for item in items if HERE in item.path.parents]
    if not steps:
        return
    missing = missing_prerequisites()
    for item in steps:
        item.add_marker(pytest.mark.e2e)
        item.add_marker(pytest.mark.timeout(STEP_TIMEOUT_SECONDS))
        if missing and os.environ.get("CI") == "true":
            _missing_in_ci[:] = [missing]
        elif missing:
            item.add_marker(pytest.mark.skip(reason=missing))


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> None:
    if call.when == "call" and call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception):
        _first_failure.setdefault(item.path, item.name)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _missing_in_ci and HERE in item.path.parents:
        pytest.fail(f"CI=true: {_missing_in_ci[0]}")
    failed = _first_failure.get(item.path)
    if failed and HERE in item.path.parents:
        pytest.skip(f"{failed} failed; the steps after it build on it")
