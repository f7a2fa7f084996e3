"""The services' container images, built from `apps/<name>` by the Docker daemon that DOCKER_HOST names.

With `eval $(minikube docker-env)` that daemon is minikube's own, so the node has the image with no registry; hence
`skip_push`. The provider rebuilds only when the build context changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

from stack.settings import ServiceSettings


@dataclass(frozen=True)
class BuiltImage:
    name: pulumi.Output[str]
    # The built image's id (`sha256:...`): it changes with the code even when the tag does not.
    digest: pulumi.Output[str]


def build(service: ServiceSettings, apps_dir: Path, base_image: str | None) -> BuiltImage:
    context = apps_dir / service.name
    image = docker.Image(
        f"{service.name}-image",
        image_name=service.image_name,
        build=docker.DockerBuildArgs(
            context=str(context),
            dockerfile=str(context / "Dockerfile"),
            args={"BASE_IMAGE": base_image} if base_image else None,
        ),
        skip_push=True,
    )
    return BuiltImage(name=image.image_name, digest=image.repo_digest)
