"""SIGTERM under load: /ready turns 503 at once, every request is still served for SHUTDOWN_DELAY_SECONDS,
in-flight requests finish, and the process exits 0 in bounded time. This is what makes a rolling update lossless."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from tests.apps import upstreams
from tests.support.http import HttpResult, http_get
from tests.support.load import LoadLoop
from tests.support.processes import ProcessGroup, ServiceProcess
from tests.support.wait import wait_until

DELAY = 2.0
SHUTDOWN_LOG = [
    "received SIGTERM: /ready now answers 503; still serving for 2s",
    "closing the listener; waiting up to 10s for in-flight requests",
    "stopped",
]


def start(processes: ProcessGroup, service: str, delay: float = DELAY) -> tuple[ServiceProcess, str]:
    """The service under test and the URL that does its real work."""
    if service == "recipe-api":
        process = processes.start("recipe-api", {"SHUTDOWN_DELAY_SECONDS": str(delay)})
        return process, process.url("/recipes/42")
    recipe_api = processes.start("recipe-api")
    process = processes.start("web-api", {"SHUTDOWN_DELAY_SECONDS": str(delay), "RECIPE_API_URL": recipe_api.base_url})
    return process, process.url("/")


def wait_ready_status(process: ServiceProcess, status: int, timeout: float) -> float:
    started = time.monotonic()
    wait_until(lambda: http_get(process.url("/ready"), timeout=1).status == status, timeout=timeout, interval=0.01,
               what=f"{process.service}'s /ready to answer {status}")
    return time.monotonic() - started


@pytest.mark.parametrize("service", ["recipe-api", "web-api"])
def test_sigterm_under_load_loses_no_request_and_exits_0(processes: ProcessGroup, service: str) -> None:
    process, work_url = start(processes, service)

    with LoadLoop(work_url, concurrency=4, timeout=5) as load:
        load.wait_for_requests(50)
        signalled_at = time.monotonic()
        process.send(signal.SIGTERM)
        wait_ready_status(process, 503, timeout=1.0)
        before_stop = load.report.total
        # Still inside the delay: the load keeps going (on new connections, as urllib opens one per request).
        time.sleep(max(0.0, signalled_at + DELAY * 0.75 - time.monotonic()))
        report = load.stop()

    assert report.failed == 0, report.failures
    assert report.total > before_stop + 10, "requests should still be served during the shutdown delay"
    assert process.wait_exit(timeout=DELAY + 15) == 0
    assert time.monotonic() - signalled_at >= DELAY
    lines = [line.removeprefix(f"{service} ") for line in process.stdout().splitlines()]
    positions = [lines.index(step) for step in SHUTDOWN_LOG]
    assert positions == sorted(positions), lines
    assert "Traceback" not in process.stdout() + process.stderr()


def test_web_api_finishes_an_in_flight_request_then_closes_its_pool(processes: ProcessGroup) -> None:
    with upstreams.FakeUpstream(upstreams.slow(1.0)) as upstream:
        process = processes.start("web-api", {"RECIPE_API_URL": upstream.url, "RECIPE_API_TIMEOUT_SECONDS": "5"})
        results: list[HttpResult] = []
        in_flight = threading.Thread(target=lambda: results.append(http_get(process.url("/"), timeout=10)))
        in_flight.start()
        wait_until(lambda: upstream.requests == 1, timeout=5, what="the request to reach the upstream")

        process.send(signal.SIGTERM)
        in_flight.join(timeout=10)
        exit_code = process.wait_exit(timeout=15)

    assert [result.status for result in results] == [200]
    assert results[0].json()["producer_data"] == upstreams.json_body()
    assert exit_code == 0
    lines = process.stdout().splitlines()
    assert lines.index("web-api closed the recipe-api client pool") < lines.index("web-api stopped")


@pytest.mark.parametrize("service", ["recipe-api", "web-api"])
def test_sigint_stops_gracefully_too(processes: ProcessGroup, service: str) -> None:
    process = processes.start(service)

    process.send(signal.SIGINT)

    assert process.wait_exit(timeout=15) == 0
    assert f"{service} received SIGINT: /ready now answers 503; still serving for 0s" in process.stdout()
    assert "KeyboardInterrupt" not in process.stderr()


def test_a_second_signal_skips_the_rest_of_the_delay(processes: ProcessGroup) -> None:
    process = processes.start("recipe-api", {"SHUTDOWN_DELAY_SECONDS": "60"})
    process.send(signal.SIGTERM)
    wait_ready_status(process, 503, timeout=1)
    assert http_get(process.url("/recipes/42")).status == 200

    process.send(signal.SIGINT)

    assert process.wait_exit(timeout=15) == 0
    assert "recipe-api received SIGINT again: skipping the rest of the shutdown delay" in process.stdout()
