"""Evaluate the real `__main__.py` under Pulumi's unit-test mocks and record what it declares.

Only the engine and the cluster are mocked: every resource registration is recorded (type, name, inputs as the
engine would receive them: camelCase, numbers as floats) with its URN, and the stack's exports are resolved.
`evaluate` returns only after the Pulumi runtime has finished every registration, so the record is complete.
"""

from __future__ import annotations

import hashlib
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from unittest import mock

import pulumi
from pulumi.runtime import settings as runtime_settings

from stack import image_refs

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "__main__.py"
PROJECT = "recipes"
STACK = "dev"
INGRESS_IP = "192.168.49.2"

DOCKER_IMAGE = "docker:index/image:Image"
K8S_PROVIDER = "pulumi:providers:kubernetes"


@dataclass(frozen=True)
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]
    provider: str | None
    urn: str

    @property
    def kind(self) -> str:
        return self.inputs.get("kind", "")


@dataclass
class Evaluation:
    resources: list[Registered] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def kubernetes_objects(self) -> list[Registered]:
        return [r for r in self.resources if r.type.startswith("kubernetes:")]

    def one(self, kind: str, name: str) -> Registered:
        found = [r for r in self.kubernetes_objects() if r.kind == kind and r.inputs["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} named {name}, found {len(found)}"
        return found[0]

    def kinds(self, kind: str) -> list[Registered]:
        return [r for r in self.kubernetes_objects() if r.kind == kind]


def image_digest(image_name: str) -> str:
    return "sha256:" + hashlib.sha256(image_name.encode()).hexdigest()


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like a cluster and a Docker daemon would, and records every registration."""

    def __init__(self, digests: Mapping[str, str] | None = None) -> None:
        self.registered: list[tuple[str, str, dict[str, Any], str | None]] = []
        self.digests = dict(digests or {})

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.registered.append((args.typ, args.name, dict(args.inputs), args.provider))
        state = dict(args.inputs)
        if args.typ == DOCKER_IMAGE:
            image_name = args.inputs["imageName"]
            state["repoDigest"] = self.digests.get(image_name, image_digest(image_name))
        elif args.typ == "kubernetes:networking.k8s.io/v1:Ingress":
            state["status"] = {"loadBalancer": {"ingress": [{"ip": INGRESS_IP}]}}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}, None


def evaluate(config: Mapping[str, Any] | None = None, *, digests: Mapping[str, str] | None = None,
             dev_stack: bool = True, apps_dir: Path | None = None) -> Evaluation:
    """Run `__main__.py` with `config` (keys without the `recipes:` prefix) on top of Pulumi.dev.yaml's values;
    `apps_dir`: the services' sources to build from instead of the repository's `apps/`."""
    values = dict(dev_stack_config() if dev_stack else {})
    values.update(config or {})
    mocks = RecordingMocks(digests)
    runtime_settings.ROOT.set(None)  # a fresh root stack, so exports from an earlier evaluation can't leak in
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=False)
    pulumi.runtime.set_all_config({f"{PROJECT}:{key}": str(value) for key, value in values.items()})
    evaluation = Evaluation()

    @pulumi.runtime.test
    def program():
        runpy.run_path(str(PROGRAM), run_name="__main__")
        root = runtime_settings.get_root_resource()
        return pulumi.Output.from_input(dict(root.outputs)).apply(evaluation.exports.update)

    with mock.patch.object(image_refs, "APPS_DIR", apps_dir or image_refs.APPS_DIR):
        program()
    monitor = runtime_settings.SETTINGS.monitor
    urns = {(resource.urn.rsplit("::", 1)[1], resource.urn.split("::")[2].rsplit("$", 1)[-1]): resource.urn
            for resource in monitor.resources.values()}
    for type_, name, inputs, provider in mocks.registered:
        evaluation.resources.append(Registered(type_, name, inputs, provider, urns.get((name, type_), "")))
    return evaluation


def dev_stack_config() -> dict[str, str]:
    import yaml

    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    prefix = f"{PROJECT}:"
    return {key[len(prefix):]: _config_string(value) for key, value in document["config"].items()
            if key.startswith(prefix)}


def _config_string(value: Any) -> str:
    # What the CLI hands the program: YAML booleans become "true"/"false", numbers their decimal text.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
