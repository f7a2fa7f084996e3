"""The services' container images, built from `apps/<name>` by the Docker daemon that DOCKER_HOST names.

With `eval $(minikube docker-env)` that daemon is minikube's own, so the node has the image with no registry; hence
`skip_push`. The provider rebuilds only when the build context changes.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def daemon_warning(kube_context: str, env: Mapping[str, str]) -> str | None:
    """A warning when the images would be built where minikube's node cannot see them, else None.

    Without DOCKER_HOST the build goes to this machine's daemon; minikube's pods would then try to pull
    `<name>:<version>` from Docker Hub and the rollout would fail only at its timeout.
    """
    if kube_context != "minikube" or env.get("DOCKER_HOST"):
        return None
    return ("DOCKER_HOST is not set, so the images are built by this machine's Docker daemon, which minikube's node "
            "cannot see (unless minikube runs with --driver=none): its pods would fail to pull them. Point Docker at "
            'minikube and rerun: eval "$(minikube -p minikube docker-env)" && pulumi up   (or run: make deploy)')
