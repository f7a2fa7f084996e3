"""Content-derived image references: one per distinct content, readable version, stable across runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stack import image_refs
from tests.stack.mocked import ROOT


@pytest.fixture
def apps(tmp_path: Path) -> Path:
    copy = tmp_path / "apps"
    shutil.copytree(ROOT / "apps", copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return copy


def refs(apps: Path, base: str | None = None) -> dict[str, str]:
    return {name: image_refs.image_ref(name, "v2", base, apps) for name in ("web-api", "recipe-api")}


def test_a_reference_keeps_the_version_readable_and_is_stable(apps: Path) -> None:
    first = refs(apps)
    assert first["web-api"].startswith("web-api:v2-") and len(first["web-api"].split("-")[-1]) == 12
    assert refs(apps) == first
    assert first == refs(ROOT / "apps")  # where the sources live does not matter, only what they hold


def test_a_change_to_one_service_changes_only_its_reference(apps: Path) -> None:
    before = refs(apps)
    routes = apps / "recipe-api" / "recipe_api" / "routes.py"
    routes.write_text(routes.read_text() + "\n")
    after = refs(apps)
    assert after["recipe-api"] != before["recipe-api"]
    assert after["web-api"] == before["web-api"]


def test_the_shared_http_package_and_the_base_image_are_part_of_both(apps: Path) -> None:
    before = refs(apps)
    shared = apps / image_refs.SHARED_PACKAGE
    (shared / "added.py").write_text("VALUE = 1\n")
    after = refs(apps)
    assert after["web-api"] != before["web-api"] and after["recipe-api"] != before["recipe-api"]
    assert refs(apps, "recipes-local-base:bookworm") != after


def test_caches_editor_files_and_packaging_metadata_do_not_count(apps: Path) -> None:
    before = refs(apps)
    (apps / "httpkit" / "pyproject.toml").write_text("# packaging only: not in any image\n")
    (apps / "httpkit" / "httpkit.egg-info").mkdir(exist_ok=True)
    package = apps / "web-api" / "web_api"
    (package / "__pycache__").mkdir(exist_ok=True)
    (package / "__pycache__" / "routes.cpython-311.pyc").write_bytes(b"\0")
    (package / "routes.py~").write_text("backup")
    assert refs(apps) == before


def test_the_sources_are_exactly_what_the_dockerfile_copies() -> None:
    apps = ROOT / "apps"
    for name in ("web-api", "recipe-api"):
        dockerfile = image_refs.dockerfile_of(name)
        copied = [line.split()[1].rstrip("/") for line in dockerfile.read_text().splitlines()
                  if line.startswith("COPY ") and "--from=" not in line]
        expected = {str(path.relative_to(apps)) for path in image_refs.sources_of(name)} - {f"{name}/Dockerfile"}
        from_copies = set()
        for source in copied:
            root = apps / source
            files = [root] if root.is_file() else [path for path in root.rglob("*") if path.is_file()]
            from_copies |= {str(path.relative_to(apps)) for path in files
                            if "__pycache__" not in path.parts and path.suffix != ".pyc"}
        assert from_copies == expected, f"{dockerfile} copies {copied}; stack/image_refs.py hashes {sorted(expected)}"
