"""Each image ships only its own package, so the modules both services need exist twice: they must stay identical."""

from __future__ import annotations

import pytest

from tests.support.processes import REPO

SHARED = ["envconfig.py", "logs.py", "serving.py", "responses.py", "routing.py", "httpserver.py"]


@pytest.mark.parametrize("module", SHARED)
def test_shared_module_copies_are_identical(module: str) -> None:
    recipe_copy = (REPO / "apps/recipe-api/recipe_api" / module).read_text()
    web_copy = (REPO / "apps/web-api/web_api" / module).read_text()

    assert recipe_copy == web_copy, f"apps/*/{{recipe_api,web_api}}/{module} differ: edit one, copy it to the other"
