"""The `pulumi up` arguments that make `make deploy` converge a recreated cluster (issue 9, item 3).

`pulumi up` alone trusts the stack's state: the kubernetes provider diffs against the state, not the cluster, and
pulumi-docker does not look at the daemon. So after `minikube delete && minikube start` nothing would change.
- `--refresh`, always: the refresh drops what the new cluster lacks from the state, and the update recreates it
  (a dozen resources: cheap).
- `--replace <the image's URN>`, when the stack has been deployed and an image it deployed (the `webApiImage` /
  `recipeApiImage` outputs) is not in the Docker daemon: pulumi-docker then builds it again, so the recreated pods
  do not sit in ImagePullBackOff. Only with `recipes:imageBuilder` = pulumi: with `external`, scripts/build-images
  has built them before `pulumi up`.

`python -m ops.deploy_plan up-args --stack S` prints the arguments one per line (scripts/deploy reads them), and
says why on stderr. `python -m ops.deploy_plan get --stack S KEY` prints a setting's effective value.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ops import engine, stack_keys
from ops.pulumi_cli import PulumiCli, PulumiError

# The stack output holding each image reference, and the pulumi-docker Image resource that builds it.
IMAGE_OUTPUTS = {"webApiImage": "web-api-image", "recipeApiImage": "recipe-api-image"}
IMAGE_TYPE = "docker:index/image:Image"


def image_urn(stack: str, resource: str) -> str:
    return f"urn:pulumi:{stack}::{stack_keys.PROJECT}::{IMAGE_TYPE}::{resource}"


@dataclass(frozen=True)
class Plan:
    args: list[str]
    notes: list[str]


def up_plan(stack: str, settings: Mapping[str, str], outputs: Mapping[str, object],
            env: Mapping[str, str]) -> Plan:
    args, notes = ["--refresh"], []
    if not outputs:
        return Plan(args, notes)  # never deployed: everything gets created (and built) anyway
    external = engine.image_builder(settings) == "external"
    for output, resource in IMAGE_OUTPUTS.items():
        reference = outputs.get(output)
        if not isinstance(reference, str) or not reference or reference.startswith("["):
            continue
        present = engine.image_present(reference, env)
        if present is None:
            notes.append(f"cannot ask the Docker daemon for {reference}; not rebuilding it")
        elif not present and external:
            notes.append(f"{reference} is not in the Docker daemon; scripts/build-images has just built the images")
        elif not present:
            notes.append(f"{reference} is not in the Docker daemon (a new cluster?): rebuilding it")
            args += ["--replace", image_urn(stack, resource)]
    return Plan(args, notes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.deploy_plan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("up-args", "get"))
    parser.add_argument("key", nargs="?", help="for get: kubeContext, imageBuilder, namespace, ...")
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args(argv)
    settings = engine.settings_of(args.stack)
    if args.what == "get":
        key = args.key if args.key and ":" in args.key else f"{stack_keys.PROJECT}:{args.key}"
        defaults = {stack_keys.KUBE_CONTEXT: engine.kube_context(settings), engine.IMAGE_BUILDER: "pulumi",
                    "recipes:namespace": "recipes"}
        print(settings.get(key) or defaults.get(key, ""))
        return 0
    try:
        outputs = PulumiCli(args.stack).outputs()
    except PulumiError as error:
        print(f"deploy: cannot read the stack's outputs: {error}", file=sys.stderr)
        return 1
    plan = up_plan(args.stack, settings, outputs, os.environ)
    for note in plan.notes:
        print(f"deploy: {note}", file=sys.stderr)
    print("\n".join(plan.args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
