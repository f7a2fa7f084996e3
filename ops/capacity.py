"""What the stack asks the scheduler for, and whether that fits a node.

`stack_requests(settings)` adds up the CPU (millicores) and memory (bytes) requests of every pod the stack can run at
once: per service, its replicas (the HorizontalPodAutoscaler's maximum while autoscaled) plus one surge pod for a
rolling update (`maxSurge: 1`, stack/workload.py). `fits(settings)` compares that with what a node started by a plain
`minikube start` leaves for workloads (the DEFAULT_MINIKUBE_* constants below); `make doctor` compares it with the
real node's allocatable instead (ops.doctor.check_capacity).

Standard library only: `make doctor` imports it before the venv exists. `settings` are the effective `recipes:*`
values as ops.stack_keys.stack_file_settings returns them (strings; a key left out takes stack/settings.py's default).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

MIB = 2**20

# ---------------------------------------------------------------- a default minikube node
# minikube, cmd/minikube/cmd/start_flags.go: `startCmd.Flags().Int(cpus, 2, ...)`, and `minimumCPUS = 2`.
DEFAULT_MINIKUBE_CPUS = 2
# minikube, cmd/minikube/cmd/start.go, suggestMemoryAllocation(): with no --memory, 25% of the host's RAM, but never
# less than `fallback := 2200` MiB (and at most 6000). The smallest default node is the one to plan for.
DEFAULT_MINIKUBE_MEMORY_MIB = 2200

# What is already requested on that node before our pods arrive (CPU millicores, memory MiB):
SYSTEM_REQUESTS: dict[str, tuple[int, int]] = {
    # kubernetes, cmd/kubeadm/app/phases/controlplane/manifests.go: staticpodutil.ComponentResources("250m"),
    # ("200m"), ("100m") for kube-apiserver, kube-controller-manager, kube-scheduler (CPU only).
    "kube-apiserver": (250, 0),
    "kube-controller-manager": (200, 0),
    "kube-scheduler": (100, 0),
    # kubernetes, cmd/kubeadm/app/phases/etcd/local.go: requests cpu 100m, memory 100Mi.
    "etcd": (100, 100),
    # kubernetes, cmd/kubeadm/app/phases/addons/dns/manifests.go (CoreDNS Deployment, 1 replica on minikube):
    # requests cpu 100m, memory 70Mi.
    "coredns": (100, 70),
    # minikube, deploy/addons/ingress/ingress-deploy.yaml.tmpl, the ingress-nginx-controller container:
    # `resources: requests: cpu: 100m, memory: 90Mi`. kube-proxy and storage-provisioner request nothing.
    "ingress-nginx-controller": (100, 90),
}
SYSTEM_CPU_REQUESTS_MILLI = sum(cpu for cpu, _ in SYSTEM_REQUESTS.values())  # 850m
SYSTEM_MEMORY_REQUESTS_BYTES = sum(memory for _, memory in SYSTEM_REQUESTS.values()) * MIB  # 260 MiB
# The kubelet's default hard eviction threshold `memory.available<100Mi` comes off the node's allocatable memory.
KUBELET_EVICTION_MEMORY_BYTES = 100 * MIB

# What a default minikube node leaves for workloads: 1150m CPU and 1840 MiB (2200 - 100 - 260).
DEFAULT_MINIKUBE_WORKLOAD_CPU_MILLI = DEFAULT_MINIKUBE_CPUS * 1000 - SYSTEM_CPU_REQUESTS_MILLI
DEFAULT_MINIKUBE_WORKLOAD_MEMORY_BYTES = (DEFAULT_MINIKUBE_MEMORY_MIB * MIB - KUBELET_EVICTION_MEMORY_BYTES
                                          - SYSTEM_MEMORY_REQUESTS_BYTES)

# What scripts/deploy starts minikube with (unless MINIKUBE_CPUS / MINIKUBE_MEMORY are set): room for the README's
# operations (recipeApiReplicas 10, autoscaling to the maximum) and the e2e suite beside a deployed dev stack.
RECOMMENDED_MINIKUBE_CPUS = 4
RECOMMENDED_MINIKUBE_MEMORY_MIB = 4096
RECOMMENDED_MINIKUBE_START = (f"minikube start --cpus={RECOMMENDED_MINIKUBE_CPUS} "
                              f"--memory={RECOMMENDED_MINIKUBE_MEMORY_MIB // 1024}g")

# ---------------------------------------------------------------- the stack's own requests
SURGE_PODS = 1  # maxSurge: 1 in stack/workload.py: one extra pod per Deployment while it rolls out
# Pulumi.yaml's defaults, for keys the settings leave out (the system Python may lack PyYAML to read them);
# tests/ops/test_capacity.py keeps the two equal.
SERVICE_DEFAULTS = {
    "webApi": {"Replicas": "3", "CpuRequest": "25m", "MemoryRequest": "32Mi",
               "Autoscale": "false", "AutoscaleMin": "2", "AutoscaleMax": "10"},
    "recipeApi": {"Replicas": "5", "CpuRequest": "25m", "MemoryRequest": "32Mi",
                  "Autoscale": "false", "AutoscaleMin": "2", "AutoscaleMax": "10"},
}
SERVICE_NAMES = {"webApi": "web-api", "recipeApi": "recipe-api"}


@dataclass(frozen=True)
class Requests:
    cpu_milli: int
    memory_bytes: int

    def __add__(self, other: Requests) -> Requests:
        return Requests(self.cpu_milli + other.cpu_milli, self.memory_bytes + other.memory_bytes)

    def __sub__(self, other: Requests) -> Requests:
        return Requests(self.cpu_milli - other.cpu_milli, self.memory_bytes - other.memory_bytes)

    def fits_in(self, available: Requests) -> bool:
        return self.cpu_milli <= available.cpu_milli and self.memory_bytes <= available.memory_bytes

    def describe(self) -> str:
        return f"{self.cpu_milli}m CPU, {self.memory_bytes / MIB:.0f}Mi memory"


DEFAULT_MINIKUBE_WORKLOAD = Requests(DEFAULT_MINIKUBE_WORKLOAD_CPU_MILLI, DEFAULT_MINIKUBE_WORKLOAD_MEMORY_BYTES)


@dataclass(frozen=True)
class ServiceRequests:
    name: str  # web-api, recipe-api
    pods: int  # at most, during a rolling update: replicas (or the HPA maximum) + the surge pod
    per_pod: Requests
    autoscaled: bool

    @property
    def total(self) -> Requests:
        return Requests(self.pods * self.per_pod.cpu_milli, self.pods * self.per_pod.memory_bytes)

    def describe(self) -> str:
        count = "autoscale max" if self.autoscaled else "replicas"
        return f"{self.name} {self.pods - SURGE_PODS} {count} + {SURGE_PODS} surge x {self.per_pod.describe()}"


def service_requests(settings: Mapping[str, str]) -> list[ServiceRequests]:
    services = []
    for prefix, defaults in SERVICE_DEFAULTS.items():
        def value(suffix: str, prefix: str = prefix, defaults: Mapping[str, str] = defaults) -> str:
            return str(settings.get(f"recipes:{prefix}{suffix}", defaults[suffix])).strip()

        autoscaled = value("Autoscale").lower() == "true"
        replicas = int(value("AutoscaleMax") if autoscaled else value("Replicas"))
        per_pod = Requests(cpu_millicores(value("CpuRequest")), memory_bytes(value("MemoryRequest")))
        services.append(ServiceRequests(SERVICE_NAMES[prefix], replicas + SURGE_PODS, per_pod, autoscaled))
    return services


def stack_requests(settings: Mapping[str, str]) -> Requests:
    """The most the stack requests at once: every service's pods (HPA maximum when autoscaled) plus a surge pod each."""
    total = Requests(0, 0)
    for service in service_requests(settings):
        total += service.total
    return total


def fits(settings: Mapping[str, str], available: Requests = DEFAULT_MINIKUBE_WORKLOAD) -> bool:
    """True when the stack's requests fit what a default minikube node (or `available`) leaves for workloads."""
    return stack_requests(settings).fits_in(available)


# ---------------------------------------------------------------- Kubernetes quantities

_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_FACTORS = {None: 1, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
            "E": 1e18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def parse_quantity(text: str) -> float:
    """A Kubernetes resource quantity ('100m', '0.5', '64Mi', '3920416Ki', '1e3') as a number of base units."""
    match = _QUANTITY.match(str(text).strip())
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return float(match[1]) * _FACTORS[match[2]]


def cpu_millicores(text: str) -> int:
    return round(parse_quantity(text) * 1000)


def memory_bytes(text: str) -> int:
    return round(parse_quantity(text))
