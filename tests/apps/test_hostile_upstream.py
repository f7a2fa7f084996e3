"""A hostile recipe-api against the client side of the shared HTTP layer (httpkit.http1), through a real web-api
process: interim 1xx answers, 101, bodies in 1-byte chunks, endless trailers. web-api must answer every request
correctly (the right answer to the right request, or a JSON 502) within its budget, grow no more than a few MiB,
and log no traceback."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.apps import upstreams
from tests.apps.hostile import MAX_GROWTH_PER_CONNECTION, HealthWatch
from tests.support.http import http_get
from tests.support.processes import ProcessGroup, ServiceProcess

TIMEOUT = 2.0  # web-api's default budget
# What a loaded CI machine may add to the budget before web-api's answer is seen by the test.
SLACK = 1.5
HANG_GUARD = 10.0


def start_web_api(processes: ProcessGroup, url: str) -> ServiceProcess:
    return processes.start("web-api", {"RECIPE_API_URL": url, "RECIPE_API_TIMEOUT_SECONDS": str(TIMEOUT)})


def timed_get(web_api: ServiceProcess) -> tuple[float, object]:
    started = time.monotonic()
    result = http_get(web_api.url("/"), timeout=TIMEOUT + 30)
    return time.monotonic() - started, result


def assert_no_traceback(web_api: ServiceProcess) -> None:
    output = web_api.stdout() + web_api.stderr()
    assert "Traceback" not in output and "level=error" not in output, output[-3000:]


@pytest.mark.parametrize("behaviour", [upstreams.numbered_after_early_hints, upstreams.continue_then_answer],
                         ids=["103", "100"])
def test_an_interim_answer_is_skipped_and_each_request_gets_its_own_answer(processes: ProcessGroup, behaviour) -> None:
    with upstreams.FakeUpstream(behaviour) as upstream:
        web_api = start_web_api(processes, upstream.url)

        answers = [http_get(web_api.url("/")) for _ in range(4)]

    assert [answer.status for answer in answers] == [200] * 4, [answer.body for answer in answers]
    if behaviour is upstreams.numbered_after_early_hints:
        assert [answer.json()["producer_data"]["answer_to_request"] for answer in answers] == [1, 2, 3, 4]
    assert upstream.connections == 1, "the pooled connection should have been reused throughout"
    assert_no_traceback(web_api)


def test_a_101_answer_is_a_502_without_a_traceback(processes: ProcessGroup) -> None:
    with upstreams.FakeUpstream(upstreams.switching_protocols) as upstream:
        web_api = start_web_api(processes, upstream.url)

        results = [timed_get(web_api) for _ in range(3)]

    assert [result.status for _, result in results] == [502] * 3
    assert all(elapsed < TIMEOUT + SLACK for elapsed, _ in results)
    assert [result.json() for _, result in results] == [{"error": "recipe_api_bad_answer"}] * 3
    web_api.wait_for_output("101")
    assert_no_traceback(web_api)


def test_one_byte_chunks_are_refused_within_the_budget_without_growing_web_api(processes: ProcessGroup) -> None:
    concurrent = 32
    with upstreams.FakeUpstream(upstreams.one_byte_chunks(512 * 1024)) as upstream:
        web_api = start_web_api(processes, upstream.url)
        before = web_api.rss_bytes()
        with HealthWatch(web_api) as health, ThreadPoolExecutor(max_workers=concurrent) as pool:
            results = list(pool.map(lambda _: timed_get(web_api), range(concurrent)))
        growth = web_api.rss_bytes() - before

    # 502, not 504: web-api answered each within its budget, by its own clock. 32 requests at once to a fake
    # recipe-api in this test's process (Python threads, one GIL) are slow to deliver, so the test's own clock only
    # guards against a hang.
    assert [result.status for _, result in results] == [502] * concurrent
    assert max(elapsed for elapsed, _ in results) < TIMEOUT + HANG_GUARD
    assert growth < 2 * MAX_GROWTH_PER_CONNECTION, f"grew {growth >> 20} MiB for {concurrent} requests"
    assert not health.problems, health.problems
    web_api.wait_for_output("chunks")
    assert_no_traceback(web_api)


def test_an_endless_trailer_is_refused_within_the_budget_without_growing_web_api(processes: ProcessGroup) -> None:
    with upstreams.FakeUpstream(upstreams.endless_trailer) as upstream:
        web_api = start_web_api(processes, upstream.url)
        before = web_api.rss_bytes()
        with HealthWatch(web_api) as health:
            elapsed, result = timed_get(web_api)
        growth = web_api.rss_bytes() - before

    assert (result.status, result.json()) == (502, {"error": "recipe_api_bad_answer"})
    assert elapsed < TIMEOUT + SLACK
    assert growth < MAX_GROWTH_PER_CONNECTION, f"grew {growth >> 20} MiB"
    assert not health.problems, health.problems
    web_api.wait_for_output("trailers larger than")
    assert_no_traceback(web_api)
