"""End to end on a real minikube, through Pulumi's Automation API, on a throwaway stack of its own.

Steps, in order (each needs the one before; after a failure the rest are skipped, and the stack is destroyed and
removed whatever happens):
1. deploy v1; through the ingress with the Host header, v1 answers;
2. web-api v1 -> v2 while a load loop runs: no request fails, and v2 is served afterwards;
3. recipe-api 5 -> 10 replicas: 10 pods are Ready;
4. the history (ops.history, what `make history` runs) shows the three updates;
5. roll back to revision 1 (ops.rollback, what `make rollback` runs): v1 is served again, recipe-api is back to 5;
6. destroy: the namespace is gone.

Needs the Pulumi CLI, a cluster answering for the kube context `minikube` with the ingress addon, and Docker pointed
at minikube (`eval "$(minikube -p minikube docker-env)"`); skips with one message naming what is missing otherwise.
On macOS with minikube's Docker driver, run `minikube tunnel` and set E2E_INGRESS_ADDRESS=127.0.0.1.
Another cluster: `E2E_KUBE_CONTEXT=<context>`; the images are then built by scripts/build-images into the current
Docker daemon before each update (imageBuilder external), on RECIPES_BASE_IMAGE when that is set. CI runs the suite
this way against the local cluster (scripts/local-cluster).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from ops.commands import run_bounded
from ops.history import load_revisions, render_table
from ops.pulumi_cli import PulumiCli
from ops.rollback import rollback
from tests.e2e.cluster import kubectl_json, namespace_exists, ready_pods
from tests.e2e.prerequisites import KUBE_CONTEXT, MINIKUBE
from tests.support import chain
from tests.support.load import LoadLoop
from tests.support.wait import wait_until

# tests/e2e/conftest.py marks every step `e2e`, gives it a 20-minute timeout, and skips them all with one message
# when a prerequisite is missing.

REPO = Path(__file__).resolve().parents[2]
STACK = f"e2e-{secrets.token_hex(3)}"
NAMESPACE = f"recipes-{STACK}"
HOST = f"{STACK}.recipes.test"
PASSPHRASE = os.environ.get("PULUMI_CONFIG_PASSPHRASE", "")
INITIAL_CONFIG = {
    "recipes:namespace": NAMESPACE,
    "recipes:ingressHost": HOST,
    "recipes:webApiVersion": "v1",
    "recipes:webApiReplicas": "3",
    "recipes:recipeApiVersion": "v1",
    "recipes:recipeApiReplicas": "5",
    "recipes:kubeContext": KUBE_CONTEXT,
}
if KUBE_CONTEXT != MINIKUBE:
    INITIAL_CONFIG["recipes:imageBuilder"] = "external"
    if os.environ.get("RECIPES_BASE_IMAGE"):
        INITIAL_CONFIG["recipes:baseImage"] = os.environ["RECIPES_BASE_IMAGE"]


def echo(line: str) -> None:
    print(line, end="" if line.endswith("\n") else "\n", flush=True)


@pytest.fixture(scope="module")
def stack() -> Iterator[auto.Stack]:
    env = {"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    created = auto.create_stack(
        STACK, work_dir=str(REPO),
        opts=auto.LocalWorkspaceOptions(work_dir=str(REPO), env_vars=env, secrets_provider="passphrase"),
    )
    try:
        created.set_all_config({key: auto.ConfigValue(value) for key, value in INITIAL_CONFIG.items()})
        yield created
    finally:
        try:
            created.destroy(on_output=echo, color="never")
        except auto.CommandError as error:
            # Removing the stack now would orphan whatever is still in the cluster: leave both for the user.
            pytest.fail(f"destroying the e2e stack failed; clean up with: pulumi destroy --stack {STACK} --yes && "
                        f"pulumi stack rm {STACK} --yes\n{error}")
        created.workspace.remove_stack(STACK)
        (REPO / f"Pulumi.{STACK}.yaml").unlink(missing_ok=True)


@pytest.fixture(scope="module")
def ingress_url(stack: auto.Stack) -> dict[str, str]:
    """Filled in by step 1: where the ingress answers."""
    return {}


def serves(url: str, expected: tuple[str, str]) -> bool:
    return chain.serves(url, HOST, expected)


def build_images() -> None:
    """With imageBuilder external, what a CI pipeline does before each update: build what the stack will deploy."""
    if INITIAL_CONFIG.get("recipes:imageBuilder") == "external":
        build = run_bounded([str(REPO / "scripts" / "build-images"), STACK], timeout=900, cwd=REPO)
        assert build.ok, build.describe_failure() + "\n" + build.stderr[-2000:]


def ops_cli() -> PulumiCli:
    return PulumiCli(STACK, env={**os.environ, "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE})


def test_1_deploy_v1_then_the_ingress_serves_v1(stack, ingress_url):
    build_images()
    result = stack.up(on_output=echo, color="never", message="e2e: deploy v1")
    assert result.summary.result == "succeeded"
    outputs = result.outputs
    assert outputs["webApiVersion"].value == "v1" and int(outputs["recipeApiReplicas"].value) == 5
    assert f'Host: {HOST}' in outputs["curlCommand"].value
    address = os.environ.get("E2E_INGRESS_ADDRESS") or outputs["ingressAddress"].value
    ingress_url["url"] = f"http://{address}/"
    wait_until(lambda: serves(ingress_url["url"], ("v1", "v1")), timeout=120, interval=1,
               what=f"v1 through the ingress at {ingress_url['url']} (Host: {HOST})")


def test_2_rolling_update_to_v2_loses_no_request(stack, ingress_url):
    url = ingress_url["url"]
    stack.set_config("recipes:webApiVersion", auto.ConfigValue("v2"))
    build_images()
    with LoadLoop(url, headers={"Host": HOST}, concurrency=4, max_seconds=900,
                  classify=lambda result: result.json()["consumer_version"]) as load:
        load.wait_for_requests(50, timeout=30)
        result = stack.up(on_output=echo, color="never", message="e2e: web-api v2")
        wait_until(lambda: serves(url, ("v2", "v1")), timeout=60, interval=0.5, what="only v2 served")
        before_stop = load.report.total
        load.wait_for_requests(before_stop + 20, timeout=30)
    report = load.report
    assert result.summary.result == "succeeded"
    assert report.failed == 0, f"{report.failed} of {report.total} requests failed: {report.failures}"
    assert report.seen["v1"] > 0 and report.seen["v2"] > 0, report.seen
    assert set(report.seen) == {"v1", "v2"}


def test_3_scale_recipe_api_from_5_to_10(stack):
    assert len(ready_pods(NAMESPACE, "recipe-api")) == 5
    stack.set_config("recipes:recipeApiReplicas", auto.ConfigValue("10"))
    result = stack.up(on_output=echo, color="never", message="e2e: recipe-api x10")
    assert result.summary.result == "succeeded"
    wait_until(lambda: len(ready_pods(NAMESPACE, "recipe-api")) == 10, timeout=120, interval=1,
               what="10 Ready recipe-api pods")
    deployment = kubectl_json("get", "deployment", "recipe-api", "-n", NAMESPACE)
    assert deployment["spec"]["replicas"] == 10 and deployment["status"]["readyReplicas"] == 10


def test_4_history_shows_the_updates(stack):
    revisions = load_revisions(ops_cli())
    assert [(r.number, r.kind, r.result) for r in revisions] == [
        (1, "update", "succeeded"), (2, "update", "succeeded"), (3, "update", "succeeded")]
    config = [{key: entry.value for key, entry in r.config.items()} for r in revisions]
    assert [c["recipes:webApiVersion"] for c in config] == ["v1", "v2", "v2"]
    assert [c["recipes:recipeApiReplicas"] for c in config] == ["5", "5", "10"]
    table = render_table(revisions, {})
    assert [line.split()[0] for line in table.splitlines()[1:]] == ["1", "2", "3"]


def test_5_rollback_to_revision_1_serves_v1(stack, ingress_url):
    rollback(ops_cli(), 1, yes=True, interactive=False)
    config = stack.get_all_config()
    assert config["recipes:webApiVersion"].value == "v1"
    assert config["recipes:recipeApiReplicas"].value == "5"
    wait_until(lambda: serves(ingress_url["url"], ("v1", "v1")), timeout=60, interval=0.5, what="v1 served again")
    wait_until(lambda: len(ready_pods(NAMESPACE, "recipe-api")) == 5, timeout=120, interval=1,
               what="recipe-api back to 5 Ready pods")
    newest = load_revisions(ops_cli())[-1]
    assert (newest.number, newest.message, newest.result) == (4, "rollback to revision 1", "succeeded")


def test_6_destroy_removes_everything(stack):
    result = stack.destroy(on_output=echo, color="never")
    assert result.summary.result == "succeeded"
    wait_until(lambda: not namespace_exists(NAMESPACE), timeout=180, interval=2, what=f"namespace {NAMESPACE} gone")
