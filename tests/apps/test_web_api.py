"""web-api's HTTP contract with a real recipe-api behind it, both processes on loopback."""

from __future__ import annotations

import json
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.apps.raw_http import read_response, request
from tests.support.http import http_get
from tests.support.processes import ProcessGroup, ServiceProcess, port_in_use


def test_root_returns_its_identity_and_recipe_apis_body_unchanged(web_api: ServiceProcess,
                                                                   recipe_api: ServiceProcess) -> None:
    result = http_get(web_api.url("/"))

    assert result.status == 200
    assert result.content_type == "application/json"
    assert result.json() == {
        "consumer_pid": web_api.pid,
        "consumer_version": "v3",
        "producer_data": http_get(recipe_api.url("/recipes/42")).json(),
    }
    assert result.json()["producer_data"]["producer_pid"] == recipe_api.pid


def test_head_answers_like_get_without_a_body(web_api: ServiceProcess) -> None:
    result = request(web_api.port, "HEAD", "/")

    assert result.status == 200
    assert result.body == b""


@pytest.mark.parametrize("path", ["/recipes/42", "/index.html", "/nope/"])
def test_an_unknown_path_is_a_json_404(web_api: ServiceProcess, path: str) -> None:
    result = http_get(web_api.url(path))

    assert (result.status, result.content_type, result.json()["error"]) == (404, "application/json", "not_found")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/", "/health", "/ready"])
def test_a_wrong_method_is_a_json_405_with_allow(web_api: ServiceProcess, method: str, path: str) -> None:
    result = request(web_api.port, method, path)

    assert result.status == 405
    assert result.content_type == "application/json"
    assert result.json() == {"error": "method_not_allowed", "method": method, "allowed": ["GET", "HEAD"]}
    assert result.headers["allow"] == "GET, HEAD"


def test_health_and_ready_answer_200_json(web_api: ServiceProcess) -> None:
    health = http_get(web_api.url("/health"))
    ready = http_get(web_api.url("/ready"))

    assert (health.status, health.content_type, health.json()) == (200, "application/json", {"status": "ok"})
    assert (ready.status, ready.content_type, ready.json()) == (200, "application/json", {"status": "ready"})


def test_first_log_line_names_version_address_and_pid(web_api: ServiceProcess) -> None:
    first_line = web_api.stdout().splitlines()[0]

    assert first_line == f"web-api version=v3 listening on http://127.0.0.1:{web_api.port} pid={web_api.pid}"


def test_many_concurrent_requests_share_the_pool_and_all_succeed(web_api: ServiceProcess) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda _: http_get(web_api.url("/")).status, range(200)))

    assert statuses == [200] * 200
    assert "level=" not in web_api.stdout(), "no warnings or errors expected"


def test_defaults_port_3000_and_recipe_api_on_127_0_0_1_4000(processes: ProcessGroup) -> None:
    if port_in_use(3000) or port_in_use(4000):
        pytest.skip("port 3000 or 4000 is in use on this machine, so the defaults cannot be tested")
    processes.start("recipe-api", {}, port=4000, set_port=False)
    web = processes.start("web-api", {}, port=3000, set_port=False)

    result = http_get(web.url("/"))

    assert result.status == 200
    assert result.json()["consumer_version"] == "dev"
    assert result.json()["producer_data"]["producer_version"] == "dev"


def test_pipelined_requests_are_answered_in_order_while_the_upstream_call_is_awaited(web_api: ServiceProcess) -> None:
    paths = ["/", "/health", "/", "/nope", "/ready", "/"]
    with socket.create_connection(("127.0.0.1", web_api.port), timeout=5) as sock:
        sock.sendall(b"".join(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode() for path in paths))
        buffered = bytearray()
        answers = [read_response(sock, buffered) for _ in paths]

    assert [status for status, _, _ in answers] == [200, 200, 200, 404, 200, 200]
    assert [json.loads(body).get("consumer_pid") for _, _, body in answers] == [
        web_api.pid, None, web_api.pid, None, None, web_api.pid]
