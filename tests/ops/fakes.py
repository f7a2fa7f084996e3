"""The test side of the stand-in CLIs: install them into a bin dir, seed their state, read the calls they logged."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FAKE_TOOLS = ("pulumi", "minikube", "kubectl", "docker")
RECORDED_HISTORY = json.loads((HERE / "recorded_history.json").read_text())


# What a minikube node runs before the stack arrives (kubeadm's control plane, CoreDNS, the ingress addon), with the
# requests ops.capacity documents.
SYSTEM_PODS = [
    {"name": "kube-apiserver-minikube", "namespace": "kube-system", "requests": {"cpu": "250m"}},
    {"name": "kube-controller-manager-minikube", "namespace": "kube-system", "requests": {"cpu": "200m"}},
    {"name": "kube-scheduler-minikube", "namespace": "kube-system", "requests": {"cpu": "100m"}},
    {"name": "etcd-minikube", "namespace": "kube-system", "requests": {"cpu": "100m", "memory": "100Mi"}},
    {"name": "coredns-6f6b679f8f-x2x9q", "namespace": "kube-system", "requests": {"cpu": "100m", "memory": "70Mi"}},
    {"name": "ingress-nginx-controller-bc57996ff-8kq2v", "namespace": "ingress-nginx",
     "requests": {"cpu": "100m", "memory": "90Mi"}},
]


def default_state() -> dict[str, Any]:
    """A laptop where everything is in place: a default-sized minikube (2 CPUs, 2200 MiB, Kubernetes 1.31) running
    with ingress, the context present."""
    return {
        "pulumi": {"version": "v3.280.0", "stacks": {}, "fail": {}},
        "minikube": {
            "version": "v1.34.0", "exists": True, "running": True, "driver": "docker", "cni": "",
            "addons": {"ingress": "enabled", "metrics-server": "disabled", "dashboard": "disabled"},
            "cpus": 2, "memory_mib": 2200, "kubernetes_version": "v1.31.0",
        },
        "docker": {"local_daemon_name": "laptop", "images": {"local": [], "minikube": []}},
        "kubectl": {"contexts": ["minikube"], "pods": copy.deepcopy(SYSTEM_PODS), "server_version": "v1.31.0",
                    "ingress_classes": ["nginx"], "nodes": [{"cpu": "4", "memory": "8Gi"}], "down": []},
    }


class FakeClis:
    def __init__(self, root: Path, sysbin: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        self.home = root / "home"
        self.home.mkdir()
        self.sysbin = sysbin
        self.state_file = root / "state.json"
        self.log_file = root / "calls.jsonl"
        self.log_file.touch()
        self.state = default_state()
        self.save()

    def install(self, *tools: str) -> FakeClis:
        for tool in tools:
            script = self.bin / tool
            # -S: no site-packages; the stand-ins use the standard library only, and start faster without it.
            script.write_text(
                f"#!{sys.executable} -S\n"
                "import sys\n"
                f"sys.path.insert(0, {str(HERE)!r})\n"
                "from fake_cli import main\n"
                f"main({tool!r})\n"
            )
            script.chmod(0o755)
        return self

    def add_stack(self, name: str, history: list[dict[str, Any]], outputs: dict[str, str] | None = None) -> None:
        """A stack whose config is that of its newest update (secrets keep a value only the stack knows)."""
        history = copy.deepcopy(history)
        config = {}
        if history:
            for key, entry in history[0]["config"].items():
                config[key] = {"value": entry.get("value", "s3cr3t"), "secret": entry["secret"]}
        self.state["pulumi"]["stacks"][name] = {"config": config, "history": history, "outputs": outputs or {}}
        self.save()

    def save(self) -> None:
        self.state_file.write_text(json.dumps(self.state, indent=1))

    def load(self) -> dict[str, Any]:
        self.state = json.loads(self.state_file.read_text())
        return self.state

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        calls = [json.loads(line) for line in self.log_file.read_text().splitlines() if line]
        return [call for call in calls if tool is None or call["tool"] == tool]

    def argvs(self, tool: str) -> list[list[str]]:
        return [call["argv"] for call in self.calls(tool)]

    def env(self, **extra: str) -> dict[str, str]:
        """A minimal environment: only the stand-ins and the system's other tools on PATH, a fresh HOME."""
        env = {
            "PATH": f"{self.bin}{os.pathsep}{self.sysbin}",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "FAKE_CLI_STATE": str(self.state_file),
            "FAKE_CLI_LOG": str(self.log_file),
        }
        env.update(extra)
        return env




def run_python_module(fake: FakeClis, module: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m module args` from the repo root, as make runs it, with the stand-ins on PATH and no terminal."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO, env=fake.env(**env), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )
