"""The way in: an nginx Ingress routing the configured host to web-api, and the address it is reachable at."""

from __future__ import annotations

import pulumi
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    HTTPIngressPathArgs,
    HTTPIngressRuleValueArgs,
    Ingress,
    IngressBackendArgs,
    IngressRuleArgs,
    IngressServiceBackendArgs,
    IngressSpecArgs,
    ServiceBackendPortArgs,
)

from stack.labels import MANAGED_BY, PART_OF, TIMEOUT_ANNOTATION
from stack.workload import PORT_NAME, Workload

INGRESS_CLASS = "nginx"
# ingress-nginx publishes an Ingress's address when it becomes the leader and then every 60 s
# (internal/ingress/status/status.go, `updateInterval`), so waiting less than that plus a leader election can fail a
# first create that is merely early.
STATUS_WAIT_FLOOR_SECONDS = 150
# Hand requests to web-api's Service (its ClusterIP) rather than to pod IPs the controller tracks itself. Measured on
# the local cluster (tests/cluster): a controller balancing over the endpoints it watches kept sending requests to
# pods that had stopped, seconds after they left the endpoints, and a rollout lost 2 to 46 requests; through the
# Service, kube-proxy drops a terminating pod as soon as its endpoint changes, as it does for web-api -> recipe-api,
# and rollouts lost none. ingress-nginx reads the same annotation.
SERVICE_UPSTREAM_ANNOTATION = "nginx.ingress.kubernetes.io/service-upstream"


def route(host: str, backend: Workload, namespace: pulumi.Input[str], timeout_seconds: int,
            opts: pulumi.ResourceOptions) -> Ingress:
    return Ingress(
        "ingress",
        metadata=ObjectMetaArgs(
            name="recipes",
            namespace=namespace,
            labels={"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/managed-by": MANAGED_BY},
            # Pulumi waits for the controller to publish an address; without the ingress addon that never happens.
            annotations={
                TIMEOUT_ANNOTATION: str(max(timeout_seconds, STATUS_WAIT_FLOOR_SECONDS)),
                SERVICE_UPSTREAM_ANNOTATION: "true",
            },
        ),
        spec=IngressSpecArgs(
            ingress_class_name=INGRESS_CLASS,
            rules=[IngressRuleArgs(
                host=host,
                http=HTTPIngressRuleValueArgs(paths=[HTTPIngressPathArgs(
                    path="/",
                    path_type="Prefix",
                    backend=IngressBackendArgs(service=IngressServiceBackendArgs(
                        name=backend.service.metadata.name,
                        port=ServiceBackendPortArgs(name=PORT_NAME),
                    )),
                )]),
            )],
        ),
        opts=opts,
    )


def address(entry: Ingress) -> pulumi.Output[str]:
    """The first IP (or hostname) the ingress controller published; empty while it has none."""

    def first(status) -> str:
        entries = (status.load_balancer.ingress if status and status.load_balancer else None) or []
        for point in entries:
            if point.ip or point.hostname:
                return point.ip or point.hostname
        return ""

    return entry.status.apply(first)


def curl_command(host: str, address_: pulumi.Output[str]) -> pulumi.Output[str]:
    return address_.apply(lambda ip: f'curl -H "Host: {host}" http://{ip}/')
