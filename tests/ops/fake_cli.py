"""Stand-ins for the `pulumi`, `minikube`, `kubectl` and `docker` CLIs, for tests only.

The real Pulumi CLI and a Kubernetes cluster cannot exist on the CI machines, so the tests put these on PATH. Each
stand-in answers the few subcommands the operations use, in the real CLIs' output formats (`pulumi stack history
--json` as pulumi/pkg/cmd/pulumi/stack/stack_history.go prints it: newest first, 10 per page unless --page-size,
secret config values without a `value`), keeps its state in a JSON file (FAKE_CLI_STATE) so that `minikube start`
or `pulumi config set` change what later calls see, and appends every invocation (argv, the env vars that matter,
cwd, whether stdin is a terminal) to a JSON-lines log (FAKE_CLI_LOG) for the tests to assert the exact calls.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RECORDED_ENV = (
    "DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "PULUMI_CONFIG_PASSPHRASE",
    "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_SKIP_UPDATE_CHECK",
)
MINIKUBE_DOCKER_HOST = "tcp://192.168.49.2:2376"


class Exit(Exception):
    def __init__(self, code: int, stderr: str = "") -> None:
        super().__init__(stderr)
        self.code = code
        self.stderr = stderr


def main(tool: str) -> None:
    argv = sys.argv[1:]
    state_path = Path(os.environ["FAKE_CLI_STATE"])
    with open(os.environ["FAKE_CLI_LOG"], "a") as log:
        log.write(json.dumps({
            "tool": tool,
            "argv": argv,
            "env": {name: os.environ.get(name) for name in RECORDED_ENV},
            "cwd": os.getcwd(),
            "tty": sys.stdin.isatty(),
        }) + "\n")
    state = json.loads(state_path.read_text())
    handler: Callable[[dict[str, Any], list[str]], str] = HANDLERS[tool]
    try:
        output = handler(state, argv)
    except Exit as failure:
        if failure.stderr:
            print(failure.stderr, file=sys.stderr)
        state_path.write_text(json.dumps(state, indent=1))
        sys.exit(failure.code)
    state_path.write_text(json.dumps(state, indent=1))
    if output:
        print(output)


def _option(argv: list[str], *names: str) -> str | None:
    for index, arg in enumerate(argv):
        if arg in names and index + 1 < len(argv):
            return argv[index + 1]
        for name in names:
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def _positionals(argv: list[str], valued: tuple[str, ...]) -> list[str]:
    values, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in valued:
            skip = True
        elif not arg.startswith("-"):
            values.append(arg)
    return values


# ---------------------------------------------------------------- pulumi

PULUMI_VALUED = ("--stack", "-s", "--message", "-m", "--page-size", "--page", "--secrets-provider", "--replace")


def pulumi(state: dict[str, Any], argv: list[str]) -> str:
    fake = state["pulumi"]
    words = _positionals(argv, PULUMI_VALUED)
    command = " ".join(words[:2]) if words[:1] in (["stack"], ["config"]) else " ".join(words[:1])
    injected = fake.get("fail", {}).get(command)
    if injected:
        raise Exit(injected["code"], injected["stderr"])
    if words == ["version"]:
        return fake["version"]
    if words[:2] == ["stack", "select"]:
        _stack(fake, words[2])
        fake["selected"] = words[2]
        return ""
    if words[:2] == ["stack", "init"]:
        if words[2] in fake["stacks"]:
            raise Exit(255, f"error: stack '{words[2]}' already exists")
        _require_passphrase()
        fake["stacks"][words[2]] = {"config": {}, "history": [], "outputs": {}}
        fake["selected"] = words[2]
        return f"Created stack '{words[2]}'"
    stack = _stack(fake, _option(argv, "--stack", "-s") or fake.get("selected", "dev"))
    if words[:2] == ["stack", "history"]:
        if "--json" not in argv:
            raise Exit(2, "fake pulumi: only 'stack history --json' is supported")
        if fake.get("ignores_paging"):  # a backend that answers every page with everything
            return json.dumps(stack["history"], indent=4)
        page_size = int(_option(argv, "--page-size") or 10)
        page = max(int(_option(argv, "--page") or 1), 1)
        start = (page - 1) * page_size
        return json.dumps(stack["history"][start:start + page_size], indent=4)
    if words[:2] == ["stack", "output"]:
        outputs = stack["outputs"]
        if len(words) == 2 and "--json" in argv:
            return json.dumps(outputs, indent=4)
        if words[2] not in outputs:
            raise Exit(255, f"error: current stack does not have output property '{words[2]}'")
        return str(outputs[words[2]])
    if words == ["config"] and "--json" in argv:
        return json.dumps({key: _shown(entry) for key, entry in stack["config"].items()}, indent=4)
    if words[:2] == ["config", "set"]:
        _require_passphrase()
        stack["config"][words[2]] = {"value": words[3], "secret": "--secret" in argv}
        return ""
    if words[:2] == ["config", "rm"]:
        stack["config"].pop(words[2], None)
        return ""
    if words == ["up"]:
        return _up(state, stack, argv)
    if words == ["destroy"]:
        if "--yes" not in argv and not sys.stdin.isatty():
            raise Exit(255, "error: --yes or --skip-preview must be passed in to proceed when running in "
                            "non-interactive mode")
        _require_passphrase()
        stack["outputs"] = {}
        return "Resources:\n    19 deleted"
    raise Exit(2, f"fake pulumi: unsupported call {argv}")


def _stack(fake: dict[str, Any], name: str) -> dict[str, Any]:
    if name not in fake["stacks"]:
        raise Exit(255, f"error: no stack named '{name}' found")
    return fake["stacks"][name]


def _require_passphrase() -> None:
    if "PULUMI_CONFIG_PASSPHRASE" not in os.environ and "PULUMI_CONFIG_PASSPHRASE_FILE" not in os.environ:
        raise Exit(255, "error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or "
                        "PULUMI_CONFIG_PASSPHRASE_FILE environment variables")


def _shown(entry: dict[str, Any]) -> dict[str, Any]:
    # Without --show-secrets the CLI leaves `value` out of secret entries.
    return {"secret": True} if entry.get("secret") else {"value": entry["value"], "secret": False}


def _up(state: dict[str, Any], stack: dict[str, Any], argv: list[str]) -> str:
    fake = state["pulumi"]
    if "--yes" not in argv and not sys.stdin.isatty():
        raise Exit(255, "error: --yes or --skip-preview must be passed in to proceed when running in "
                        "non-interactive mode")
    _require_passphrase()
    result = fake.get("up_result", "succeeded")
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    stack["history"].insert(0, {
        "version": max((update["version"] for update in stack["history"]), default=0) + 1,
        "kind": "update",
        "startTime": now,
        "message": _option(argv, "--message", "-m") or "",
        "environment": {"exec.kind": "cli"},
        "config": {key: _shown(entry) for key, entry in stack["config"].items()},
        "result": result,
        "endTime": now,
        "resourceChanges": {"same": 18, "update": 1},
    })
    if result != "succeeded":
        raise Exit(255, "error: update failed")
    stack["outputs"].update(fake.get("up_outputs", {}))
    if fake.get("up_builds_images", True):  # pulumi-docker builds the images into the daemon DOCKER_HOST names
        images = state["docker"]["images"].setdefault(_daemon(state), [])
        for name, value in stack["outputs"].items():
            if name.endswith("Image") and value not in images:
                images.append(value)
    return "Resources:\n    1 updated\n    18 unchanged"


# ---------------------------------------------------------------- minikube

MINIKUBE_VALUED = ("-p", "--profile", "-o", "--output", "--shell", "--cni", "--driver", "--cpus", "--memory",
                   "--kubernetes-version")


def minikube(state: dict[str, Any], argv: list[str]) -> str:
    fake = state["minikube"]
    words = _positionals(argv, MINIKUBE_VALUED)
    profile = _option(argv, "-p", "--profile") or "minikube"
    if words == ["version"]:
        return fake["version"]
    if words == ["profile", "list"]:
        valid = [] if not fake["exists"] else [{
            "Name": profile,
            "Status": "OK" if fake["running"] else "Stopped",
            "Config": {"Name": profile, "Driver": fake["driver"],
                       "KubernetesConfig": {"KubernetesVersion": fake["kubernetes_version"], "CNI": fake["cni"]}},
        }]
        return json.dumps({"invalid": [], "valid": valid})
    if words == ["status"]:
        if not fake["exists"]:
            raise Exit(85, f'🤷  Profile "{profile}" not found. Run "minikube profile list" to view all profiles.')
        state_word = "Running" if fake["running"] else "Stopped"
        print(json.dumps({"Name": profile, "Host": state_word, "Kubelet": state_word, "APIServer": state_word,
                          "Kubeconfig": "Configured" if fake["running"] else "Stopped", "Worker": False}))
        if not fake["running"]:
            raise Exit(7)
        return ""
    if words == ["start"]:
        if not fake["exists"]:  # like minikube: the size and version are chosen when the cluster is created
            fake["cpus"] = int(_option(argv, "--cpus") or 2)
            memory = _option(argv, "--memory") or "2200"
            fake["memory_mib"] = int(memory[:-1]) * 1024 if memory.endswith("g") else int(memory.rstrip("m"))
        if _option(argv, "--kubernetes-version"):
            fake["kubernetes_version"] = "v1.34.0" if _option(argv, "--kubernetes-version") == "stable" else \
                _option(argv, "--kubernetes-version")
        fake.update(exists=True, running=True)
        if _option(argv, "--cni"):
            fake["cni"] = _option(argv, "--cni")
        if profile not in state["kubectl"]["contexts"]:
            state["kubectl"]["contexts"].append(profile)
        return f'🏄  Done! kubectl is now configured to use "{profile}" cluster'
    if not fake["running"]:
        raise Exit(80, f'❌  Exiting due to GUEST_STATUS: state: unknown state "{profile}": not running')
    if words == ["addons", "list"]:
        return json.dumps({name: {"Profile": profile, "Status": status} for name, status in fake["addons"].items()})
    if words[:2] == ["addons", "enable"]:
        fake["addons"][words[2]] = "enabled"
        return f"🌟  The '{words[2]}' addon is enabled"
    if words == ["docker-env"]:
        return "\n".join([
            'export DOCKER_TLS_VERIFY="1"',
            f'export DOCKER_HOST="{MINIKUBE_DOCKER_HOST}"',
            f'export DOCKER_CERT_PATH="{os.environ.get("HOME", "/root")}/.minikube/certs"',
            f'export MINIKUBE_ACTIVE_DOCKERD="{profile}"',
        ])
    raise Exit(2, f"fake minikube: unsupported call {argv}")


# ---------------------------------------------------------------- docker, kubectl

def _daemon(state: dict[str, Any]) -> str:
    """The daemon DOCKER_HOST names: minikube's node, or this machine's ('local')."""
    host = os.environ.get("DOCKER_HOST")
    if host == MINIKUBE_DOCKER_HOST and state["minikube"]["running"]:
        return "minikube"
    if host:
        raise Exit(1, f"Cannot connect to the Docker daemon at {host}. Is the docker daemon running?")
    return "local"


def docker(state: dict[str, Any], argv: list[str]) -> str:
    if argv == ["--version"]:
        return "Docker version 27.3.1, build ce12230"
    if argv[:1] == ["info"]:
        daemon = _daemon(state)
        return "minikube" if daemon == "minikube" else state["docker"]["local_daemon_name"]
    if argv[:2] == ["image", "inspect"]:
        images = state["docker"]["images"].get(_daemon(state), [])
        references = _positionals(argv[2:], ("--format", "-f"))
        missing = [ref for ref in references if ref not in images]
        if missing:
            raise Exit(1, f"Error response from daemon: No such image: {missing[0]}")
        return "\n".join(f"sha256:{abs(hash(ref)):064x}"[:71] for ref in references)
    raise Exit(2, f"fake docker: unsupported call {argv}")


KUBECTL_VALUED = ("--context", "--kubeconfig", "-o", "--output", "--namespace", "-n", "--raw")


def kubectl(state: dict[str, Any], argv: list[str]) -> str:
    fake = state["kubectl"]
    if argv[:2] == ["version", "--client"]:
        return json.dumps({"clientVersion": {"gitVersion": "v1.31.0"}, "kustomizeVersion": "v5.4.2"})
    words = _positionals(argv, KUBECTL_VALUED)
    if words[:2] == ["config", "get-contexts"]:
        return "\n".join(fake["contexts"])
    if words[:2] == ["config", "set-context"]:
        if words[2] not in fake["contexts"]:
            raise Exit(1, f'error: no context exists with the name: "{words[2]}"')
        fake.setdefault("namespaces", {})[words[2]] = _option(argv, "--namespace")
        return f'Context "{words[2]}" modified.'
    context = _option(argv, "--context")
    if context not in fake["contexts"]:
        raise Exit(1, f'error: context "{context}" does not exist')
    minikube = context == "minikube"
    if (minikube and not state["minikube"]["running"]) or context in fake.get("down", []):
        raise Exit(1, "The connection to the server 192.168.49.2:8443 was refused - did you specify the right "
                      "host or port?")
    raw = _option(argv, "--raw")
    if raw == "/readyz":
        return "ok"
    if raw == "/version":
        version = state["minikube"]["kubernetes_version"] if minikube else fake["server_version"]
        major, minor = version.lstrip("v").split(".")[:2]
        return json.dumps({"major": major, "minor": minor, "gitVersion": version, "platform": "linux/amd64"})
    if words[:2] == ["get", "ingressclass"]:
        if minikube and state["minikube"]["addons"].get("ingress") != "enabled" or \
                not minikube and words[2] not in fake["ingress_classes"]:
            raise Exit(1, f'Error from server (NotFound): ingressclasses.networking.k8s.io "{words[2]}" not found')
        return f"ingressclass.networking.k8s.io/{words[2]}"
    if words[:2] == ["get", "nodes"]:
        if minikube:
            nodes = [{"cpu": str(state["minikube"]["cpus"]), "memory": f"{state['minikube']['memory_mib']}Mi"}]
        else:
            nodes = fake["nodes"]
        return json.dumps({"kind": "List", "items": [
            {"metadata": {"name": f"node-{index}"}, "spec": {}, "status": {"allocatable": dict(node, pods="110")}}
            for index, node in enumerate(nodes)]})
    if words[:2] == ["get", "pods"]:
        return json.dumps({"kind": "List", "items": [
            {"metadata": {"name": pod["name"], "namespace": pod["namespace"]},
             "spec": {"containers": [{"name": "main", "resources": {"requests": pod["requests"]}}]}}
            for pod in fake["pods"]]})
    raise Exit(2, f"fake kubectl: unsupported call {argv}")


HANDLERS: dict[str, Callable[[dict[str, Any], list[str]], str]] = {
    "pulumi": pulumi, "minikube": minikube, "docker": docker, "kubectl": kubectl,
}
