"""What the end-to-end suite needs, checked in a few bounded seconds, as one message naming each missing piece and
its fix. The suite skips with that message.

Its target is the kube context `E2E_KUBE_CONTEXT` names: `minikube` by default (the images built into minikube's
daemon by pulumi-docker), or any other cluster, such as the local cluster CI runs (`recipes-local`, from
scripts/local-cluster), where the images are built beforehand by scripts/build-images into the daemon the node
runs them from."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping

from ops import doctor
from ops.commands import run_bounded

MINIKUBE = "minikube"


def target_context(env: Mapping[str, str]) -> str:
    return env.get("E2E_KUBE_CONTEXT") or MINIKUBE


KUBE_CONTEXT = target_context(os.environ)
CLUSTER_TIMEOUT = 15.0


def missing_prerequisites(env: Mapping[str, str] | None = None, system: str | None = None) -> str | None:
    """None when everything is in place, else 'e2e needs: <what> (fix: <command>); ...'."""
    env = os.environ if env is None else env
    context = target_context(env)
    ctx = doctor.Context(env=env, system=system or platform.system(), kube_context=context)
    missing: list[str] = []
    pulumi = doctor.check_pulumi_cli(ctx)
    if not pulumi.ok:
        missing.append(f"the Pulumi CLI ({pulumi.detail}; fix: {pulumi.fix})")
    cluster = cluster_problem(ctx)
    if cluster:
        missing.append(cluster)
    elif context == MINIKUBE:
        ingress = doctor.check_ingress_addon(ctx, doctor.minikube_addons(ctx))
        if not ingress.ok:
            missing.append(f"minikube's ingress addon ({ingress.detail}; fix: {ingress.fix})")
    if context == MINIKUBE:
        docker = doctor.check_docker_env(ctx)
        if not docker.ok:
            missing.append(f"Docker pointed at minikube ({docker.detail}; fix: {docker.fix})")
    return "e2e needs: " + "; ".join(missing) if missing else None


def cluster_problem(ctx: doctor.Context) -> str | None:
    outcome = run_bounded(["kubectl", "--context", ctx.kube_context, "get", "--raw", "/readyz"],
                          timeout=CLUSTER_TIMEOUT, env=ctx.env)
    if outcome.missing:
        return f"kubectl, to reach the cluster (fix: {doctor.install_fix('kubectl', ctx.system)})"
    if not outcome.ok or outcome.stdout.strip() != "ok":
        fix = ("minikube start && minikube addons enable ingress" if ctx.kube_context == MINIKUBE
               else f"start the cluster of the context '{ctx.kube_context}' (the local one: scripts/local-cluster up && "
                    'eval "$(scripts/local-cluster env)")')
        return (f"a cluster answering for the kube context '{ctx.kube_context}' ({outcome.describe_failure()}; "
                f"fix: {fix})")
    return None
