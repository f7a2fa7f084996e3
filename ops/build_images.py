"""`scripts/build-images [STACK]`: build both images into the current Docker daemon under the exact references the
program deploys, as a CI pipeline builds before `pulumi up` (the stack's `recipes:imageBuilder` is `external`).

The references come from `stack.image_refs`, the same code the program runs, with the stack's versions and base
image read from Pulumi.yaml's defaults and Pulumi.<stack>.yaml. An image already present under its reference is
not rebuilt: the reference names its content. Standard library only, like the rest of the deploy path before the
venv exists.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ops import stack_keys
from stack import image_refs

PROJECT_DIR = Path(__file__).resolve().parents[1]
SERVICES = {"web-api": "recipes:webApiVersion", "recipe-api": "recipes:recipeApiVersion"}
BUILD_TIMEOUT_SECONDS = 900


class BuildError(Exception):
    pass


def planned_refs(settings: Mapping[str, str]) -> dict[str, str]:
    base = settings.get("recipes:baseImage") or None
    return {name: image_refs.image_ref(name, settings.get(key, "v1"), base) for name, key in SERVICES.items()}


def _docker(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise BuildError("the docker CLI is not installed; install Docker, then rerun") from None
    except subprocess.TimeoutExpired:
        raise BuildError(f"'docker {' '.join(args)}' did not finish in {timeout:.0f} s") from None


def present(ref: str) -> bool:
    return _docker("image", "inspect", "--format", "{{.Id}}", ref, timeout=60).returncode == 0


def build(name: str, ref: str, base_image: str | None) -> None:
    args = ["build", "--tag", ref, "--file", str(image_refs.dockerfile_of(name))]
    if base_image:
        args += ["--build-arg", f"BASE_IMAGE={base_image}"]
    done = _docker(*args, str(image_refs.APPS_DIR), timeout=BUILD_TIMEOUT_SECONDS)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise BuildError(f"building {ref} failed:\n{tail}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/build-images", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack", nargs="?", default="dev")
    args = parser.parse_args(argv)
    settings = stack_keys.stack_file_settings(PROJECT_DIR, args.stack)
    if not settings:
        print("build-images: cannot read Pulumi.yaml (PyYAML is missing?); run: make venv", file=sys.stderr)
        return 2
    info = _docker("info", "--format", "{{.Name}}", timeout=30)
    if info.returncode != 0:
        print(f"build-images: no Docker daemon answers ({(info.stderr or '').strip()}); start Docker, or point "
              'DOCKER_HOST at the cluster\'s daemon (minikube: eval "$(minikube docker-env)")', file=sys.stderr)
        return 1
    base = settings.get("recipes:baseImage") or None
    try:
        for name, ref in planned_refs(settings).items():
            if present(ref):
                print(f"build-images: {ref} is already in the daemon '{info.stdout.strip()}'", file=sys.stderr)
            else:
                print(f"build-images: building {ref}", file=sys.stderr)
                build(name, ref, base)
            print(ref)
    except BuildError as error:
        print(f"build-images: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
