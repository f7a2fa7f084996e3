"""Content-derived image references: `web-api:v2-3f9c1a2b4d5e`, the version kept readable, the rest a hash of
exactly what goes into the image.

Why not `<name>:<version>`: that tag is the same for every stack and every code change, so one stack's build
retags another's image, and with `imagePullPolicy: IfNotPresent` a pod restarted later runs whichever build came
last. A reference that changes with the content gives each distinct build its own name; the same content gives the
same name, so two stacks of the same code share one image harmlessly.

Standard library only: `scripts/build-images` uses it before any Pulumi code runs, and it must compute the very
references the program deploys.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

APPS_DIR = Path(__file__).resolve().parents[1] / "apps"
# Both images are built with `apps/` as the context; each Dockerfile copies its service's requirements.txt and
# package, and the shared HTTP package. tests/containers checks that the Dockerfiles copy no more than this.
SHARED_PACKAGE = Path("httpkit") / "httpkit"  # the package itself: its pyproject.toml and egg-info stay out
HASH_LENGTH = 12
_SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".swp", "~")


def package_of(service: str) -> str:
    return service.replace("-", "_")


def dockerfile_of(service: str, apps_dir: Path | None = None) -> Path:
    return (apps_dir or APPS_DIR) / service / "Dockerfile"


def sources_of(service: str, apps_dir: Path | None = None) -> list[Path]:
    """Every file that goes into the service's image, sorted: its Dockerfile, requirements and package, and the
    shared HTTP package."""
    apps_dir = apps_dir or APPS_DIR
    roots = [dockerfile_of(service, apps_dir), apps_dir / service / "requirements.txt",
             apps_dir / service / package_of(service), apps_dir / SHARED_PACKAGE]
    files: list[Path] = []
    for root in roots:
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files.extend(path for path in root.rglob("*") if path.is_file() and _kept(path.relative_to(root)))
    return sorted(files)


def _kept(relative: Path) -> bool:
    return not (set(relative.parts) & _SKIPPED_DIRS) and not relative.name.endswith(_SKIPPED_SUFFIXES)


def content_hash(service: str, base_image: str | None, apps_dir: Path | None = None) -> str:
    apps_dir = apps_dir or APPS_DIR
    digest = hashlib.sha256()
    digest.update(f"base-image\0{base_image or ''}\0".encode())
    for path in sources_of(service, apps_dir):
        digest.update(str(path.relative_to(apps_dir)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:HASH_LENGTH]


def image_ref(service: str, version: str, base_image: str | None, apps_dir: Path | None = None) -> str:
    """`<service>:<version>-<content hash>`: at most 63 + 1 + 12 characters, inside Docker's 128 for a tag."""
    return f"{service}:{version}-{content_hash(service, base_image, apps_dir)}"
