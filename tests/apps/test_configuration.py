"""Bad configuration: each service exits at once, non-zero, with one line naming the variable, the value and what
is allowed, and no traceback."""

from __future__ import annotations

import socket

import pytest

from tests.support.processes import ProcessGroup

COMMON_CASES = [
    ("PORT", "abc", "integer from 1 to 65535"),
    ("PORT", "0", "integer from 1 to 65535"),
    ("PORT", "70000", "integer from 1 to 65535"),
    ("PORT", "-1", "integer from 1 to 65535"),
    ("SHUTDOWN_DELAY_SECONDS", "-1", "number of seconds from 0 to 120"),
    ("SHUTDOWN_DELAY_SECONDS", "soon", "number of seconds from 0 to 120"),
    ("SHUTDOWN_DELAY_SECONDS", "nan", "number of seconds from 0 to 120"),
    ("SHUTDOWN_DELAY_SECONDS", "5000", "number of seconds from 0 to 120"),
    ("LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("APP_VERSION", "v1 beta", "letters, digits or . _ + -"),
    ("APP_VERSION", '"v1"', "letters, digits or . _ + -"),
    ("HOST", "0.0.0.0/0", "IP address or host name"),
    ("HEADER_TIMEOUT_SECONDS", "31", "number of seconds from above 0 to 30"),
    ("HEADER_TIMEOUT_SECONDS", "0", "number of seconds from above 0 to 30"),
    ("HEADER_TIMEOUT_SECONDS", "forever", "number of seconds from above 0 to 30"),
]
WEB_API_CASES = [
    ("RECIPE_API_URL", "recipe-api:4000", "http:// base URL"),
    ("RECIPE_API_URL", "ftp://recipe-api:4000", "http:// base URL"),
    ("RECIPE_API_URL", "https://recipe-api:4000", "http:// base URL"),
    ("RECIPE_API_URL", "http://:4000", "http:// base URL"),
    ("RECIPE_API_URL", "http://recipe-api:port", "http:// base URL"),
    ("RECIPE_API_URL", "http://recipe-api:4000/?x=1", "http:// base URL"),
    ("RECIPE_API_TIMEOUT_SECONDS", "0", "number of seconds from above 0 to 60"),
    ("RECIPE_API_TIMEOUT_SECONDS", "-2", "number of seconds from above 0 to 60"),
    ("RECIPE_API_TIMEOUT_SECONDS", "two", "number of seconds from above 0 to 60"),
    ("RECIPE_API_TIMEOUT_SECONDS", "inf", "number of seconds from above 0 to 60"),
]
CASES = ([("recipe-api", *case) for case in COMMON_CASES] + [("web-api", *case) for case in COMMON_CASES]
         + [("web-api", *case) for case in WEB_API_CASES])


@pytest.mark.parametrize(("service", "name", "value", "allowed"), CASES,
                         ids=[f"{case[0]}-{case[1]}={case[2]}" for case in CASES])
def test_a_bad_value_exits_at_once_naming_variable_value_and_rule(
        processes: ProcessGroup, service: str, name: str, value: str, allowed: str) -> None:
    process = processes.run_to_exit(service, {name: value}, timeout=10)

    assert process.popen.returncode == 2
    assert process.stdout() == ""
    lines = process.stderr().splitlines()
    assert len(lines) == 1, process.stderr()
    assert lines[0].startswith(f"{service}: configuration error: {name}={value!r} is not valid: expected ")
    assert allowed in lines[0]


@pytest.mark.parametrize("service", ["recipe-api", "web-api"])
def test_a_port_in_use_exits_non_zero_with_a_clear_message(processes: ProcessGroup, service: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        process = processes.run_to_exit(service, {"PORT": str(port)}, timeout=10)

    assert process.popen.returncode == 1
    assert "Traceback" not in process.stdout() + process.stderr()
    assert f"cannot listen on 127.0.0.1:{port}" in process.stdout()
    assert "in use" in process.stdout()


@pytest.mark.parametrize("service", ["recipe-api", "web-api"])
def test_empty_values_mean_the_defaults(processes: ProcessGroup, service: str) -> None:
    process = processes.start(service, {"APP_VERSION": "", "LOG_LEVEL": "", "SHUTDOWN_DELAY_SECONDS": ""})

    assert process.stdout().splitlines()[0].startswith(f"{service} version=dev listening on http://127.0.0.1:")
