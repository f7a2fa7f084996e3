"""`make doctor`: check the prerequisites of a deploy and print the exact command that fixes each missing one.

Two groups, so that scripts/deploy can check the tools before it starts anything:
- tools (`--tools-only`): Python 3.11+, the docker, minikube and pulumi CLIs (pulumi's version too);
- cluster, for the stack's kube context (`recipes:kubeContext`):
  - `minikube`: minikube running, its ingress addon, Docker pointed at minikube's daemon, the kube context;
  - any other context: the context exists, its cluster answers (/readyz), and an IngressClass `nginx` exists;
  - both: the server is Kubernetes 1.30+ (the preStop `sleep` action), and the node has room for what the stack
    requests (ops.capacity); as warnings only, metrics-server when a service is autoscaled and (minikube) a CNI that
    enforces NetworkPolicies.
Each root cause is reported once: a check that depends on a failed one is shown as "not checked", not as a failure.
Exits non-zero when a required check fails. Every command it runs is bounded by a timeout.
Standard library only (PyYAML is used when present), so it runs with the system Python before the venv exists.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops import capacity, stack_keys
from ops.commands import CommandOutcome, run_bounded

PROJECT_DIR = Path(__file__).resolve().parents[1]
MINIMUM_PYTHON = (3, 11)
# The oldest CLI that Pulumi's Automation API (used by tests/e2e) accepts: pulumi/automation/_minimum_version.py.
MINIMUM_PULUMI = (3, 1, 0)
# CNIs that enforce NetworkPolicy objects; minikube's default (bridge or kindnet) does not.
ENFORCING_CNIS = frozenset({"calico", "cilium"})
# The preStop `sleep` action (stack/workload.py) is served from Kubernetes 1.30 (KEP-3960, beta and on by default).
MINIMUM_KUBERNETES = (1, 30)
MINIKUBE_CONTEXT = "minikube"
INGRESS_CLASS = "nginx"
TOOL_TIMEOUT = 20.0
MINIKUBE_TIMEOUT = 45.0
KUBECTL_TIMEOUT = 20.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    required: bool = True
    skipped: bool = False  # not run, because a check it depends on failed (reported there, once)

    @property
    def label(self) -> str:
        if self.ok:
            return "ok"
        if self.skipped:
            return "--"
        return "FAIL" if self.required else "warn"

    @property
    def failed(self) -> bool:
        """A required check that ran and failed: a root cause to fix."""
        return not self.ok and self.required and not self.skipped


def not_checked(name: str, because: str) -> Check:
    return Check(name, False, f"not checked: {because}", required=False, skipped=True)


@dataclass
class Context:
    """What the checks need to know about this machine; tests build one with stand-in tools on PATH."""

    env: Mapping[str, str]
    system: str  # platform.system(): 'Linux', 'Darwin'
    profile: str = "minikube"
    kube_context: str = MINIKUBE_CONTEXT
    settings: Mapping[str, str] | None = None  # the stack's effective recipes:* values
    machine: str = field(default_factory=platform.machine)  # 'x86_64', 'aarch64', 'arm64'
    root: bool = field(default_factory=lambda: hasattr(os, "geteuid") and os.geteuid() == 0)

    def run(self, *argv: str, timeout: float = TOOL_TIMEOUT) -> CommandOutcome:
        return run_bounded(argv, timeout=timeout, env=self.env)

    @property
    def on_minikube(self) -> bool:
        """The stack deploys to minikube's context, so the minikube checks (and their fixes) apply."""
        return self.kube_context == MINIKUBE_CONTEXT

    @property
    def namespace(self) -> str:
        return (self.settings or {}).get("recipes:namespace") or "recipes"

    def kubectl(self, *args: str, timeout: float = KUBECTL_TIMEOUT) -> CommandOutcome:
        """kubectl against the stack's cluster: its context, and its kubeconfig when `kubeconfigPath` is set."""
        argv = ["kubectl", "--context", self.kube_context]
        kubeconfig = (self.settings or {}).get("recipes:kubeconfigPath")
        if kubeconfig:
            argv += ["--kubeconfig", kubeconfig]
        return self.run(*argv, *args, timeout=timeout)


# ---------------------------------------------------------------- fixes, per platform

# `uname -m` / platform.machine() -> the architecture names of minikube's and Kubernetes' release binaries.
RELEASE_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
                "ppc64le": "ppc64le", "s390x": "s390x"}


def release_arch(machine: str) -> str:
    return RELEASE_ARCH.get(machine.lower(), machine.lower() or "amd64")


def install_fix(tool: str, system: str, machine: str | None = None, root: bool | None = None) -> str:
    """The command that installs `tool` on this machine: Homebrew on macOS; elsewhere the release binary for this OS
    and architecture, with `sudo` only when not already root."""
    mac = system == "Darwin"
    machine = platform.machine() if machine is None else machine
    root = (hasattr(os, "geteuid") and os.geteuid() == 0) if root is None else root
    sudo = "" if root else "sudo "
    arch = release_arch(machine)
    os_name = "darwin" if mac else "linux"
    if tool == "python":
        return "brew install python@3.12" if mac else (
            f"{sudo}apt-get install -y python3.11 python3.11-venv    # then run: make deploy PYTHON=python3.11")
    if tool == "docker":
        return ("brew install --cask docker    # then start Docker Desktop" if mac
                else "curl -fsSL https://get.docker.com | sh")
    if tool == "minikube":
        if mac:
            return "brew install minikube"
        binary = f"minikube-{os_name}-{arch}"
        return (f"curl -LO https://storage.googleapis.com/minikube/releases/latest/{binary} && "
                f"{sudo}install {binary} /usr/local/bin/minikube")
    if tool == "pulumi":
        return "brew install pulumi/tap/pulumi" if mac else (
            "curl -fsSL https://get.pulumi.com | sh    # then open a new shell so 'pulumi' is on PATH")
    if tool == "kubectl":
        if mac:
            return "brew install kubectl"
        return (f'curl -LO "https://dl.k8s.io/release/$(curl -Ls https://dl.k8s.io/release/stable.txt)/bin/'
                f'{os_name}/{arch}/kubectl" && {sudo}install kubectl /usr/local/bin/kubectl'
                "    # or use 'minikube kubectl --' in its place")
    raise KeyError(tool)


def fix_for(ctx: Context, tool: str) -> str:
    return install_fix(tool, ctx.system, ctx.machine, ctx.root)


# ---------------------------------------------------------------- tools

def check_python(ctx: Context, version: Sequence[int] = tuple(sys.version_info[:3])) -> Check:
    shown = ".".join(str(part) for part in version)
    if tuple(version[:2]) >= MINIMUM_PYTHON:
        return Check("python", True, f"Python {shown}")
    return Check("python", False, f"Python {shown} is older than 3.11", fix_for(ctx, "python"))


def check_docker_cli(ctx: Context) -> Check:
    outcome = ctx.run("docker", "--version")
    if outcome.ok:
        return Check("docker CLI", True, outcome.stdout.strip())
    return Check("docker CLI", False, outcome.describe_failure(), fix_for(ctx, "docker"))


def check_minikube_cli(ctx: Context) -> Check:
    outcome = ctx.run("minikube", "version", "--short")
    if outcome.ok:
        return Check("minikube CLI", True, outcome.stdout.strip())
    return Check("minikube CLI", False, outcome.describe_failure(), fix_for(ctx, "minikube"))


def check_pulumi_cli(ctx: Context) -> Check:
    outcome = ctx.run("pulumi", "version", timeout=30.0)
    if not outcome.ok:
        return Check("pulumi CLI", False, outcome.describe_failure(), fix_for(ctx, "pulumi"))
    text = outcome.stdout.strip()
    version = parse_version(text)
    if version is None:
        return Check("pulumi CLI", False, f"cannot read a version from 'pulumi version': {text!r}",
                     fix_for(ctx, "pulumi"))
    if version < MINIMUM_PULUMI:
        wanted = ".".join(map(str, MINIMUM_PULUMI))
        return Check("pulumi CLI", False, f"{text} is older than {wanted}", fix_for(ctx, "pulumi"))
    sdk = sdk_lower_bound(PROJECT_DIR / "requirements.txt")
    if sdk is not None and version < sdk:
        return Check("pulumi CLI", True, f"{text} (older than the Python SDK's {'.'.join(map(str, sdk))}; "
                     f"update with: {fix_for(ctx, 'pulumi')})")
    return Check("pulumi CLI", True, text)


def check_kubectl_cli(ctx: Context) -> Check:
    outcome = ctx.run("kubectl", "version", "--client", "-o", "json")
    if outcome.ok:
        try:
            shown = json.loads(outcome.stdout)["clientVersion"]["gitVersion"]
        except (ValueError, KeyError, TypeError):
            shown = "present"
        return Check("kubectl CLI", True, shown, required=False)
    return Check("kubectl CLI", False, f"{outcome.describe_failure()} (optional: to watch pods, and for make e2e)",
                 fix_for(ctx, "kubectl"), required=False)


def parse_version(text: str) -> tuple[int, int, int] | None:
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def sdk_lower_bound(requirements: Path) -> tuple[int, int, int] | None:
    try:
        match = re.search(r"^pulumi>=([0-9.]+)", requirements.read_text(), re.MULTILINE)
    except OSError:
        return None
    if not match:
        return None
    parts = [int(part) for part in match[1].split(".")] + [0, 0]
    return parts[0], parts[1], parts[2]


# ---------------------------------------------------------------- cluster

def minikube_status(ctx: Context) -> tuple[dict[str, Any] | None, CommandOutcome]:
    # `minikube status` exits non-zero when anything is stopped, but still prints the JSON.
    outcome = ctx.run("minikube", "status", "-p", ctx.profile, "-o", "json", timeout=MINIKUBE_TIMEOUT)
    try:
        status = json.loads(outcome.stdout)
    except ValueError:
        return None, outcome
    if isinstance(status, list):  # multi-node clusters print one object per node
        status = status[0] if status else None
    return (status if isinstance(status, dict) else None), outcome


def check_minikube_running(ctx: Context) -> Check:
    fix = f"minikube start -p {ctx.profile}"
    status, outcome = minikube_status(ctx)
    if status is None:
        if outcome.missing:
            return Check("minikube running", False, "minikube is not installed", fix_for(ctx, "minikube"))
        if "not found" in (outcome.stderr + outcome.stdout).lower():  # no cluster yet: create it with room
            fix = (f"{capacity.RECOMMENDED_MINIKUBE_START} -p {ctx.profile}"
                   "    # or: make deploy, which creates it so")
        return Check("minikube running", False, outcome.describe_failure(), fix)
    parts = {part: status.get(part) for part in ("Host", "Kubelet", "APIServer")}
    if all(state == "Running" for state in parts.values()):
        return Check("minikube running", True, f"profile '{ctx.profile}': host, kubelet and apiserver running")
    shown = ", ".join(f"{part} {state or 'unknown'}" for part, state in parts.items())
    return Check("minikube running", False, f"profile '{ctx.profile}': {shown}", fix)


def minikube_addons(ctx: Context) -> dict[str, Any] | None:
    outcome = ctx.run("minikube", "addons", "list", "-p", ctx.profile, "-o", "json", timeout=MINIKUBE_TIMEOUT)
    if not outcome.ok:
        return None
    try:
        addons = json.loads(outcome.stdout)
    except ValueError:
        return None
    return addons if isinstance(addons, dict) else None


def addon_enabled(addons: Mapping[str, Any], name: str) -> bool:
    entry = addons.get(name)
    return isinstance(entry, dict) and entry.get("Status") == "enabled"


def check_ingress_addon(ctx: Context, addons: Mapping[str, Any] | None) -> Check:
    fix = f"minikube addons enable ingress -p {ctx.profile}"
    if addons is None:
        return Check("ingress addon", False, "cannot list minikube's addons (is minikube running?)", fix)
    if addon_enabled(addons, "ingress"):
        return Check("ingress addon", True, "enabled")
    return Check("ingress addon", False, "the ingress addon is disabled", fix)


def check_docker_env(ctx: Context) -> Check:
    fix = f'eval "$(minikube -p {ctx.profile} docker-env)"'
    docker_host = ctx.env.get("DOCKER_HOST")
    if not docker_host:
        return Check("docker -> minikube", False,
                     "DOCKER_HOST is not set, so images would be built by this machine's daemon, which minikube's "
                     "node cannot see", fix)
    outcome = ctx.run("docker", "info", "--format", "{{.Name}}")
    if not outcome.ok:
        return Check("docker -> minikube", False, f"DOCKER_HOST={docker_host}, but {outcome.describe_failure()}", fix)
    name = outcome.stdout.strip()
    if name != ctx.profile:
        return Check("docker -> minikube", False,
                     f"DOCKER_HOST={docker_host} is the daemon of '{name}', not of minikube's node '{ctx.profile}'",
                     fix)
    return Check("docker -> minikube", True, f"DOCKER_HOST={docker_host} (daemon '{name}')")


def check_kube_context(ctx: Context) -> Check:
    fix = (f"minikube update-context -p {ctx.profile}" if ctx.on_minikube else
           "pulumi config set kubeContext <one of: kubectl config get-contexts -o name>")
    name = f"kube context '{ctx.kube_context}'"
    contexts = kube_contexts(ctx)
    if contexts is None:
        return Check(name, False, "cannot read the kubeconfig: neither kubectl nor PyYAML is available",
                     fix_for(ctx, "kubectl"))
    if ctx.kube_context in contexts:
        return Check(name, True, "present in the kubeconfig")
    shown = ", ".join(sorted(contexts)) or "none"
    return Check(name, False, f"not in the kubeconfig (contexts: {shown})", fix)


def kube_contexts(ctx: Context) -> set[str] | None:
    outcome = ctx.run("kubectl", "config", "get-contexts", "-o", "name")
    if outcome.ok:
        return {line.strip() for line in outcome.stdout.splitlines() if line.strip()}
    try:
        import yaml
    except ImportError:
        return None
    contexts: set[str] = set()
    for path in kubeconfig_paths(ctx.env):
        try:
            document = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError):
            continue
        for entry in (document or {}).get("contexts") or []:
            if isinstance(entry, dict) and entry.get("name"):
                contexts.add(str(entry["name"]))
    return contexts


def kubeconfig_paths(env: Mapping[str, str]) -> list[Path]:
    if env.get("KUBECONFIG"):
        return [Path(part) for part in env["KUBECONFIG"].split(os.pathsep) if part]
    return [Path(env.get("HOME", str(Path.home()))) / ".kube" / "config"]


def autoscaled(settings: Mapping[str, str]) -> list[str]:
    return [key for key in stack_keys.AUTOSCALE_KEYS if settings.get(key, "false").lower() == "true"]


def check_metrics_server(ctx: Context, addons: Mapping[str, Any] | None) -> Check | None:
    keys = autoscaled(ctx.settings or {})
    if not keys:
        return None
    fix = f"minikube addons enable metrics-server -p {ctx.profile}"
    if addons is not None and addon_enabled(addons, "metrics-server"):
        return Check("metrics-server", True, f"enabled ({', '.join(keys)} is on)", required=False)
    return Check("metrics-server", False,
                 f"{', '.join(keys)} is on, but without metrics-server the HPA cannot read CPU and never scales",
                 fix, required=False)


def minikube_profile_config(ctx: Context) -> dict[str, Any] | None:
    """The profile's config from `minikube profile list -o json` (driver, CNI), or None when unreadable."""
    outcome = ctx.run("minikube", "profile", "list", "-o", "json", timeout=MINIKUBE_TIMEOUT)
    try:
        profiles = json.loads(outcome.stdout).get("valid") or []
    except (ValueError, AttributeError):
        return None
    for profile in profiles:
        if isinstance(profile, dict) and profile.get("Name") == ctx.profile:
            config = profile.get("Config")
            return config if isinstance(config, dict) else {}
    return None


def minikube_cni(ctx: Context) -> str | None:
    """The CNI minikube was started with ('' when left to minikube), or None when it cannot be read."""
    config = minikube_profile_config(ctx)
    if config is None:
        return None
    return str((config.get("KubernetesConfig") or {}).get("CNI") or "")


def check_network_policy_cni(ctx: Context) -> Check | None:
    settings = ctx.settings or {}
    if settings.get(stack_keys.NETWORK_POLICIES, "true").lower() != "true":
        return None
    cni = minikube_cni(ctx)
    if cni is None:
        return None  # cannot tell cheaply; the README says which CNI enforces them
    if cni.lower() in ENFORCING_CNIS:
        return Check("NetworkPolicy CNI", True, f"{cni} enforces NetworkPolicies", required=False)
    shown = cni or "minikube's default"
    return Check("NetworkPolicy CNI", False,
                 f"the CNI is {shown}, which does not enforce NetworkPolicies: they are declared but not applied",
                 f"minikube delete -p {ctx.profile} && {capacity.RECOMMENDED_MINIKUBE_START} -p {ctx.profile} "
                 f"--cni=calico && minikube addons enable ingress -p {ctx.profile}"
                 "    # recreates the cluster, then make deploy redeploys it; or: pulumi config set networkPolicies "
                 "false",
                 required=False)


def check_cluster_answers(ctx: Context) -> Check:
    """The cluster behind a non-minikube context answers (minikube's own status check covers minikube)."""
    name = "cluster answers"
    outcome = ctx.kubectl("get", "--raw", "/readyz")
    if outcome.missing:
        return Check(name, False, "kubectl is needed to reach a cluster that is not minikube", fix_for(ctx, "kubectl"))
    if outcome.ok and outcome.stdout.strip() == "ok":
        return Check(name, True, f"context '{ctx.kube_context}': /readyz ok")
    return Check(name, False, f"context '{ctx.kube_context}': {outcome.describe_failure()}",
                 f"start the cluster behind '{ctx.kube_context}', or point the stack at one that runs: "
                 "pulumi config set kubeContext <context>")


def check_ingress_class(ctx: Context) -> Check:
    name = f"IngressClass '{INGRESS_CLASS}'"
    outcome = ctx.kubectl("get", "ingressclass", INGRESS_CLASS, "-o", "name")
    if outcome.ok and outcome.stdout.strip():
        return Check(name, True, "present (an ingress-nginx controller serves the stack's Ingress)")
    return Check(name, False, f"context '{ctx.kube_context}': {outcome.describe_failure()}",
                 "install ingress-nginx: kubectl apply -f https://raw.githubusercontent.com/kubernetes/ingress-nginx/"
                 "main/deploy/static/provider/cloud/deploy.yaml")


def server_version(ctx: Context) -> tuple[tuple[int, int, int] | None, str]:
    """The API server's version from `kubectl get --raw /version` (minikube: its profile's config as a fallback),
    and a description of the failure when it cannot be read."""
    outcome = ctx.kubectl("get", "--raw", "/version")
    if outcome.ok:
        try:
            git_version = str(json.loads(outcome.stdout).get("gitVersion", ""))
        except (ValueError, AttributeError):
            git_version = ""
        version = parse_version(git_version)
        if version is not None:
            return version, ""
        return None, f"cannot read a version from {outcome.stdout.strip()[:80]!r}"
    if ctx.on_minikube:
        config = minikube_profile_config(ctx)
        text = str(((config or {}).get("KubernetesConfig") or {}).get("KubernetesVersion") or "")
        version = parse_version(text)
        if version is not None:
            return version, ""
    return None, outcome.describe_failure()


def check_server_version(ctx: Context) -> Check:
    name = "Kubernetes version"
    wanted = ".".join(map(str, MINIMUM_KUBERNETES))
    version, problem = server_version(ctx)
    if version is None:
        return Check(name, False, f"cannot read the server version: {problem}", required=False)
    shown = "v" + ".".join(map(str, version))
    if version[:2] >= MINIMUM_KUBERNETES:
        return Check(name, True, f"{shown} (at least {wanted}: the preStop sleep action)")
    fix = (f"minikube start -p {ctx.profile} --kubernetes-version=stable    # upgrades the cluster in place"
           if ctx.on_minikube else f"upgrade the cluster behind '{ctx.kube_context}' to Kubernetes {wanted} or newer")
    return Check(name, False, f"{shown} is older than {wanted}, which the pods' preStop sleep action needs", fix)


def kubectl_json(ctx: Context, *args: str) -> tuple[Any, str]:
    outcome = ctx.kubectl(*args, "-o", "json")
    if not outcome.ok:
        return None, outcome.describe_failure()
    try:
        return json.loads(outcome.stdout), ""
    except ValueError:
        return None, f"'kubectl {' '.join(args)} -o json' printed something that is not JSON"


def pod_requests(pod: Mapping[str, Any]) -> capacity.Requests:
    """What the scheduler counts for a pod: its containers' requests (or its largest init container's, if more),
    plus its overhead."""
    spec = pod.get("spec") or {}

    def summed(containers: Any, combine: Callable[[int, int], int]) -> capacity.Requests:
        cpu = memory = 0
        for container in containers or []:
            requests = ((container or {}).get("resources") or {}).get("requests") or {}
            cpu = combine(cpu, capacity.cpu_millicores(requests["cpu"]) if "cpu" in requests else 0)
            memory = combine(memory, capacity.memory_bytes(requests["memory"]) if "memory" in requests else 0)
        return capacity.Requests(cpu, memory)

    main = summed(spec.get("containers"), lambda a, b: a + b)
    init = summed(spec.get("initContainers"), max)
    overhead = spec.get("overhead") or {}
    return capacity.Requests(
        max(main.cpu_milli, init.cpu_milli) + (capacity.cpu_millicores(overhead["cpu"]) if "cpu" in overhead else 0),
        max(main.memory_bytes, init.memory_bytes)
        + (capacity.memory_bytes(overhead["memory"]) if "memory" in overhead else 0),
    )


def node_room(ctx: Context) -> tuple[capacity.Requests | None, capacity.Requests | None, str]:
    """(allocatable of the schedulable nodes, what pods outside the stack's namespace already request, problem)."""
    nodes, problem = kubectl_json(ctx, "get", "nodes")
    if nodes is None:
        return None, None, problem
    allocatable = capacity.Requests(0, 0)
    for node in (nodes or {}).get("items") or []:
        if (node.get("spec") or {}).get("unschedulable"):
            continue
        values = (node.get("status") or {}).get("allocatable") or {}
        allocatable += capacity.Requests(capacity.cpu_millicores(values.get("cpu", "0")),
                                         capacity.memory_bytes(values.get("memory", "0")))
    pods, problem = kubectl_json(ctx, "get", "pods", "--all-namespaces",
                                 "--field-selector=status.phase!=Succeeded,status.phase!=Failed")
    if pods is None:
        return None, None, problem
    others = capacity.Requests(0, 0)
    for pod in (pods or {}).get("items") or []:
        if (pod.get("metadata") or {}).get("namespace") != ctx.namespace:
            others += pod_requests(pod)
    return allocatable, others, ""


def capacity_fix(ctx: Context) -> str:
    lower = "or lower what the stack requests: pulumi config set recipeApiReplicas <n> (or *CpuRequest/*MemoryRequest)"
    if ctx.on_minikube:
        return (f"minikube delete -p {ctx.profile} && {capacity.RECOMMENDED_MINIKUBE_START} -p {ctx.profile} && "
                f"minikube addons enable ingress -p {ctx.profile}    # a bigger node; make deploy then redeploys; "
                + lower)
    return f"add a node to the cluster behind '{ctx.kube_context}', " + lower


def check_capacity(ctx: Context) -> Check:
    name = "node capacity"
    settings = ctx.settings or {}
    try:
        need = capacity.stack_requests(settings)
        breakdown = "; ".join(service.describe() for service in capacity.service_requests(settings))
    except ValueError as error:
        return Check(name, False, f"cannot add up the stack's requests: {error}", required=False)
    try:
        allocatable, others, problem = node_room(ctx)
    except ValueError as error:
        allocatable, others, problem = None, None, str(error)
    if allocatable is None or others is None:
        return Check(name, False, f"cannot read the nodes' allocatable resources: {problem}", required=False)
    free = allocatable - others
    detail = (f"the stack requests up to {need.describe()} ({breakdown}); the nodes have {free.describe()} free "
              f"({allocatable.describe()} allocatable, {others.describe()} requested by other namespaces)")
    if need.fits_in(free):
        return Check(name, True, detail)
    return Check(name, False, "pods would stay Pending: " + detail, capacity_fix(ctx))


# ---------------------------------------------------------------- running

def tool_checks(ctx: Context) -> list[Check]:
    # minikube is a prerequisite only of a stack that deploys to it (tests/cluster found it required for any context).
    minikube = [check_minikube_cli(ctx)] if ctx.kube_context == "minikube" else []
    return [check_python(ctx), check_docker_cli(ctx), *minikube, check_pulumi_cli(ctx), check_kubectl_cli(ctx)]


def cluster_checks(ctx: Context, tools: Sequence[Check] = ()) -> list[Check]:
    """The cluster checks for the stack's context. `tools`: the tool checks already run, so that a missing CLI is
    reported once (there) and what needs it is shown as not checked."""
    missing = {check.name for check in tools if not check.ok}
    if ctx.on_minikube:
        return minikube_checks(ctx, missing)
    return other_cluster_checks(ctx, missing)


def minikube_checks(ctx: Context, missing_tools: set[str]) -> list[Check]:
    checks: list[Check] = []
    if "minikube CLI" in missing_tools:
        because = "the minikube CLI is missing (see above)"
        running = not_checked("minikube running", because)
    else:
        running = check_minikube_running(ctx)
        because = "minikube is not installed" if running.fix == fix_for(ctx, "minikube") else \
            "minikube is not running (see above)"
    checks.append(running)
    addons = minikube_addons(ctx) if running.ok else None
    if not running.ok:
        checks += [not_checked("ingress addon", because), not_checked("docker -> minikube", because),
                   not_checked(f"kube context '{ctx.kube_context}'", because)]
    else:
        checks.append(check_ingress_addon(ctx, addons))
        checks.append(not_checked("docker -> minikube", "the docker CLI is missing (see above)")
                      if "docker CLI" in missing_tools else check_docker_env(ctx))
        context = check_kube_context(ctx)
        checks.append(context)
        checks += api_checks(ctx, context.ok, "kubectl CLI" not in missing_tools)
    metrics = check_metrics_server(ctx, addons)
    if metrics is not None and not running.ok:
        metrics = not_checked("metrics-server", because)
    checks.extend(check for check in (metrics, check_network_policy_cni(ctx) if running.ok else None) if check)
    return checks


def other_cluster_checks(ctx: Context, missing_tools: set[str]) -> list[Check]:
    context = check_kube_context(ctx)
    checks = [context]
    if "kubectl CLI" in missing_tools:
        # kubectl is optional on minikube, but it is the only way this tool reaches another cluster.
        checks.append(Check("cluster answers", False, f"kubectl is needed to reach the context '{ctx.kube_context}'",
                            fix_for(ctx, "kubectl")))
        return checks
    if not context.ok:
        return checks + [not_checked("cluster answers", f"the context '{ctx.kube_context}' is missing (see above)")]
    answers = check_cluster_answers(ctx)
    checks.append(answers)
    if not answers.ok:
        return checks + [not_checked(name, "the cluster does not answer (see above)")
                         for name in (f"IngressClass '{INGRESS_CLASS}'", "Kubernetes version", "node capacity")]
    checks.append(check_ingress_class(ctx))
    return checks + api_checks(ctx, True, True)


def api_checks(ctx: Context, context_ok: bool, have_kubectl: bool) -> list[Check]:
    """The checks that ask the API server: its version (on minikube, read from its profile without kubectl), and
    room on the nodes."""
    if not context_ok:
        because = f"the context '{ctx.kube_context}' is missing (see above)"
        return [not_checked("Kubernetes version", because), not_checked("node capacity", because)]
    version = check_server_version(ctx) if have_kubectl or ctx.on_minikube else \
        not_checked("Kubernetes version", "needs kubectl")
    room = check_capacity(ctx) if have_kubectl else not_checked("node capacity", "needs kubectl (optional)")
    return [version, room]


def all_checks(ctx: Context) -> list[Check]:
    tools = tool_checks(ctx)
    return tools + cluster_checks(ctx, tools)


def check_minikube_profile(ctx: Context) -> Check:
    exists = minikube_profile_config(ctx) is not None
    return Check("minikube profile", exists, f"profile '{ctx.profile}' {'exists' if exists else 'does not exist'}",
                 None if exists else f"minikube start -p {ctx.profile}")


SINGLE_CHECKS: dict[str, Callable[[Context], Check]] = {
    "minikube-running": check_minikube_running,
    "minikube-profile": check_minikube_profile,
    "ingress-addon": lambda ctx: check_ingress_addon(ctx, minikube_addons(ctx)),
    "docker-env": check_docker_env,
    "capacity": check_capacity,
}


def report(checks: Sequence[Check], out=sys.stdout, retry: str = "make doctor") -> bool:
    """Print one line per check (and its fix); True when every required check passed. A check skipped because
    another failed is listed, not counted: each root cause is reported once."""
    width = max(len(check.name) for check in checks)
    for check in checks:
        print(f"{check.label:<4}  {check.name.ljust(width)}  {check.detail}", file=out)
        if not check.ok and not check.skipped and check.fix:
            print(f"{'':<4}  {'':<{width}}  fix: {check.fix}", file=out)
    failed = [check.name for check in checks if check.failed]
    if failed:
        skipped = sum(1 for check in checks if check.skipped)
        later = f" ({skipped} more not checked until then)" if skipped else ""
        print(f"\n{len(failed)} required check(s) failed: {', '.join(failed)}{later}. Run the fix shown for each, "
              f"then rerun: {retry}", file=out)
    return not failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make doctor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default=os.environ.get("STACK", "dev"), help="the stack whose config to read")
    parser.add_argument("--profile", default="minikube", help="the minikube profile (default: minikube)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--tools-only", action="store_true", help="check only the installed tools")
    group.add_argument("--only", choices=sorted(SINGLE_CHECKS), help="run one check (scripts/deploy uses this)")
    parser.add_argument("--retry", default="make doctor", help="the command the summary says to rerun")
    args = parser.parse_args(argv)
    settings = stack_keys.stack_file_settings(PROJECT_DIR, args.stack)
    ctx = Context(env=os.environ, system=platform.system(), profile=args.profile,
                  kube_context=settings.get(stack_keys.KUBE_CONTEXT) or MINIKUBE_CONTEXT, settings=settings)
    if args.only:
        checks = [SINGLE_CHECKS[args.only](ctx)]
    elif args.tools_only:
        checks = tool_checks(ctx)
    else:
        checks = all_checks(ctx)
    return 0 if report(checks, retry=args.retry) else 1


if __name__ == "__main__":
    sys.exit(main())
