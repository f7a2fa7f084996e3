"""The target cluster: an explicit Kubernetes provider and the namespace every object lives in."""

from __future__ import annotations

import pulumi
from pulumi_kubernetes.core.v1 import Namespace
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs
from pulumi_kubernetes.provider import Provider

from stack.labels import MANAGED_BY, PART_OF
from stack.settings import Settings


def provider(settings: Settings) -> Provider:
    # The context's name and, at most, the kubeconfig's path: never its contents, which minikube rewrites on every
    # start (new certificates, new port) and which, as a provider input, would replace every resource.
    return Provider(
        "cluster",
        context=settings.kube_context,
        kubeconfig=settings.kubeconfig_path,
    )


def namespace(settings: Settings, cluster: Provider) -> Namespace:
    return Namespace(
        "namespace",
        metadata=ObjectMetaArgs(
            name=settings.namespace,
            labels={"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/managed-by": MANAGED_BY},
        ),
        opts=pulumi.ResourceOptions(provider=cluster),
    )
