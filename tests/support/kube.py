"""What the tests ask of Kubernetes objects as `kubectl get -o json` returns them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def ready(pod: Mapping[str, Any]) -> bool:
    """Ready and not terminating: a pod that takes traffic."""
    return not pod["metadata"].get("deletionTimestamp") and any(
        condition["type"] == "Ready" and condition["status"] == "True"
        for condition in pod.get("status", {}).get("conditions", []))
