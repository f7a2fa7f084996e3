"""The real-cluster suite's rules: every step is marked `cluster`; the steps of a file run in order and each builds on
the one before, so after a failure the later ones are skipped.

When does it run? Always under CI=true (where it fails rather than skips) and when asked for (`pytest -m cluster`,
`make cluster-test`): then, when no local cluster runs, it starts one with scripts/local-cluster and stops it at the
end. Within a plain `make test` it runs against a local cluster that is already up, and otherwise skips with one
message, because starting one the first time means building Kubernetes (see README). When this machine cannot run
the local cluster at all (not Linux, not root, no Docker) it skips with that reason, or fails under CI=true."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.harness import LOCAL_CLUSTER, LocalCluster, host_problem, run

HERE = Path(__file__).resolve().parent
STEP_TIMEOUT_SECONDS = 3600  # the first step may have to build and start the whole cluster
_first_failure: dict[Path, str] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    steps = [item for item in items if HERE in item.path.parents]
    if not steps:
        return
    reason = None
    if os.environ.get("CI") != "true":
        problem = host_problem()
        asked_for = "cluster" in (config.option.markexpr or "")
        if problem:
            reason = f"the real-cluster suite cannot run here: {problem}"
        elif not asked_for and run([str(LOCAL_CLUSTER), "status"], timeout=120, check=False).returncode != 0:
            reason = ("no local cluster runs; `pytest -m cluster` (or `make cluster-test`) starts one and runs this "
                      "suite; the first start builds Kubernetes from source (scripts/local-cluster up)")
    for item in steps:
        item.add_marker(pytest.mark.cluster)
        item.add_marker(pytest.mark.timeout(STEP_TIMEOUT_SECONDS))
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> None:
    if call.when in ("setup", "call") and call.excinfo is not None \
            and not call.excinfo.errisinstance(pytest.skip.Exception):
        _first_failure.setdefault(item.path, item.name)


def pytest_runtest_setup(item: pytest.Item) -> None:
    failed = _first_failure.get(item.path)
    if failed and HERE in item.path.parents:
        pytest.skip(f"{failed} failed; the steps after it build on it")


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """The running local cluster; started here (and stopped at the end) when none runs."""
    problem = host_problem()
    if problem:
        pytest.fail(f"the real-cluster suite cannot run here (CI=true): {problem}")
    running = LocalCluster.ensure()
    try:
        yield running
    finally:
        if running.started_here:
            running.stop()
