"""`scripts/build-images [STACK]`: build both images into the current Docker daemon under the exact references the
program deploys, as a CI pipeline builds before `pulumi up` (the stack's `recipes:imageBuilder` is `external`).

The references come from `stack.image_refs`, the same code the program runs, with the stack's versions and base
image read from Pulumi.yaml's defaults and Pulumi.<stack>.yaml. An image already present under its reference is
not rebuilt: the reference names its content. Standard library only, like the rest of the deploy path before the
venv exists.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from ops import engine
from ops.commands import run_bounded
from stack import image_refs

SERVICES = {"web-api": "recipes:webApiVersion", "recipe-api": "recipes:recipeApiVersion"}
BUILD_TIMEOUT_SECONDS = 900.0
DOCKER_TIMEOUT_SECONDS = 30.0


class BuildError(Exception):
    pass


def base_image_of(settings: Mapping[str, str]) -> str | None:
    return settings.get("recipes:baseImage") or None


def planned_refs(settings: Mapping[str, str]) -> dict[str, str]:
    base = base_image_of(settings)
    return {name: image_refs.image_ref(name, settings.get(key, "v1"), base) for name, key in SERVICES.items()}


def build(name: str, ref: str, base_image: str | None) -> None:
    argv = ["docker", "build", "--tag", ref, "--file", str(image_refs.dockerfile_of(name))]
    if base_image:
        argv += ["--build-arg", f"BASE_IMAGE={base_image}"]
    done = run_bounded([*argv, str(image_refs.APPS_DIR)], timeout=BUILD_TIMEOUT_SECONDS)
    if not done.ok:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise BuildError(f"building {ref} failed: {done.describe_failure()}\n{tail}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/build-images", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack", nargs="?", default="dev")
    args = parser.parse_args(argv)
    settings = engine.settings_of(args.stack)
    if not settings:
        print("build-images: cannot read Pulumi.yaml (PyYAML is missing?); run: make venv", file=sys.stderr)
        return 2
    info = run_bounded(["docker", "info", "--format", "{{.Name}}"], timeout=DOCKER_TIMEOUT_SECONDS)
    if not info.ok:
        print(f"build-images: no Docker daemon answers ({info.describe_failure()}); start Docker, or point "
              'DOCKER_HOST at the cluster\'s daemon (minikube: eval "$(minikube docker-env)")', file=sys.stderr)
        return 1
    try:
        for name, ref in planned_refs(settings).items():
            if engine.image_present(ref, os.environ):
                print(f"build-images: {ref} is already in the daemon '{info.stdout.strip()}'", file=sys.stderr)
            else:
                print(f"build-images: building {ref}", file=sys.stderr)
                build(name, ref, base_image_of(settings))
            print(ref)
    except BuildError as error:
        print(f"build-images: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
