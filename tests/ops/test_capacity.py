"""ops.capacity: what the stack requests at most, and what a default minikube node leaves for it (issue 9, item 2)."""

from __future__ import annotations

import pytest

from ops import capacity, stack_keys
from tests.ops.fakes import REPO

MIB = 2**20


def test_a_default_minikube_node_leaves_1150m_and_1840mi_for_workloads():
    assert capacity.DEFAULT_MINIKUBE_CPUS == 2 and capacity.DEFAULT_MINIKUBE_MEMORY_MIB == 2200
    assert capacity.SYSTEM_CPU_REQUESTS_MILLI == 850  # control plane 650m + CoreDNS 100m + ingress-nginx 100m
    assert capacity.SYSTEM_MEMORY_REQUESTS_BYTES == 260 * MIB
    assert capacity.DEFAULT_MINIKUBE_WORKLOAD == capacity.Requests(1150, 1840 * MIB)


def test_requests_count_every_replica_plus_one_surge_pod_per_deployment():
    settings = {"recipes:webApiReplicas": "3", "recipes:recipeApiReplicas": "5",
                "recipes:webApiCpuRequest": "100m", "recipes:webApiMemoryRequest": "64Mi",
                "recipes:recipeApiCpuRequest": "0.05", "recipes:recipeApiMemoryRequest": "32Mi"}
    assert capacity.stack_requests(settings) == capacity.Requests(4 * 100 + 6 * 50, (4 * 64 + 6 * 32) * MIB)


def test_an_autoscaled_service_counts_its_maximum_not_its_replicas():
    settings = {"recipes:webApiAutoscale": "true", "recipes:webApiAutoscaleMax": "7", "recipes:webApiReplicas": "3",
                "recipes:webApiCpuRequest": "10m", "recipes:recipeApiReplicas": "0",
                "recipes:recipeApiCpuRequest": "10m"}
    assert capacity.stack_requests(settings).cpu_milli == (7 + 1) * 10 + (0 + 1) * 10


def test_the_old_100m_requests_do_not_fit_the_readmes_scale_out_on_a_default_node():
    # issue 9 item 2: 13 pods (+2 surge) of 100m each on 2 CPUs, of which the system requests 850m.
    old = {f"recipes:{service}CpuRequest": "100m" for service in ("webApi", "recipeApi")}
    assert capacity.fits(old)
    assert not capacity.fits({**old, "recipes:recipeApiReplicas": "10"})
    roomy = capacity.Requests(capacity.RECOMMENDED_MINIKUBE_CPUS * 1000 - capacity.SYSTEM_CPU_REQUESTS_MILLI,
                              4096 * MIB)
    assert capacity.fits({**old, "recipes:recipeApiReplicas": "10"}, roomy)


def test_the_project_defaults_are_the_ones_capacity_falls_back_to():
    defaults = stack_keys.project_defaults(REPO / "Pulumi.yaml")
    for service, values in capacity.SERVICE_DEFAULTS.items():
        for suffix, value in values.items():
            assert defaults[f"recipes:{service}{suffix}"] == value, (service, suffix)


@pytest.mark.parametrize(("text", "millicores"), [("100m", 100), ("0.5", 500), ("2", 2000), ("1500m", 1500)])
def test_cpu_quantities(text, millicores):
    assert capacity.cpu_millicores(text) == millicores


@pytest.mark.parametrize(("text", "size"), [("64Mi", 64 * MIB), ("3920416Ki", 3920416 * 1024), ("1G", 10**9),
                                            ("128974848", 128974848), ("1e3", 1000)])
def test_memory_quantities(text, size):
    assert capacity.memory_bytes(text) == size


def test_a_bad_quantity_is_an_error():
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        capacity.cpu_millicores("lots")
