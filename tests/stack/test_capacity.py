"""The documented operations must fit a default minikube node (2 CPUs, 2200 MiB, minus what minikube's own pods
request: ops/capacity.py, with each number's source). Measured on what the program declares, under mocks, so
raising a request or a replica default past what a laptop's minikube schedules fails here, not in a Pending pod."""

from __future__ import annotations

import pytest

from ops import capacity
from tests.stack.manifests import containers
from tests.stack.mocked import Evaluation, evaluate

# The scale-out the README documents, and the e2e suite's own largest step.
README_SCALE_OUT = {"recipeApiReplicas": "10"}


def declared_requests(evaluation: Evaluation) -> capacity.Requests:
    """Every pod the Deployments can run at once (replicas, plus one surge pod each during a rollout)."""
    cpu = memory = 0
    for deployment in evaluation.kinds("Deployment"):
        pods = int(deployment.inputs["spec"]["replicas"]) + capacity.SURGE_PODS
        requests = containers(deployment)[0]["resources"]["requests"]
        cpu += pods * capacity.cpu_millicores(requests["cpu"])
        memory += pods * capacity.memory_bytes(requests["memory"])
    return capacity.Requests(cpu, memory)


def fits(requests: capacity.Requests) -> bool:
    available = capacity.DEFAULT_MINIKUBE_WORKLOAD
    return requests.cpu_milli <= available.cpu_milli and requests.memory_bytes <= available.memory_bytes


@pytest.mark.parametrize("config", [{}, README_SCALE_OUT], ids=["dev", "readme-scale-out"])
def test_the_documented_stack_fits_a_default_minikube_node(config: dict[str, str]) -> None:
    requests = declared_requests(evaluate(config))
    assert fits(requests), (f"{requests} does not fit a default minikube node's "
                            f"{capacity.DEFAULT_MINIKUBE_WORKLOAD}: pods would stay Pending")


def test_the_e2e_suite_at_its_largest_fits_beside_a_scaled_out_dev_stack() -> None:
    dev = declared_requests(evaluate(README_SCALE_OUT))
    e2e = declared_requests(evaluate({**README_SCALE_OUT, "namespace": "recipes-e2e"}))
    both = capacity.Requests(dev.cpu_milli + e2e.cpu_milli, dev.memory_bytes + e2e.memory_bytes)
    assert fits(both), both


def test_the_check_would_catch_the_old_requests() -> None:
    # The 100m requests of before: 13 pods and their surge asked for 1500m of a node that has 1150m to give.
    old = declared_requests(evaluate({**README_SCALE_OUT, "webApiCpuRequest": "100m", "recipeApiCpuRequest": "100m"}))
    assert not fits(old)


def test_doctor_and_the_program_count_the_same_requests() -> None:
    from ops import stack_keys
    from tests.stack.mocked import ROOT

    settings = stack_keys.stack_file_settings(ROOT, "dev")
    settings.update({f"recipes:{key}": value for key, value in README_SCALE_OUT.items()})
    assert capacity.stack_requests(settings) == declared_requests(evaluate(README_SCALE_OUT))
