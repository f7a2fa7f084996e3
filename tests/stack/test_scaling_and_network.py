"""Autoscaling, disruption budgets and network policies: each selects exactly the pods it is meant for."""

from __future__ import annotations

import pytest

from tests.stack.manifests import containers, matches, pod_labels, resolves_to_declared_port
from tests.stack.mocked import Evaluation, evaluate

SERVICES = ("web-api", "recipe-api")
PEER = {"web-api": "recipe-api", "recipe-api": "web-api"}
AUTOSCALED_WEB_API = {"webApiAutoscale": "true", "webApiAutoscaleMin": "3", "webApiAutoscaleMax": "12",
                      "webApiAutoscaleCpuPercent": "60"}


# Autoscaling

def test_no_autoscaler_unless_asked(dev: Evaluation) -> None:
    assert len(dev.kinds("Deployment")) == 2
    assert dev.kinds("HorizontalPodAutoscaler") == []
    for name in SERVICES:
        assert "replicas" in dev.one("Deployment", name).inputs["spec"]


def test_an_autoscaled_service_gets_an_hpa_on_cpu_targeting_its_deployment() -> None:
    evaluation = evaluate(AUTOSCALED_WEB_API)
    (hpa,) = evaluation.kinds("HorizontalPodAutoscaler")
    assert hpa.inputs["apiVersion"] == "autoscaling/v2"
    spec = hpa.inputs["spec"]
    deployment = evaluation.one("Deployment", spec["scaleTargetRef"]["name"])
    assert deployment.inputs["metadata"]["name"] == "web-api"
    assert spec["scaleTargetRef"]["kind"] == deployment.inputs["kind"] == "Deployment"
    assert spec["scaleTargetRef"]["apiVersion"] == deployment.inputs["apiVersion"] == "apps/v1"
    assert hpa.inputs["metadata"]["namespace"] == deployment.inputs["metadata"]["namespace"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 12)
    (metric,) = spec["metrics"]
    assert metric["type"] == "Resource"
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 60}
    # Utilization is relative to the request, which the pods therefore must declare.
    assert containers(deployment)[0]["resources"]["requests"]["cpu"] == "25m"
    assert "recipes:index:Workload$" in hpa.urn


PATCH_FORCE = "pulumi.com/patchForce"


def test_while_autoscaled_the_deployment_keeps_a_count_and_leaves_it_to_the_hpa() -> None:
    """Switching on never releases spec.replicas (released, the API server would reset it to 1 pod): the count stays
    declared, clamped into the HPA's range, and pulumi-kubernetes ignores it while autoscaled. Switching off, the
    config takes the field back by force. tests/cluster proves both switches on a real cluster."""
    from stack.settings import parse_settings
    from stack.workload import replicas_while_autoscaled

    evaluation = evaluate({**AUTOSCALED_WEB_API, "webApiReplicas": "7"})
    web_api, recipe_api = evaluation.one("Deployment", "web-api"), evaluation.one("Deployment", "recipe-api")
    assert web_api.inputs["spec"]["replicas"] == 7
    assert PATCH_FORCE not in web_api.inputs["metadata"]["annotations"]
    assert recipe_api.inputs["spec"]["replicas"] == 5
    assert recipe_api.inputs["metadata"]["annotations"][PATCH_FORCE] == "true"
    assert [hpa.inputs["metadata"]["name"] for hpa in evaluation.kinds("HorizontalPodAutoscaler")] == ["web-api"]

    settings = parse_settings({**AUTOSCALED_WEB_API, "webApiReplicas": "7"})
    assert replicas_while_autoscaled(settings.web_api) == ["spec.replicas"]
    assert replicas_while_autoscaled(settings.recipe_api) == []


@pytest.mark.parametrize(("replicas", "declared"), [("0", 3), ("1", 3), ("20", 12)])
def test_an_autoscaled_count_outside_the_hpa_range_is_clamped_into_it(replicas: str, declared: int) -> None:
    evaluation = evaluate({**AUTOSCALED_WEB_API, "webApiReplicas": replicas})  # min 3, max 12
    assert evaluation.one("Deployment", "web-api").inputs["spec"]["replicas"] == declared


def test_both_services_can_be_autoscaled() -> None:
    evaluation = evaluate({"webApiAutoscale": "true", "recipeApiAutoscale": "true"})
    hpas = {hpa.inputs["spec"]["scaleTargetRef"]["name"]: hpa for hpa in evaluation.kinds("HorizontalPodAutoscaler")}
    assert set(hpas) == set(SERVICES)
    for name in SERVICES:
        assert PATCH_FORCE not in evaluation.one("Deployment", name).inputs["metadata"]["annotations"]


# Disruption budgets

@pytest.mark.parametrize("name", SERVICES)
def test_each_service_has_a_budget_of_one_unavailable_pod_selecting_its_own_pods(dev: Evaluation, name: str) -> None:
    budget = dev.one("PodDisruptionBudget", name)
    assert budget.inputs["apiVersion"] == "policy/v1"
    assert budget.inputs["spec"]["maxUnavailable"] == 1
    assert "minAvailable" not in budget.inputs["spec"]
    selector = budget.inputs["spec"]["selector"]["matchLabels"]
    assert matches(selector, pod_labels(dev.one("Deployment", name)))
    assert not matches(selector, pod_labels(dev.one("Deployment", PEER[name])))


@pytest.mark.parametrize(("config", "budgets"), [
    ({"webApiReplicas": "2", "recipeApiReplicas": "2"}, ["recipe-api", "web-api"]),
    ({"webApiReplicas": "1"}, ["recipe-api"]),
    ({"webApiReplicas": "0", "recipeApiReplicas": "1"}, []),
    ({"webApiReplicas": "1", "webApiAutoscale": "true", "webApiAutoscaleMin": "2"}, ["recipe-api", "web-api"]),
    ({"recipeApiAutoscale": "true", "recipeApiAutoscaleMin": "1"}, ["web-api"]),
])
def test_a_budget_exists_only_where_replicas_allow_it(config: dict[str, str], budgets: list[str]) -> None:
    evaluation = evaluate(config)
    assert len(evaluation.kinds("Deployment")) == 2
    assert sorted(b.inputs["metadata"]["name"] for b in evaluation.kinds("PodDisruptionBudget")) == budgets


# Network policies

def _policy(evaluation: Evaluation, name: str) -> dict:
    return evaluation.one("NetworkPolicy", name).inputs["spec"]


@pytest.mark.parametrize("name", SERVICES)
def test_each_policy_selects_only_its_own_pods(dev: Evaluation, name: str) -> None:
    selector = _policy(dev, name)["podSelector"]["matchLabels"]
    assert matches(selector, pod_labels(dev.one("Deployment", name)))
    assert not matches(selector, pod_labels(dev.one("Deployment", PEER[name])))
    assert sorted(_policy(dev, name)["policyTypes"]) == ["Egress", "Ingress"]


def test_only_web_api_pods_may_reach_recipe_api_on_its_serving_port(dev: Evaluation) -> None:
    (rule,) = _policy(dev, "recipe-api")["ingress"]
    (peer,) = rule["from"]
    assert set(peer) == {"podSelector"}  # no namespaceSelector: only pods of this namespace
    assert matches(peer["podSelector"]["matchLabels"], pod_labels(dev.one("Deployment", "web-api")))
    assert not matches(peer["podSelector"]["matchLabels"], pod_labels(dev.one("Deployment", "recipe-api")))
    (container,) = containers(dev.one("Deployment", "recipe-api"))
    assert [port["protocol"] for port in rule["ports"]] == ["TCP"]
    assert all(resolves_to_declared_port(port["port"], container) for port in rule["ports"])


def test_only_the_ingress_controllers_namespace_may_reach_web_api(dev: Evaluation) -> None:
    (rule,) = _policy(dev, "web-api")["ingress"]
    (peer,) = rule["from"]
    assert peer == {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    (container,) = containers(dev.one("Deployment", "web-api"))
    assert all(resolves_to_declared_port(port["port"], container) for port in rule["ports"])

    other = evaluate({"ingressControllerNamespace": "kube-ingress"})
    (rule,) = _policy(other, "web-api")["ingress"]
    assert rule["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-ingress"}


def _allows_dns(rule: dict) -> bool:
    ports = {(port["protocol"], port["port"]) for port in rule.get("ports", [])}
    return ports == {("UDP", 53), ("TCP", 53)} and any(
        peer.get("namespaceSelector", {}).get("matchLabels") == {"kubernetes.io/metadata.name": "kube-system"}
        and peer.get("podSelector", {}).get("matchLabels") == {"k8s-app": "kube-dns"}
        for peer in rule.get("to", [])
    )


@pytest.mark.parametrize("name", SERVICES)
def test_dns_egress_stays_open(dev: Evaluation, name: str) -> None:
    assert [rule for rule in _policy(dev, name)["egress"] if _allows_dns(rule)]


def test_web_api_may_dial_recipe_api_and_recipe_api_dials_nothing_but_dns(dev: Evaluation) -> None:
    web_egress = [rule for rule in _policy(dev, "web-api")["egress"] if not _allows_dns(rule)]
    (rule,) = web_egress
    (peer,) = rule["to"]
    recipe_api = dev.one("Deployment", "recipe-api")
    assert matches(peer["podSelector"]["matchLabels"], pod_labels(recipe_api))
    # Egress is checked after the Service's port 80 is translated to the pod's port: it must name that one.
    (container,) = containers(recipe_api)
    assert all(resolves_to_declared_port(port["port"], container) for port in rule["ports"])
    assert all(_allows_dns(rule) for rule in _policy(dev, "recipe-api")["egress"])


def test_network_policies_can_be_turned_off() -> None:
    evaluation = evaluate({"networkPolicies": "false"})
    assert len(evaluation.kinds("Deployment")) == 2
    assert evaluation.kinds("NetworkPolicy") == []
