"""Kubernetes labels and annotations shared by every object of a service.

The selector carries only what never changes for a service (its name and the product): a Deployment's selector is
immutable, so a version in it would turn every upgrade into a replacement.
"""

from __future__ import annotations

PART_OF = "recipes"
MANAGED_BY = "pulumi"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
TIMEOUT_ANNOTATION = "pulumi.com/timeoutSeconds"
# Server-side apply takes fields another manager owns instead of failing with a conflict (pulumi-kubernetes).
PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce"


def selector_labels(service: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": service, "app.kubernetes.io/part-of": PART_OF}


def object_labels(service: str) -> dict[str, str]:
    """Labels for the Deployment, Service, PDB, HPA: stable across versions."""
    return {**selector_labels(service), "app.kubernetes.io/managed-by": MANAGED_BY}


def pod_labels(service: str, version: str) -> dict[str, str]:
    # `app` too, so the kubectl commands people know (`kubectl get pods -l app=web-api`) find our pods. Never in the
    # selector: that is immutable, and changing it would replace the Deployments.
    return {**object_labels(service), "app.kubernetes.io/version": version, "app": service}
