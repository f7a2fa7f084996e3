"""recipe-api's HTTP contract, against the real process on loopback."""

from __future__ import annotations

import re

import pytest

from tests.apps.raw_http import request
from tests.support.http import http_get
from tests.support.processes import ProcessGroup, ServiceProcess, port_in_use

RECIPE_42 = {
    "id": 42,
    "name": "Chicken Tikka Masala",
    "steps": "Throw it in a pot...",
    "ingredients": [
        {"id": 1, "name": "Chicken", "quantity": "1 lb"},
        {"id": 2, "name": "Sauce", "quantity": "2 cups"},
    ],
}


def test_recipe_42_is_the_whole_body_with_pid_and_version(recipe_api: ServiceProcess) -> None:
    result = http_get(recipe_api.url("/recipes/42"))

    assert result.status == 200
    assert result.content_type == "application/json"
    assert result.json() == {"producer_pid": recipe_api.pid, "producer_version": "v7", "recipe": RECIPE_42}


def test_head_answers_like_get_without_a_body(recipe_api: ServiceProcess) -> None:
    result = request(recipe_api.port, "HEAD", "/recipes/42")

    assert result.status == 200
    assert result.body == b""
    assert int(result.headers["content-length"]) == len(http_get(recipe_api.url("/recipes/42")).body)


@pytest.mark.parametrize("recipe_id", ["1", "41", "43", "0", "-42", "042" + "0" * 10, "999999999999999999"])
def test_any_other_integer_id_is_a_json_404_naming_it(recipe_api: ServiceProcess, recipe_id: str) -> None:
    result = http_get(recipe_api.url(f"/recipes/{recipe_id}"))

    assert (result.status, result.content_type, result.json()) == (
        404, "application/json", {"error": "not_found", "id": recipe_id})


@pytest.mark.parametrize("recipe_id", ["abc", "4.2", "42abc", "0x2a", "4_2", "%2042", "-", "1e3"])
def test_a_non_integer_id_is_a_json_400(recipe_api: ServiceProcess, recipe_id: str) -> None:
    result = http_get(recipe_api.url(f"/recipes/{recipe_id}"))

    assert result.status == 400
    assert result.content_type == "application/json"
    assert result.json()["error"] == "invalid_id"
    assert "integer" in result.json()["detail"]


@pytest.mark.parametrize("digits", [19, 300, 5000])
def test_an_absurdly_long_id_is_a_json_400_not_a_crash(recipe_api: ServiceProcess, digits: int) -> None:
    result = http_get(recipe_api.url("/recipes/" + "4" * digits))

    assert result.status == 400
    assert result.content_type == "application/json"
    assert result.json()["error"] == "invalid_id"
    assert "digits" in result.json()["detail"]
    assert http_get(recipe_api.url("/recipes/42")).status == 200


@pytest.mark.parametrize("path", ["/", "/recipes", "/recipes/", "/recipes/42/extra", "/nope", "/RECIPES/42"])
def test_an_unknown_path_is_a_json_404(recipe_api: ServiceProcess, path: str) -> None:
    result = http_get(recipe_api.url(path))

    assert result.status == 404
    assert result.content_type == "application/json"
    assert result.json()["error"] == "not_found"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/recipes/42", "/health", "/ready"])
def test_a_wrong_method_is_a_json_405_with_allow(recipe_api: ServiceProcess, method: str, path: str) -> None:
    result = request(recipe_api.port, method, path)

    assert result.status == 405
    assert result.content_type == "application/json"
    assert result.json() == {"error": "method_not_allowed", "method": method, "allowed": ["GET", "HEAD"]}
    assert result.headers["allow"] == "GET, HEAD"


def test_health_and_ready_answer_200_json(recipe_api: ServiceProcess) -> None:
    health = http_get(recipe_api.url("/health"))
    ready = http_get(recipe_api.url("/ready"))

    assert (health.status, health.content_type, health.json()) == (200, "application/json", {"status": "ok"})
    assert (ready.status, ready.content_type, ready.json()) == (200, "application/json", {"status": "ready"})


def test_first_log_line_names_version_address_and_pid(recipe_api: ServiceProcess) -> None:
    first_line = recipe_api.stdout().splitlines()[0]

    assert first_line == f"recipe-api version=v7 listening on http://127.0.0.1:{recipe_api.port} pid={recipe_api.pid}"


def test_no_access_log_at_the_default_level(recipe_api: ServiceProcess) -> None:
    http_get(recipe_api.url("/recipes/42?marker=quiet"))

    assert "marker=quiet" not in recipe_api.stdout()


def test_access_log_at_debug(processes: ProcessGroup) -> None:
    service = processes.start("recipe-api", {"LOG_LEVEL": "debug"})

    http_get(service.url("/recipes/42?marker=loud"))

    service.wait_for_output("marker=loud")
    line = next(line for line in service.stdout().splitlines() if "marker=loud" in line)
    assert re.search(r'"GET /recipes/42\?marker=loud HTTP/1\.1" 200', line), line


def test_defaults_listen_on_loopback_port_4000_with_version_dev(processes: ProcessGroup) -> None:
    if port_in_use(4000):
        pytest.skip("port 4000 is in use on this machine, so the default port cannot be tested")
    service = processes.start("recipe-api", {}, port=4000, set_port=False)

    assert service.stdout().splitlines()[0].startswith("recipe-api version=dev listening on http://127.0.0.1:4000 ")
    assert http_get(service.url("/recipes/42")).json()["producer_version"] == "dev"

