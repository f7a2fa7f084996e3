"""Read-only questions to the real cluster for the end-to-end suite, through kubectl, each bounded in time."""

from __future__ import annotations

import json
from typing import Any

from ops.commands import run_bounded
from tests.e2e.prerequisites import KUBE_CONTEXT
from tests.support.kube import ready

KUBECTL_TIMEOUT = 30.0


def kubectl_json(*args: str) -> Any:
    outcome = run_bounded(["kubectl", "--context", KUBE_CONTEXT, *args, "-o", "json"], timeout=KUBECTL_TIMEOUT)
    if not outcome.ok:
        raise AssertionError(outcome.describe_failure())
    return json.loads(outcome.stdout)


def ready_pods(namespace: str, app: str) -> list[dict[str, Any]]:
    """Pods of `app` that are Ready and not terminating."""
    pods = kubectl_json("get", "pods", "-n", namespace, "-l", f"app.kubernetes.io/name={app}")["items"]
    return [pod for pod in pods if ready(pod)]


def namespace_exists(namespace: str) -> bool:
    outcome = run_bounded(["kubectl", "--context", KUBE_CONTEXT, "get", "namespace", namespace],
                          timeout=KUBECTL_TIMEOUT)
    if outcome.ok:
        return True
    if "NotFound" in outcome.stderr or "not found" in outcome.stderr:
        return False
    raise AssertionError(outcome.describe_failure())
