"""`make doctor`: check the prerequisites of a deploy and print the exact command that fixes each missing one.

Two groups, so that scripts/deploy can check the tools before it starts anything:
- tools (`--tools-only`): Python 3.11+, the docker, minikube and pulumi CLIs (pulumi's version too);
- cluster: minikube running, its ingress addon, Docker pointed at minikube's daemon, the kube context; and, as
  warnings only, metrics-server when a service is autoscaled and a CNI that enforces NetworkPolicies.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops import stack_keys
from ops.commands import CommandOutcome, run_bounded

PROJECT_DIR = Path(__file__).resolve().parents[1]
MINIMUM_PYTHON = (3, 11)
# The oldest CLI that Pulumi's Automation API (used by tests/e2e) accepts: pulumi/automation/_minimum_version.py.
MINIMUM_PULUMI = (3, 1, 0)
# CNIs that enforce NetworkPolicy objects; minikube's default (bridge or kindnet) does not.
ENFORCING_CNIS = frozenset({"calico", "cilium"})
TOOL_TIMEOUT = 20.0
MINIKUBE_TIMEOUT = 45.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    required: bool = True

    @property
    def label(self) -> str:
        if self.ok:
            return "ok"
        return "FAIL" if self.required else "warn"


@dataclass
class Context:
    """What the checks need to know about this machine; tests build one with stand-in tools on PATH."""

    env: Mapping[str, str]
    system: str  # platform.system(): 'Linux', 'Darwin'
    profile: str = "minikube"
    kube_context: str = "minikube"
    settings: Mapping[str, str] | None = None  # the stack's effective recipes:* values

    def run(self, *argv: str, timeout: float = TOOL_TIMEOUT) -> CommandOutcome:
        return run_bounded(argv, timeout=timeout, env=self.env)


# ---------------------------------------------------------------- fixes, per platform

def install_fix(tool: str, system: str) -> str:
    mac = system == "Darwin"
    fixes = {
        "python": "brew install python@3.12" if mac else "sudo apt-get install -y python3.11 python3.11-venv"
                  "    # then run: make deploy PYTHON=python3.11",
        "docker": "brew install --cask docker    # then start Docker Desktop" if mac
                  else "curl -fsSL https://get.docker.com | sh",
        "minikube": "brew install minikube" if mac else (
            "curl -LO https://storage.googleapis.com/minikube/releases/latest/minikube-linux-amd64 && "
            "sudo install minikube-linux-amd64 /usr/local/bin/minikube"),
        "pulumi": "brew install pulumi/tap/pulumi" if mac else (
            "curl -fsSL https://get.pulumi.com | sh    # then open a new shell so 'pulumi' is on PATH"),
        "kubectl": "brew install kubectl" if mac else "sudo snap install kubectl --classic"
                   "    # or use 'minikube kubectl --' in its place",
    }
    return fixes[tool]


# ---------------------------------------------------------------- tools

def check_python(ctx: Context, version: Sequence[int] = tuple(sys.version_info[:3])) -> Check:
    shown = ".".join(str(part) for part in version)
    if tuple(version[:2]) >= MINIMUM_PYTHON:
        return Check("python", True, f"Python {shown}")
    return Check("python", False, f"Python {shown} is older than 3.11", install_fix("python", ctx.system))


def check_docker_cli(ctx: Context) -> Check:
    outcome = ctx.run("docker", "--version")
    if outcome.ok:
        return Check("docker CLI", True, outcome.stdout.strip())
    return Check("docker CLI", False, outcome.describe_failure(), install_fix("docker", ctx.system))


def check_minikube_cli(ctx: Context) -> Check:
    outcome = ctx.run("minikube", "version", "--short")
    if outcome.ok:
        return Check("minikube CLI", True, outcome.stdout.strip())
    return Check("minikube CLI", False, outcome.describe_failure(), install_fix("minikube", ctx.system))


def check_pulumi_cli(ctx: Context) -> Check:
    outcome = ctx.run("pulumi", "version", timeout=30.0)
    if not outcome.ok:
        return Check("pulumi CLI", False, outcome.describe_failure(), install_fix("pulumi", ctx.system))
    text = outcome.stdout.strip()
    version = parse_version(text)
    if version is None:
        return Check("pulumi CLI", False, f"cannot read a version from 'pulumi version': {text!r}",
                     install_fix("pulumi", ctx.system))
    if version < MINIMUM_PULUMI:
        wanted = ".".join(map(str, MINIMUM_PULUMI))
        return Check("pulumi CLI", False, f"{text} is older than {wanted}", install_fix("pulumi", ctx.system))
    sdk = sdk_lower_bound(PROJECT_DIR / "requirements.txt")
    if sdk is not None and version < sdk:
        return Check("pulumi CLI", True, f"{text} (older than the Python SDK's {'.'.join(map(str, sdk))}; "
                     f"update with: {install_fix('pulumi', ctx.system)})")
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
                 install_fix("kubectl", ctx.system), required=False)


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
            return Check("minikube running", False, "minikube is not installed", install_fix("minikube", ctx.system))
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
    fix = f"minikube update-context -p {ctx.profile}"
    name = f"kube context '{ctx.kube_context}'"
    contexts = kube_contexts(ctx)
    if contexts is None:
        return Check(name, False, "cannot read the kubeconfig: neither kubectl nor PyYAML is available",
                     install_fix("kubectl", ctx.system))
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
                 f"minikube delete -p {ctx.profile} && minikube start -p {ctx.profile} --cni=calico && "
                 f"minikube addons enable ingress -p {ctx.profile}"
                 "    # recreates the cluster; or: pulumi config set networkPolicies false",
                 required=False)


# ---------------------------------------------------------------- running

def tool_checks(ctx: Context) -> list[Check]:
    return [check_python(ctx), check_docker_cli(ctx), check_minikube_cli(ctx), check_pulumi_cli(ctx),
            check_kubectl_cli(ctx)]


def cluster_checks(ctx: Context) -> list[Check]:
    running = check_minikube_running(ctx)
    if running.ok:
        addons = minikube_addons(ctx)
        ingress = check_ingress_addon(ctx, addons)
    else:
        addons = None
        ingress = Check("ingress addon", False, "unknown until minikube runs",
                        f"minikube start -p {ctx.profile} && minikube addons enable ingress -p {ctx.profile}")
    checks = [running, ingress, check_docker_env(ctx), check_kube_context(ctx)]
    optional: list[Callable[[], Check | None]] = [
        lambda: check_metrics_server(ctx, addons),
        lambda: check_network_policy_cni(ctx) if running.ok else None,
    ]
    checks.extend(check for check in (make() for make in optional) if check is not None)
    return checks


SINGLE_CHECKS: dict[str, Callable[[Context], Check]] = {
    "minikube-running": check_minikube_running,
    "ingress-addon": lambda ctx: check_ingress_addon(ctx, minikube_addons(ctx)),
    "docker-env": check_docker_env,
}


def report(checks: Sequence[Check], out=sys.stdout) -> bool:
    """Print one line per check (and its fix); True when every required check passed."""
    width = max(len(check.name) for check in checks)
    for check in checks:
        print(f"{check.label:<4}  {check.name.ljust(width)}  {check.detail}", file=out)
        if not check.ok and check.fix:
            print(f"{'':<4}  {'':<{width}}  fix: {check.fix}", file=out)
    failed = [check.name for check in checks if not check.ok and check.required]
    if failed:
        print(f"\n{len(failed)} required check(s) failed: {', '.join(failed)}. Run the fix shown, then retry.",
              file=out)
    return not failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make doctor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default=os.environ.get("STACK", "dev"), help="the stack whose config to read")
    parser.add_argument("--profile", default="minikube", help="the minikube profile (default: minikube)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--tools-only", action="store_true", help="check only the installed tools")
    group.add_argument("--only", choices=sorted(SINGLE_CHECKS), help="run one check (scripts/deploy uses this)")
    args = parser.parse_args(argv)
    settings = stack_keys.stack_file_settings(PROJECT_DIR, args.stack)
    ctx = Context(env=os.environ, system=platform.system(), profile=args.profile,
                  kube_context=settings.get(stack_keys.KUBE_CONTEXT, "minikube"), settings=settings)
    if args.only:
        checks = [SINGLE_CHECKS[args.only](ctx)]
    else:
        checks = tool_checks(ctx)
        if not args.tools_only:
            checks += cluster_checks(ctx)
    return 0 if report(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
