"""One HTTP service on Kubernetes: Deployment + ClusterIP Service + PodDisruptionBudget + optional autoscaler.

Rollouts are zero-downtime by construction: a new pod gets traffic only once `/ready` answers, no old pod stops
before a new one is ready (maxUnavailable 0), and a stopping pod drains: the preStop sleep keeps it serving while
the endpoint removal reaches kube-proxy and the ingress controller, then SIGTERM makes the app fail `/ready`, serve
SHUTDOWN_DELAY_SECONDS more, finish in-flight requests and exit, all well within the grace period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import pulumi
from pulumi_kubernetes.apps.v1 import (
    Deployment,
    DeploymentSpecArgs,
    DeploymentStrategyArgs,
    RollingUpdateDeploymentArgs,
)
from pulumi_kubernetes.autoscaling.v2 import (
    CrossVersionObjectReferenceArgs,
    HorizontalPodAutoscaler,
    HorizontalPodAutoscalerSpecArgs,
    MetricSpecArgs,
    MetricTargetArgs,
    ResourceMetricSourceArgs,
)
from pulumi_kubernetes.core.v1 import (
    CapabilitiesArgs,
    ContainerArgs,
    ContainerPortArgs,
    EmptyDirVolumeSourceArgs,
    EnvVarArgs,
    HTTPGetActionArgs,
    LifecycleArgs,
    LifecycleHandlerArgs,
    PodSecurityContextArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ProbeArgs,
    ResourceRequirementsArgs,
    SeccompProfileArgs,
    SecurityContextArgs,
    Service,
    ServicePortArgs,
    ServiceSpecArgs,
    SleepActionArgs,
    VolumeArgs,
    VolumeMountArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.policy.v1 import PodDisruptionBudget, PodDisruptionBudgetSpecArgs

from stack.images import BuiltImage
from stack.labels import (
    CHANGE_CAUSE_ANNOTATION,
    PATCH_FORCE_ANNOTATION,
    TIMEOUT_ANNOTATION,
    object_labels,
    pod_labels,
    selector_labels,
)
from stack.settings import ServiceSettings

PORT_NAME = "http"
SERVICE_PORT = 80
RUN_AS_USER = 10001  # the images' numeric USER

# Draining, in seconds. The grace period covers all three with room to spare; the kubelet counts the preStop
# sleep against it.
PRE_STOP_SLEEP_SECONDS = 5
SHUTDOWN_DELAY_SECONDS = 2
DRAIN_BUDGET_SECONDS = 10
TERMINATION_GRACE_PERIOD_SECONDS = PRE_STOP_SLEEP_SECONDS + SHUTDOWN_DELAY_SECONDS + DRAIN_BUDGET_SECONDS + 8


@dataclass(frozen=True)
class WorkloadArgs:
    settings: ServiceSettings
    image: BuiltImage
    namespace: pulumi.Input[str]
    container_port: int
    rollout_timeout_seconds: int
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


def _probe(path: str, *, period: int, failures: int, timeout: int = 1) -> ProbeArgs:
    return ProbeArgs(
        http_get=HTTPGetActionArgs(path=path, port=PORT_NAME),
        period_seconds=period,
        failure_threshold=failures,
        timeout_seconds=timeout,
    )


def _container(args: WorkloadArgs) -> ContainerArgs:
    service = args.settings
    env = {
        "HOST": "0.0.0.0",
        "PORT": str(args.container_port),
        "APP_VERSION": service.version,
        "SHUTDOWN_DELAY_SECONDS": str(SHUTDOWN_DELAY_SECONDS),
        **args.env,
    }
    return ContainerArgs(
        name=service.name,
        image=args.image.ref,
        image_pull_policy="IfNotPresent",
        ports=[ContainerPortArgs(name=PORT_NAME, container_port=args.container_port, protocol="TCP")],
        env=[EnvVarArgs(name=name, value=value) for name, value in env.items()],
        # The apps answer within ~0.5 s of starting. The startup probe polls every second (up to 30 s) and holds
        # off liveness meanwhile; readiness then polls every second, so a new pod is Ready 1-2 s after it starts.
        startup_probe=_probe("/health", period=1, failures=30),
        readiness_probe=_probe("/ready", period=1, failures=2),
        liveness_probe=_probe("/health", period=10, failures=3, timeout=2),
        lifecycle=LifecycleArgs(pre_stop=LifecycleHandlerArgs(sleep=SleepActionArgs(seconds=PRE_STOP_SLEEP_SECONDS))),
        resources=ResourceRequirementsArgs(
            requests={"cpu": service.resources.cpu_request, "memory": service.resources.memory_request},
            limits={"cpu": service.resources.cpu_limit, "memory": service.resources.memory_limit},
        ),
        security_context=SecurityContextArgs(
            run_as_non_root=True,
            run_as_user=RUN_AS_USER,
            run_as_group=RUN_AS_USER,
            read_only_root_filesystem=True,
            allow_privilege_escalation=False,
            capabilities=CapabilitiesArgs(drop=["ALL"]),
        ),
        volume_mounts=[VolumeMountArgs(name="tmp", mount_path="/tmp")],
    )


def in_cluster_url(service: str, namespace: pulumi.Input[str], cluster_domain: str) -> pulumi.Output[str]:
    """The Service's fully qualified DNS name and port, as other pods reach it."""
    return pulumi.Output.concat("http://", service, ".", namespace, ".svc.", cluster_domain, ":", str(SERVICE_PORT))


def _initial_replicas(service: ServiceSettings) -> int:
    if service.autoscaling is None:
        return service.replicas
    return min(max(service.replicas, service.autoscaling.min_replicas), service.autoscaling.max_replicas)


def replicas_while_autoscaled(service: ServiceSettings) -> list[str]:
    """While an autoscaler owns the count, pulumi-kubernetes leaves spec.replicas alone: it drops a field another
    field manager owns from its apply, and otherwise applies the live value (provider/pkg/await/await.go,
    handleSSAIgnoreFields). So neither switching on (the count stays) nor scaling by the HPA causes a conflict."""
    return ["spec.replicas"] if service.autoscaling else []


class Workload(pulumi.ComponentResource):
    """A service's Deployment, Service, PodDisruptionBudget and, when autoscaled, HorizontalPodAutoscaler."""

    deployment: Deployment
    service: Service
    disruption_budget: PodDisruptionBudget | None
    autoscaler: HorizontalPodAutoscaler | None

    def __init__(self, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        service = args.settings
        super().__init__("recipes:index:Workload", service.name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = object_labels(service.name)
        selector = LabelSelectorArgs(match_labels=selector_labels(service.name))

        def metadata(**extra) -> ObjectMetaArgs:
            return ObjectMetaArgs(name=service.name, namespace=args.namespace, labels=labels, **extra)

        deployment_annotations = {
            CHANGE_CAUSE_ANNOTATION: f"{service.name} {service.version}",
            # A broken version fails `pulumi up` after this long; maxUnavailable 0 keeps the old pods serving.
            TIMEOUT_ANNOTATION: str(args.rollout_timeout_seconds),
        }
        if not service.autoscaling:
            # The config owns the replica count: take spec.replicas back from whoever changed it since (an autoscaler
            # just switched off, `kubectl scale`) rather than fail with a server-side-apply conflict.
            deployment_annotations[PATCH_FORCE_ANNOTATION] = "true"

        self.deployment = Deployment(
            service.name,
            metadata=metadata(annotations=deployment_annotations),
            spec=DeploymentSpecArgs(
                # Always set, so switching the autoscaler on never releases the field (the API server would reset
                # it to 1 pod); while autoscaled it is ignored (see `replicas_while_autoscaled`).
                replicas=_initial_replicas(service),
                selector=selector,
                strategy=DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1),
                ),
                template=PodTemplateSpecArgs(
                    metadata=ObjectMetaArgs(labels=pod_labels(service.name, service.version)),
                    spec=PodSpecArgs(
                        containers=[_container(args)],
                        termination_grace_period_seconds=TERMINATION_GRACE_PERIOD_SECONDS,
                        automount_service_account_token=False,
                        security_context=PodSecurityContextArgs(
                            run_as_non_root=True,
                            seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
                        ),
                        volumes=[VolumeArgs(
                            name="tmp",
                            empty_dir=EmptyDirVolumeSourceArgs(medium="Memory", size_limit="16Mi"),
                        )],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=replicas_while_autoscaled(service)),
        )

        self.service = Service(
            service.name,
            # Pulumi waits for the Service's endpoints; give up when the rollout does, not after its own 10 minutes.
            metadata=metadata(annotations={TIMEOUT_ANNOTATION: str(args.rollout_timeout_seconds)}),
            spec=ServiceSpecArgs(
                type="ClusterIP",
                selector=selector_labels(service.name),
                ports=[ServicePortArgs(name=PORT_NAME, port=SERVICE_PORT, target_port=PORT_NAME, protocol="TCP")],
            ),
            opts=child,
        )

        # A budget protects only a service that keeps a pod up while another is evicted.
        self.disruption_budget = (
            PodDisruptionBudget(
                service.name,
                metadata=metadata(),
                spec=PodDisruptionBudgetSpecArgs(max_unavailable=1, selector=selector),
                opts=child,
            )
            if service.fewest_replicas >= 2
            else None
        )

        self.autoscaler = (
            HorizontalPodAutoscaler(
                service.name,
                metadata=metadata(),
                spec=HorizontalPodAutoscalerSpecArgs(
                    scale_target_ref=CrossVersionObjectReferenceArgs(
                        api_version="apps/v1", kind="Deployment", name=service.name
                    ),
                    min_replicas=service.autoscaling.min_replicas,
                    max_replicas=service.autoscaling.max_replicas,
                    metrics=[MetricSpecArgs(
                        type="Resource",
                        resource=ResourceMetricSourceArgs(
                            name="cpu",
                            target=MetricTargetArgs(
                                type="Utilization", average_utilization=service.autoscaling.cpu_percent
                            ),
                        ),
                    )],
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.deployment]),
            )
            if service.autoscaling
            else None
        )

        self.register_outputs({
            "deployment": self.deployment.metadata.name,
            "service": self.service.metadata.name,
        })
