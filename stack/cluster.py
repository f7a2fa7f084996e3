"""The target cluster: an explicit Kubernetes provider and the namespace every object lives in."""

from __future__ import annotations

import pulumi
from pulumi_kubernetes.core.v1 import Namespace
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs
from pulumi_kubernetes.provider import Provider

from stack.labels import MANAGED_BY, PART_OF
from stack.settings import Settings

POD_SECURITY_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
POD_SECURITY_LEVEL = "restricted"


def provider(settings: Settings) -> Provider:
    # The context's name and, at most, the kubeconfig's path: never its contents, which minikube rewrites on every
    # start (new certificates, new port) and which, as a provider input, would replace every resource.
    # An empty path, not None: given None the SDK substitutes $KUBECONFIG, and a value holding several paths
    # (`a:b`) is then taken for the file's contents. The provider treats "" as unset and resolves the kubeconfig
    # with client-go's loading rules, which do understand a path list.
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
            labels={
                "app.kubernetes.io/part-of": PART_OF,
                "app.kubernetes.io/managed-by": MANAGED_BY,
                # The API server's PodSecurity admission refuses any pod of ours that is not hardened to the
                # `restricted` profile (non-root, no privilege escalation, all capabilities dropped, seccomp).
                POD_SECURITY_ENFORCE_LABEL: POD_SECURITY_LEVEL,
            },
        ),
        opts=pulumi.ResourceOptions(provider=cluster),
    )
