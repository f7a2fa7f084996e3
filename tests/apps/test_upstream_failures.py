"""web-api when recipe-api fails: unreachable -> 503, too slow -> 504, a bad answer -> 502, always JSON, always
within the timeout (retry included); a pooled connection the peer closed is retried unseen; recovery is automatic."""

from __future__ import annotations

import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.apps import upstreams
from tests.support.http import free_port, http_get
from tests.support.processes import ProcessGroup, ServiceProcess
from tests.support.wait import wait_until

TIMEOUT = 1.0
# What a loaded CI machine may add to the timeout before web-api's answer is seen by the test.
SLACK = 1.0


def start_web_api(processes: ProcessGroup, recipe_api_url: str, timeout: float = TIMEOUT) -> ServiceProcess:
    return processes.start("web-api", {"RECIPE_API_URL": recipe_api_url, "RECIPE_API_TIMEOUT_SECONDS": str(timeout)})


def timed_get(url: str) -> tuple[float, object]:
    started = time.monotonic()
    result = http_get(url, timeout=TIMEOUT + 10)
    return time.monotonic() - started, result


def assert_error(result, status: int, code: str) -> None:
    """The client gets the status and a code; the detail (recipe-api's address, part of its answer) is only logged."""
    assert result.status == status, result.body
    assert result.content_type == "application/json"
    assert result.json() == {"error": code}


def logged_detail(web_api: ServiceProcess, code: str) -> str:
    """The detail web-api logged with its first failure answering `code`."""
    web_api.wait_for_output(code)
    return next(line for line in web_api.stdout().splitlines() if "upstream failure" in line and code in line)


def test_recipe_api_down_is_503_then_recovers_when_it_is_back(processes: ProcessGroup) -> None:
    recipe_port = free_port()
    recipe_api = processes.start("recipe-api", port=recipe_port)
    web_api = start_web_api(processes, recipe_api.base_url)
    assert http_get(web_api.url("/")).status == 200  # a pooled connection now exists

    recipe_api.popen.kill()
    recipe_api.popen.wait(timeout=10)
    elapsed, result = timed_get(web_api.url("/"))

    assert_error(result, 503, "recipe_api_unreachable")
    assert f"127.0.0.1:{recipe_port}" in logged_detail(web_api, "answering 503 recipe_api_unreachable")
    assert elapsed < TIMEOUT + SLACK

    restarted = processes.start("recipe-api", port=recipe_port)
    result = http_get(web_api.url("/"))
    assert result.status == 200
    assert result.json()["producer_data"]["producer_pid"] == restarted.pid
    web_api.wait_for_output("recipe-api answers again")


def test_nothing_listening_at_all_is_503(processes: ProcessGroup) -> None:
    web_api = start_web_api(processes, f"http://127.0.0.1:{free_port()}")

    elapsed, result = timed_get(web_api.url("/"))

    assert_error(result, 503, "recipe_api_unreachable")
    assert elapsed < TIMEOUT + SLACK


def test_a_frozen_recipe_api_is_504_within_the_timeout(processes: ProcessGroup) -> None:
    recipe_api = processes.start("recipe-api")
    web_api = start_web_api(processes, recipe_api.base_url)
    assert http_get(web_api.url("/")).status == 200

    recipe_api.send(signal.SIGSTOP)
    try:
        elapsed, result = timed_get(web_api.url("/"))
    finally:
        recipe_api.send(signal.SIGCONT)

    assert_error(result, 504, "recipe_api_timeout")
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + SLACK
    # Recovery: the timed-out connection was discarded, so the next answer is a fresh, correct one.
    wait_until(lambda: http_get(web_api.url("/")).status == 200, timeout=5, what="web-api to answer 200 again")


def test_a_slow_recipe_api_is_504_within_the_timeout(processes: ProcessGroup) -> None:
    with upstreams.FakeUpstream(upstreams.slow(TIMEOUT * 3)) as upstream:
        web_api = start_web_api(processes, upstream.url)

        elapsed, result = timed_get(web_api.url("/"))

    assert_error(result, 504, "recipe_api_timeout")
    assert elapsed < TIMEOUT + SLACK


def test_slow_but_within_the_timeout_is_fine(processes: ProcessGroup) -> None:
    with upstreams.FakeUpstream(upstreams.slow(TIMEOUT / 3)) as upstream:
        web_api = start_web_api(processes, upstream.url)

        result = http_get(web_api.url("/"))

    assert result.status == 200
    assert result.json()["producer_data"] == upstreams.json_body()


@pytest.mark.parametrize(("behaviour", "detail"), [
    (upstreams.answering(500, b'{"error":"boom"}'), "HTTP 500"),
    (upstreams.answering(503, b"busy", "text/plain"), "HTTP 503"),
    (upstreams.answering(404, b'{"error":"not_found"}'), "HTTP 404"),
    (upstreams.answering(200, b"<html>hello</html>", "text/html"), "not UTF-8 JSON"),
    (upstreams.answering(200, b'{"truncated": '), "not UTF-8 JSON"),
    (upstreams.answering(200, b"[1, 2, 3]"), "not an object"),
    (upstreams.answering(200, b'{"x": NaN}'), "not UTF-8 JSON"),
    (upstreams.answering(200, b'{"x": "\xff"}'), "not UTF-8 JSON"),
    (upstreams.garbage, "broken answer"),
    (upstreams.endless_header, "answer head larger than"),
], ids=["500", "503-text", "404", "html", "truncated-json", "json-array", "nan", "latin-1", "garbage",
        "endless-header"])
def test_a_bad_answer_is_502_logging_what_was_wrong(processes: ProcessGroup, behaviour, detail: str) -> None:
    with upstreams.FakeUpstream(behaviour) as upstream:
        web_api = start_web_api(processes, upstream.url)

        elapsed, result = timed_get(web_api.url("/"))

    assert_error(result, 502, "recipe_api_bad_answer")
    assert detail in logged_detail(web_api, "recipe_api_bad_answer")
    assert elapsed < TIMEOUT + SLACK
    assert "Traceback" not in web_api.stdout() + web_api.stderr()


def test_an_oversized_answer_is_502(processes: ProcessGroup) -> None:
    with upstreams.FakeUpstream(upstreams.answering(200, b'{"x":"' + b"a" * (2 << 20) + b'"}')) as upstream:
        web_api = start_web_api(processes, upstream.url)

        result = http_get(web_api.url("/"))

    assert_error(result, 502, "recipe_api_bad_answer")
    assert "more than" in logged_detail(web_api, "recipe_api_bad_answer")


def test_a_pooled_connection_closed_by_the_peer_is_retried_unseen(processes: ProcessGroup) -> None:
    dropping = upstreams.DropsReusedConnections()
    with upstreams.FakeUpstream(dropping) as upstream:
        web_api = start_web_api(processes, upstream.url)

        statuses = [http_get(web_api.url("/")).status for _ in range(10)]

    assert statuses == [200] * 10
    assert dropping.dropped >= 9, "each reuse of a pooled connection should have met a closed connection"
    assert "upstream failure" not in web_api.stdout()


def test_the_retry_does_not_reuse_another_connection_to_a_peer_that_went_away(processes: ProcessGroup) -> None:
    """Several pooled connections to one peer, all dead: the retry must open a new connection, not take the next
    dead one from the pool."""
    dropping = upstreams.DropsReusedConnections(first_answer_delay=0.3)
    with upstreams.FakeUpstream(dropping) as upstream:
        web_api = start_web_api(processes, upstream.url, timeout=5)
        with ThreadPoolExecutor(max_workers=4) as pool:
            assert list(pool.map(lambda _: http_get(web_api.url("/")).status, range(4))) == [200] * 4
        assert upstream.connections >= 2, "the concurrent requests should have left several pooled connections"

        statuses = [http_get(web_api.url("/")).status for _ in range(4)]

    assert statuses == [200] * 4
    assert "upstream failure" not in web_api.stdout()


def test_a_client_hanging_up_with_requests_in_flight_and_queued_harms_nothing(processes: ProcessGroup) -> None:
    with upstreams.FakeUpstream(upstreams.slow(0.3)) as upstream:
        web_api = start_web_api(processes, upstream.url, timeout=5)
        with socket.create_connection(("127.0.0.1", web_api.port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" * 3)  # one in flight, two queued behind it
            wait_until(lambda: upstream.requests >= 1, timeout=5, what="the first request to reach the upstream")

        result = http_get(web_api.url("/"))

    assert result.status == 200
    assert result.json()["producer_data"] == upstreams.json_body()
    assert "level=" not in web_api.stdout() + web_api.stderr(), "no error or warning expected"


def test_failures_are_logged_without_flooding(processes: ProcessGroup) -> None:
    web_api = start_web_api(processes, f"http://127.0.0.1:{free_port()}")

    statuses = [http_get(web_api.url("/")).status for _ in range(50)]

    assert statuses == [503] * 50
    failure_lines = [line for line in web_api.stdout().splitlines() if "upstream failure" in line]
    assert len(failure_lines) == 1, failure_lines
    assert failure_lines[0].startswith("web-api level=warning upstream failure, answering 503 recipe_api_unreachable")


def test_an_unsolicited_second_answer_discards_the_connection(processes: ProcessGroup) -> None:
    with upstreams.FakeUpstream(upstreams.answering_twice) as upstream:
        web_api = start_web_api(processes, upstream.url)

        statuses = [http_get(web_api.url("/")).status for _ in range(5)]

        assert statuses == [200] * 5
        assert upstream.connections == 5, "a connection that answered twice must not be reused"
