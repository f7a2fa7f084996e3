"""The services' container images, under content-derived references (`stack/image_refs.py`).

Two ways to get them, chosen by `recipes:imageBuilder`:
- `pulumi` (the default): pulumi-docker builds them during `pulumi up`, in the Docker daemon DOCKER_HOST names.
  With `eval $(minikube docker-env)` that is minikube's own daemon, so the node has the image with no registry;
  hence `skip_push`.
- `external`: something outside Pulumi built them under the same references before `pulumi up`, as a CI pipeline
  does (`scripts/build-images`, which `scripts/deploy` runs). The program only deploys the references.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from stack import image_refs
from stack.settings import IMAGE_BUILDER_PULUMI, ServiceSettings


@dataclass(frozen=True)
class BuiltImage:
    # The reference the pods run: `<service>:<version>-<content hash>`. It changes whenever the image's content does,
    # so a code change under an unchanged version still changes the pod template and rolls out.
    ref: pulumi.Output[str]


def build(service: ServiceSettings, base_image: str | None, builder: str) -> BuiltImage:
    apps_dir = image_refs.APPS_DIR
    ref = image_refs.image_ref(service.name, service.version, base_image, apps_dir)
    if builder != IMAGE_BUILDER_PULUMI:
        return BuiltImage(ref=pulumi.Output.from_input(ref))

    import pulumi_docker as docker  # only this builder needs the docker provider plugin

    image = docker.Image(
        f"{service.name}-image",
        image_name=ref,
        build=docker.DockerBuildArgs(
            context=str(apps_dir),
            dockerfile=str(image_refs.dockerfile_of(service.name, apps_dir)),
            args={"BASE_IMAGE": base_image} if base_image else None,
        ),
        skip_push=True,
    )
    return BuiltImage(ref=image.image_name)


def daemon_problem(kube_context: str, builder: str, env: Mapping[str, str]) -> str | None:
    """Why the images would be built where the cluster's node cannot see them, or None.

    Without DOCKER_HOST, pulumi-docker builds into this machine's daemon; minikube's pods would then try to pull
    the image from Docker Hub and the rollout would fail only at its timeout. So for minikube that is an error.
    """
    if kube_context != "minikube" or builder != IMAGE_BUILDER_PULUMI or env.get("DOCKER_HOST"):
        return None
    return ("DOCKER_HOST is not set, so the images would be built by this machine's Docker daemon, which minikube's "
            "node cannot see: its pods would fail to pull them. Point Docker at minikube and rerun: "
            'eval "$(minikube -p minikube docker-env)" && pulumi up   (or run: make deploy)')
