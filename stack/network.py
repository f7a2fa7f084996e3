"""NetworkPolicies: only the ingress controller reaches web-api, only web-api reaches recipe-api, DNS stays open.

Both policies also restrict egress, so each lists everything its pods dial: DNS for both, recipe-api for web-api.
They take effect only where the CNI enforces them (e.g. `minikube start --cni=calico`); elsewhere they are inert.
"""

from __future__ import annotations

import pulumi
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    NetworkPolicy,
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from stack.labels import object_labels, selector_labels
from stack.workload import PORT_NAME

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"  # set by Kubernetes on every namespace


def _dns_egress() -> NetworkPolicyEgressRuleArgs:
    return NetworkPolicyEgressRuleArgs(
        to=[NetworkPolicyPeerArgs(
            namespace_selector=LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: "kube-system"}),
            pod_selector=LabelSelectorArgs(match_labels={"k8s-app": "kube-dns"}),
        )],
        ports=[NetworkPolicyPortArgs(protocol="UDP", port=53), NetworkPolicyPortArgs(protocol="TCP", port=53)],
    )


def _http_port() -> list[NetworkPolicyPortArgs]:
    return [NetworkPolicyPortArgs(protocol="TCP", port=PORT_NAME)]


def _policy(service: str, namespace: pulumi.Input[str], spec: NetworkPolicySpecArgs,
            opts: pulumi.ResourceOptions) -> NetworkPolicy:
    return NetworkPolicy(
        service,
        metadata=ObjectMetaArgs(name=service, namespace=namespace, labels=object_labels(service)),
        spec=spec,
        opts=opts,
    )


def policies(*, web_api: str, recipe_api: str, namespace: pulumi.Input[str], ingress_controller_namespace: str,
             opts: pulumi.ResourceOptions) -> list[NetworkPolicy]:
    web_api_pods = LabelSelectorArgs(match_labels=selector_labels(web_api))
    recipe_api_pods = LabelSelectorArgs(match_labels=selector_labels(recipe_api))
    return [
        _policy(web_api, namespace, NetworkPolicySpecArgs(
            pod_selector=web_api_pods,
            policy_types=["Ingress", "Egress"],
            ingress=[NetworkPolicyIngressRuleArgs(
                from_=[NetworkPolicyPeerArgs(namespace_selector=LabelSelectorArgs(
                    match_labels={NAMESPACE_NAME_LABEL: ingress_controller_namespace}))],
                ports=_http_port(),
            )],
            egress=[
                _dns_egress(),
                NetworkPolicyEgressRuleArgs(to=[NetworkPolicyPeerArgs(pod_selector=recipe_api_pods)],
                                            ports=_http_port()),
            ],
        ), opts),
        _policy(recipe_api, namespace, NetworkPolicySpecArgs(
            pod_selector=recipe_api_pods,
            policy_types=["Ingress", "Egress"],
            ingress=[NetworkPolicyIngressRuleArgs(
                from_=[NetworkPolicyPeerArgs(pod_selector=web_api_pods)],
                ports=_http_port(),
            )],
            egress=[_dns_egress()],
        ), opts),
    ]
