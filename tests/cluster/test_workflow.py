"""A user's whole workflow, for real: the real `pulumi` CLI and engine, the real kubernetes provider, the program as
it is, against the local cluster of real Kubernetes components (`scripts/local-cluster`), on a stack of its own.

Steps, in order (each builds on the one before; after a failure the rest are skipped, and the stack is destroyed
and removed whatever happens):
1. the first deploy completes, every await included; the ingress serves v1 from pods the restricted PodSecurity
   profile admitted;
2. `pulumi preview` right after shows no changes;
3. web-api v1 -> v2 is a rolling update: never fewer than 3 available pods, the old ReplicaSet ends at 0, and a load
   loop through the ingress sees no failed request;
4. recipe-api scales to 10 Ready pods on the minikube-shaped node, and back to 5;
5. `make history` shows the revisions, and `make rollback TO=1 YES=1` restores revision 1's versions and replicas;
6. autoscaling on (the HPA then owns the count) and off: no conflict, the count right after each switch, and never
   fewer pods declared than before the switch;
7. a bad config value is refused before anything changes in the cluster;
8. the cluster is deleted and made anew, images included, and the deploy command brings everything back;
9. `pulumi destroy` leaves nothing: the namespace is gone.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.harness import DeploymentWatch, LocalCluster, run
from tests.cluster.stack import ClusterStack
from tests.support import chain
from tests.support.kube import ready
from tests.support.load import LoadLoop
from tests.support.wait import wait_until

WEB_API_REPLICAS, RECIPE_API_REPLICAS = 3, 5


@pytest.fixture(scope="module")
def stack(cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterStack]:
    created = ClusterStack(cluster, tmp_path_factory.mktemp("pulumi-state"))
    created.create({
        "kubeContext": cluster.context,
        "kubeconfigPath": cluster.kubeconfig,
        "namespace": created.namespace,
        "ingressHost": created.host,
        # pulumi-docker's provider cannot be built here (its Go module is not served): images are built beforehand
        # under the same references, as a CI pipeline does. See README, "Stand-ins".
        "imageBuilder": "external",
        "baseImage": "recipes-local-base:bookworm",
        "webApiVersion": "v1",
        "webApiReplicas": str(WEB_API_REPLICAS),
        "recipeApiVersion": "v1",
        "recipeApiReplicas": str(RECIPE_API_REPLICAS),
        "rolloutTimeoutSeconds": "180",
    })
    try:
        yield created
    finally:
        try:
            if created.namespace_exists():
                created.destroy()
        finally:
            created.remove()
        print("\ncluster suite timings (s): " + ", ".join(f"{step} {seconds:.1f}"
                                                       for step, seconds in created.durations.items()))


def serves(stack: ClusterStack, expected: tuple[str, str]) -> bool:
    return chain.serves(stack.url, stack.host, expected)


def ready_count(stack: ClusterStack, app: str) -> int:
    return sum(1 for pod in stack.pods(app) if ready(pod))


def images_of(stack: ClusterStack) -> dict[str, str]:
    return {app: stack.deployment(app)["spec"]["template"]["spec"]["containers"][0]["image"]
            for app in ("web-api", "recipe-api")}


def test_1_the_first_deploy_completes_and_the_ingress_serves_v1(stack: ClusterStack) -> None:
    refs = stack.build_images()
    stack.up("cluster: deploy v1")
    outputs = stack.outputs()
    assert sorted(refs) == sorted([outputs["webApiImage"], outputs["recipeApiImage"]])
    assert outputs["ingressAddress"] == stack.cluster.ingress_address
    labels = stack.cluster.get("namespace", stack.namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert ready_count(stack, "web-api") == WEB_API_REPLICAS
    assert ready_count(stack, "recipe-api") == RECIPE_API_REPLICAS
    wait_until(lambda: serves(stack, ("v1", "v1")), timeout=60, interval=1,
               what=f"v1 through the ingress at {stack.url} (Host: {stack.host})")


def test_2_a_preview_right_after_shows_no_changes(stack: ClusterStack) -> None:
    done = stack.pulumi("preview", "--expect-no-changes", "--diff", check=False, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_3_a_version_bump_is_a_rolling_update_that_loses_no_request(stack: ClusterStack) -> None:
    stack.set_config({"webApiVersion": "v2"})
    stack.build_images()
    with LoadLoop(stack.url, headers={"Host": stack.host}, concurrency=4, max_seconds=600,
                  classify=lambda result: result.json()["consumer_version"]) as load, \
            DeploymentWatch(stack.cluster, stack.namespace, "web-api") as watch:
        load.wait_for_requests(50, timeout=30)
        stack.up("cluster: web-api v2")
        wait_until(lambda: serves(stack, ("v2", "v1")), timeout=60, interval=0.5, what="only v2 served")
        load.wait_for_requests(load.report.total + 20, timeout=30)
    report = load.report
    assert report.failed == 0, f"{report.failed} of {report.total} requests failed: {report.failures[:5]}"
    assert report.seen["v1"] > 0 and report.seen["v2"] > 0, report.seen
    assert watch.fewest_available() >= WEB_API_REPLICAS, watch.samples[:5]
    replica_sets = stack.cluster.get("replicasets", "-n", stack.namespace, "-l", "app=web-api")["items"]
    counts = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs["spec"]["replicas"] for rs in replica_sets}
    assert len(counts) == 2, counts
    assert counts[images_of(stack)["web-api"]] == WEB_API_REPLICAS
    assert sorted(counts.values()) == [0, WEB_API_REPLICAS]


def test_4_recipe_api_scales_to_10_ready_pods_and_back_to_5(stack: ClusterStack) -> None:
    stack.set_config({"recipeApiReplicas": "10"})
    stack.up("cluster: recipe-api x10")
    assert ready_count(stack, "recipe-api") == 10
    stack.set_config({"recipeApiReplicas": str(RECIPE_API_REPLICAS)})
    stack.up("cluster: recipe-api x5")
    wait_until(lambda: len([p for p in stack.pods("recipe-api") if not p["metadata"].get("deletionTimestamp")])
               == RECIPE_API_REPLICAS, timeout=120, interval=1, what="recipe-api back to 5 pods")
    assert stack.deployment("recipe-api")["status"]["readyReplicas"] == RECIPE_API_REPLICAS


def test_5_history_then_rollback_to_revision_1_restores_its_versions_and_replicas(stack: ClusterStack) -> None:
    first_images = stack.outputs()  # revision 5's; revision 1's web-api image was v1
    history = stack.make("history").stdout
    rows = [line.split() for line in history.splitlines() if line.split() and line.split()[0].isdigit()]
    assert [row[0] for row in rows] == ["1", "2", "3", "4"], history
    assert rows[0][5:9] == ["v1", "3", "v1", "5"] and rows[2][5:9] == ["v2", "3", "v1", "10"], history

    stack.make("rollback", "TO=1", "YES=1")
    config = stack.config()
    assert (config["webApiVersion"], config["webApiReplicas"]) == ("v1", "3")
    assert (config["recipeApiVersion"], config["recipeApiReplicas"]) == ("v1", "5")
    assert images_of(stack)["web-api"].startswith("web-api:v1-")
    assert images_of(stack)["recipe-api"] == first_images["recipeApiImage"]
    assert stack.deployment("web-api")["spec"]["replicas"] == WEB_API_REPLICAS
    wait_until(lambda: serves(stack, ("v1", "v1")), timeout=60, interval=0.5, what="v1 served again")


def test_6_autoscaling_on_then_off_keeps_the_count_and_never_conflicts(stack: ClusterStack) -> None:
    # A floor above the current count makes the autoscaler scale at once, metrics or not: from then on
    # kube-controller-manager owns spec.replicas, which is what made switching off fail before.
    stack.set_config({"webApiAutoscale": "true", "webApiAutoscaleMin": "4", "webApiAutoscaleMax": "6"})
    with DeploymentWatch(stack.cluster, stack.namespace, "web-api") as on:
        stack.up("cluster: autoscaling on")
        wait_until(lambda: stack.deployment("web-api")["spec"]["replicas"] == 4, timeout=120, interval=1,
                   what="the autoscaler to raise web-api to its floor of 4")
    assert on.fewest_declared() >= WEB_API_REPLICAS, [s.replicas for s in on.samples]
    managed = stack.cluster.get("deployment", "web-api", "-n", stack.namespace, "--show-managed-fields")
    managers = {entry["manager"] for entry in managed["metadata"]["managedFields"]
                if "f:replicas" in str(entry.get("fieldsV1", {}).get("f:spec", {}))}
    assert "kube-controller-manager" in managers, managers

    stack.set_config({"webApiAutoscale": "false"})
    with DeploymentWatch(stack.cluster, stack.namespace, "web-api") as off:
        done = stack.up("cluster: autoscaling off", check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "conflict" not in done.stdout.lower()
    assert stack.deployment("web-api")["spec"]["replicas"] == WEB_API_REPLICAS
    assert off.fewest_declared() >= WEB_API_REPLICAS
    assert stack.cluster.get("hpa", "-n", stack.namespace)["items"] == []
    wait_until(lambda: ready_count(stack, "web-api") == WEB_API_REPLICAS, timeout=120, interval=1,
               what="web-api back to 3 Ready pods")


def test_7_a_bad_config_value_is_refused_before_anything_changes(stack: ClusterStack) -> None:
    def versions_of_objects() -> dict[str, str]:
        return {app: stack.deployment(app)["metadata"]["resourceVersion"] for app in ("web-api", "recipe-api")}

    before = versions_of_objects()
    # A value of the wrong type: the CLI itself refuses it against Pulumi.yaml's schema, before the program runs.
    stack.set_config({"webApiReplicas": "five"})
    done = stack.up("cluster: bad type", check=False)
    assert done.returncode != 0
    assert "webApiReplicas' must be of type 'integer'" in done.stdout + done.stderr
    # Values of the right type but not allowed: the program refuses them all at once, before it declares anything.
    stack.set_config({"webApiReplicas": "500", "ingressHost": "Not A Host"})
    done = stack.up("cluster: bad values", check=False)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "recipes:webApiReplicas = '500'" in output and "recipes:ingressHost = 'Not A Host'" in output
    assert versions_of_objects() == before
    stack.set_config({"webApiReplicas": str(WEB_API_REPLICAS), "ingressHost": stack.host})


def test_8_a_new_cluster_without_the_images_is_brought_back_by_the_deploy_command(stack: ClusterStack) -> None:
    refs = list(images_of(stack).values())
    stack.cluster.recreate()
    # A new minikube is a new Docker daemon too: its images are gone with it.
    run(["docker", "image", "rm", "--force", *refs], timeout=120)
    assert not stack.namespace_exists()

    run(["scripts/deploy", stack.name], env={**stack.env, "YES": "1"}, timeout=1200, echo=True)
    assert sorted(images_of(stack).values()) == sorted(refs)
    assert ready_count(stack, "web-api") == WEB_API_REPLICAS
    assert ready_count(stack, "recipe-api") == RECIPE_API_REPLICAS
    wait_until(lambda: serves(stack, ("v1", "v1")), timeout=120, interval=1, what="v1 served by the new cluster")


def test_9_destroy_leaves_nothing_in_the_namespace(stack: ClusterStack) -> None:
    stack.destroy()
    wait_until(lambda: not stack.namespace_exists(), timeout=180, interval=2,
               what=f"namespace {stack.namespace} gone")
