"""The HTTP layer exists once, as the package httpkit (apps/httpkit), and both services run on that copy: no module
of it is vendored into a service again, both services import it, and each service's requirements.txt (what its
image installs) lists httpkit's own dependencies as its pyproject.toml does."""

from __future__ import annotations

import ast
import re
import tomllib

import pytest

from tests.support.processes import PACKAGES, REPO

HTTPKIT = REPO / "apps" / "httpkit"
MODULES = sorted(path.name for path in (HTTPKIT / "httpkit").glob("*.py") if path.name != "__init__.py")


@pytest.mark.parametrize("service", sorted(PACKAGES))
def test_no_service_vendors_a_module_of_httpkit(service: str) -> None:
    package = REPO / "apps" / service / PACKAGES[service]

    assert not sorted(set(MODULES) & {path.name for path in package.glob("*.py")})


@pytest.mark.parametrize("service", sorted(PACKAGES))
def test_each_service_imports_the_http_layer_from_httpkit(service: str) -> None:
    imported = set()
    for path in (REPO / "apps" / service / PACKAGES[service]).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])

    assert "httpkit" in imported


def _requirement_lines(text: str) -> list[str]:
    return sorted(line.replace(" ", "") for line in (raw.split("#")[0].strip() for raw in text.splitlines()) if line)


@pytest.mark.parametrize("service", sorted(PACKAGES))
def test_each_service_installs_httpkits_dependencies(service: str) -> None:
    declared = tomllib.loads((HTTPKIT / "pyproject.toml").read_text())["project"]["dependencies"]
    installed = _requirement_lines((REPO / "apps" / service / "requirements.txt").read_text())

    assert sorted(re.sub(r"\s", "", requirement) for requirement in declared) == installed


def test_the_services_run_on_the_source_tree_copy() -> None:
    import httpkit

    assert (HTTPKIT / "httpkit" / "__init__.py").samefile(httpkit.__file__), (
        "httpkit is imported from elsewhere: reinstall it with `pip install -e apps/httpkit` (make venv does)")
