"""The real-cluster harness, in the manner of controller-runtime's envtest: one call brings up the real components
(`scripts/local-cluster up`: etcd, kube-apiserver, controller-manager, scheduler, a real kubelet node, CoreDNS and an
ingress controller) and the real Pulumi CLI (`scripts/build-pulumi-tools`), the tests drive them, one call takes
them down. Everything here runs the project's own commands, so the suite exercises what a user runs.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LOCAL_CLUSTER = REPO / "scripts" / "local-cluster"
BUILD_PULUMI_TOOLS = REPO / "scripts" / "build-pulumi-tools"
BUILD_IMAGES = REPO / "scripts" / "build-images"
# A cold `up` builds Kubernetes, etcd, cri-dockerd, CoreDNS and the ingress controller from the Go module proxy.
CLUSTER_UP_TIMEOUT = 3600.0
TOOLS_TIMEOUT = 3600.0
KUBECTL_TIMEOUT = 60.0


class HarnessError(AssertionError):
    pass


def run(argv: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float,
        check: bool = True, echo: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a command with stdin closed, bounded in time; raise HarnessError with its output when it fails."""
    try:
        done = subprocess.run(list(argv), env=dict(env) if env is not None else None, cwd=REPO, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout,
                              stdout=None if echo else subprocess.PIPE, stderr=None if echo else subprocess.PIPE)
    except subprocess.TimeoutExpired as error:
        raise HarnessError(f"'{shlex.join(argv)}' did not finish in {timeout:.0f} s") from error
    if check and done.returncode != 0:
        output = ((done.stderr or "") + (done.stdout or "")).strip()[-4000:]
        raise HarnessError(f"'{shlex.join(argv)}' exited {done.returncode}:\n{output}")
    return done


def host_problem() -> str | None:
    """Why this machine cannot run the local cluster at all, or None."""
    if platform.system() != "Linux":
        return "the local cluster runs only on Linux (its kubelet needs Linux cgroups and iptables)"
    if os.geteuid() != 0:
        return "the local cluster needs root (its kubelet, kube-proxy and CNI change the host's network)"
    if shutil.which("docker") is None:
        return "Docker is not installed (apt-get install -y docker.io), and the node runs its pods on it"
    if subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode != 0:
        return "no Docker daemon answers; start one with scripts/start-dockerd"
    return None


def exports(text: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables of `export NAME=VALUE` lines, as `scripts/local-cluster env` prints them for `eval`, with
    `$NAME` references expanded from `environ` (this process's environment by default)."""
    environ = dict(os.environ if environ is None else environ)
    found: dict[str, str] = {}
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            value = re.sub(r"\$\{?(\w+)\}?", lambda ref: {**environ, **found}.get(ref[1], ""), value)
            found[name] = value
    return found


@dataclass
class LocalCluster:
    """The running local cluster: its kubeconfig, context, and an environment for kubectl, pulumi and make."""

    kubeconfig: str
    context: str
    ingress_address: str
    env: dict[str, str]
    started_here: bool = False

    @classmethod
    def ensure(cls) -> "LocalCluster":
        """Use the running cluster, or start one (building what is missing) and remember to stop it."""
        started = run([str(LOCAL_CLUSTER), "status"], timeout=120, check=False).returncode != 0
        if started:
            run([str(LOCAL_CLUSTER), "up"], timeout=CLUSTER_UP_TIMEOUT, echo=True)
        variables = exports(run([str(LOCAL_CLUSTER), "env"], timeout=60).stdout)
        tools = run([str(BUILD_PULUMI_TOOLS)], timeout=TOOLS_TIMEOUT).stdout.strip().splitlines()[-1]
        env = dict(os.environ)
        env.update(variables)
        env["PATH"] = os.pathsep.join([tools, variables.get("PATH", env.get("PATH", ""))])
        env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
        return cls(kubeconfig=variables["KUBECONFIG"], context=variables.get("RECIPES_KUBE_CONTEXT", "recipes-local"),
                   ingress_address=variables.get("RECIPES_INGRESS_ADDRESS", "127.0.0.1"), env=env,
                   started_here=started)

    def stop(self) -> None:
        run([str(LOCAL_CLUSTER), "down"], timeout=600, echo=True)

    def recreate(self) -> None:
        """A new cluster, as after `minikube delete && minikube start`: nothing of the old one survives."""
        run([str(LOCAL_CLUSTER), "down"], timeout=600, echo=True)
        run([str(LOCAL_CLUSTER), "up"], timeout=CLUSTER_UP_TIMEOUT, echo=True)

    def kubectl(self, *args: str, timeout: float = KUBECTL_TIMEOUT, check: bool = True
                ) -> subprocess.CompletedProcess[str]:
        return run(["kubectl", "--context", self.context, *args], env=self.env, timeout=timeout, check=check)

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)


@dataclass
class DeploymentSample:
    at: float
    replicas: int | None
    available: int
    updated: int


@dataclass
class DeploymentWatch:
    """Samples a Deployment's spec and status every `interval` seconds in the background, until stopped."""

    cluster: LocalCluster
    namespace: str
    name: str
    interval: float = 0.25
    samples: list[DeploymentSample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "DeploymentWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deployment = self.cluster.get("deployment", self.name, "-n", self.namespace)
            except (HarnessError, ValueError) as error:
                self.errors.append(str(error)[:200])
            else:
                status = deployment.get("status", {})
                self.samples.append(DeploymentSample(
                    time.monotonic(), deployment["spec"].get("replicas"), status.get("availableReplicas", 0),
                    status.get("updatedReplicas", 0)))
            self._stop.wait(self.interval)

    def fewest_available(self) -> int:
        assert self.samples, f"no sample of deployment/{self.name} was taken: {self.errors[-3:]}"
        return min(sample.available for sample in self.samples)

    def fewest_declared(self) -> int:
        assert self.samples, f"no sample of deployment/{self.name} was taken: {self.errors[-3:]}"
        return min(sample.replicas or 0 for sample in self.samples)
