"""Every declared object, rendered as a manifest, is strictly valid for Kubernetes 1.30 up to the newest schema
kubernetes-validate knows, and passes the enum checks its schemas lack."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
from kubernetes_validate.utils import all_versions

from tests.stack.manifests import manifest, walk
from tests.stack.mocked import evaluate

OLDEST = (1, 30)
VERSIONS = sorted({v for v in all_versions() if tuple(map(int, v.split(".")[:2])) >= OLDEST},
                  key=lambda v: tuple(map(int, v.split("."))))
EVERYTHING_ON = {"webApiAutoscale": "true", "recipeApiAutoscale": "true", "networkPolicies": "true"}
KINDS = {"Namespace", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy",
         "Ingress"}

# What the schemas leave as free strings, keyed by the field's path ending ("*" for any parent).
ENUMS = {
    ("pathType", "*"): {"Exact", "Prefix", "ImplementationSpecific"},
    ("imagePullPolicy", "*"): {"Always", "IfNotPresent", "Never"},
    ("type", "spec"): {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"},  # Service
    ("type", "strategy"): {"RollingUpdate", "Recreate"},
    ("type", "seccompProfile"): {"RuntimeDefault", "Localhost", "Unconfined"},
    ("type", "metrics"): {"Resource", "Pods", "Object", "External", "ContainerResource"},
    ("type", "target"): {"Utilization", "Value", "AverageValue"},
    ("protocol", "*"): {"TCP", "UDP", "SCTP"},
    ("medium", "emptyDir"): {"", "Memory"},
    ("policyTypes", "*"): {"Ingress", "Egress"},
    ("drop", "capabilities"): {"ALL"},
}


def _manifests() -> list[dict]:
    evaluation = evaluate(EVERYTHING_ON)
    manifests = [manifest(r) for r in evaluation.kubernetes_objects()]
    assert {m["kind"] for m in manifests} == KINDS
    assert len(manifests) == 12
    return manifests


def test_versions_cover_1_30_to_the_newest_known() -> None:
    assert VERSIONS[0].startswith("1.30.")
    assert VERSIONS[-1] == kubernetes_validate.latest_version()


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_is_strictly_valid(version: str) -> None:
    for document in _manifests():
        kubernetes_validate.validate(document, version, strict=True)


@pytest.mark.parametrize("version", [VERSIONS[0], VERSIONS[-1]])
def test_the_validation_rejects_a_misspelled_or_snake_case_field(version: str) -> None:
    deployment = next(m for m in _manifests() if m["kind"] == "Deployment")
    for mutate in (
        lambda d: d["spec"].__setitem__("replicaz", 3),
        lambda d: d["spec"]["template"]["spec"]["containers"][0].__setitem__("image_pull_policy", "Always"),
        lambda d: d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"].__setitem__("periodSeconds", "1"),
    ):
        broken = copy.deepcopy(deployment)
        mutate(broken)
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, version, strict=True)


def _parent(path: str) -> str:
    return path.rsplit(".", 1)[-1].split("[", 1)[0] if path else ""


def enum_violations(document: dict) -> tuple[list[str], set[tuple[str, str]]]:
    """The enum fields of `document` holding a value outside their set, and which enum rules applied at all."""
    violations, applied = [], set()
    for path, key, value in walk(document):
        for (field, parent), allowed in ENUMS.items():
            if key != field or (parent != "*" and _parent(path) != parent):
                continue
            if (field, parent) == ("type", "spec") and document["kind"] != "Service":
                continue
            applied.add((field, parent))
            if not set(value if isinstance(value, list) else [value]) <= allowed:
                violations.append(f"{document['kind']} {path}.{key} = {value!r}")
    return violations, applied


def test_enum_fields_hold_allowed_values() -> None:
    applied_anywhere = set()
    for document in _manifests():
        violations, applied = enum_violations(document)
        assert violations == []
        applied_anywhere |= applied
    assert applied_anywhere == set(ENUMS), f"enum rules that matched nothing: {set(ENUMS) - applied_anywhere}"


@pytest.mark.parametrize(("kind", "field", "bad"), [
    ("Ingress", "pathType", "Wrong"),
    ("Deployment", "imagePullPolicy", "Bogus"),
    ("Service", "type", "Bogus"),
])
def test_the_enum_check_catches_what_the_schemas_let_through(kind: str, field: str, bad: str) -> None:
    document = next(m for m in _manifests() if m["kind"] == kind)
    if kind == "Ingress":
        document["spec"]["rules"][0]["http"]["paths"][0][field] = bad
    elif kind == "Deployment":
        document["spec"]["template"]["spec"]["containers"][0][field] = bad
    else:
        document["spec"][field] = bad
    kubernetes_validate.validate(document, VERSIONS[-1], strict=True)  # the schema accepts it...
    violations, _ = enum_violations(document)
    assert len(violations) == 1 and f"{field} = {bad!r}" in violations[0]  # ...the enum check does not
