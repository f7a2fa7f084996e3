"""Registered Kubernetes inputs as manifests, and lookups over the pods they describe."""

from __future__ import annotations

from typing import Any, Iterator

from tests.stack.mocked import Registered


def manifest(resource: Registered) -> dict[str, Any]:
    """The object as the API server would get it: the engine's camelCase inputs, whole numbers back to ints."""
    return _ints(resource.inputs)


def _ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_ints(item) for item in value]
    return value


def walk(value: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every (path, key, value) in a nested manifest."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key, item
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


def pod_labels(deployment: Registered) -> dict[str, str]:
    return deployment.inputs["spec"]["template"]["metadata"]["labels"]


def containers(deployment: Registered) -> list[dict[str, Any]]:
    return deployment.inputs["spec"]["template"]["spec"]["containers"]


def env(deployment: Registered) -> dict[str, str]:
    (container,) = containers(deployment)
    return {item["name"]: item["value"] for item in container["env"]}


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    """A matchLabels selector matches labels when each of its pairs is among them."""
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def port_numbers(container: dict[str, Any]) -> dict[str, int]:
    return {port["name"]: int(port["containerPort"]) for port in container["ports"]}


def resolves_to_declared_port(port: Any, container: dict[str, Any]) -> bool:
    declared = port_numbers(container)
    if isinstance(port, str):
        return port in declared
    return int(port) in declared.values()
