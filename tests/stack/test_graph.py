"""The whole graph under mocks: what is declared, how config flows through it, and how the pieces connect."""

from __future__ import annotations

import importlib
import os
import sys
from urllib.parse import urlsplit

import pytest

from stack.workload import PRE_STOP_SLEEP_SECONDS, SHUTDOWN_DELAY_SECONDS
from tests.stack.manifests import containers, env, matches, pod_labels, port_numbers, resolves_to_declared_port
from stack.image_refs import image_ref
from tests.stack.mocked import DOCKER_IMAGE, INGRESS_IP, K8S_PROVIDER, ROOT, Evaluation, evaluate

SERVICES = ("web-api", "recipe-api")
EXPORTS = {"url", "ingressAddress", "curlCommand", "webApiImage", "recipeApiImage", "webApiVersion",
           "recipeApiVersion", "webApiReplicas", "recipeApiReplicas", "namespace"}
OTHER = {"webApiVersion": "v7", "recipeApiVersion": "2.0.1", "webApiReplicas": "4", "recipeApiReplicas": "9",
         "ingressHost": "shop.example.com", "namespace": "shop", "rolloutTimeoutSeconds": "240",
         "webApiCpuRequest": "200m", "webApiMemoryLimit": "256Mi"}


def test_declares_exactly_the_expected_objects(dev: Evaluation) -> None:
    kinds = sorted((r.kind, r.inputs["metadata"]["name"]) for r in dev.kubernetes_objects())
    assert kinds == sorted([
        ("Namespace", "recipes"),
        ("Deployment", "web-api"), ("Deployment", "recipe-api"),
        ("Service", "web-api"), ("Service", "recipe-api"),
        ("PodDisruptionBudget", "web-api"), ("PodDisruptionBudget", "recipe-api"),
        ("NetworkPolicy", "web-api"), ("NetworkPolicy", "recipe-api"),
        ("Ingress", "recipes"),
    ])
    assert sorted(r.inputs["imageName"] for r in dev.of_type(DOCKER_IMAGE)) == [
        image_ref("recipe-api", "v1", None), image_ref("web-api", "v1", None)]
    assert len(dev.of_type(K8S_PROVIDER)) == 1
    assert sorted(r.name for r in dev.of_type("recipes:index:Workload")) == ["recipe-api", "web-api"]


def test_everything_but_the_namespace_lives_in_the_configured_namespace(dev: Evaluation) -> None:
    objects = [r for r in dev.kubernetes_objects() if r.kind != "Namespace"]
    assert len(objects) == 9
    assert {r.inputs["metadata"]["namespace"] for r in objects} == {"recipes"}


def test_every_kubernetes_object_uses_the_explicit_provider_for_the_configured_context(monkeypatch) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)  # the SDK would pass its value (a path) as the kubeconfig
    dev = evaluate()
    (provider,) = dev.of_type(K8S_PROVIDER)
    assert provider.name == "cluster"
    assert provider.inputs["context"] == "minikube"
    assert provider.inputs["kubeconfig"] == ""  # unset for the provider, which then applies client-go's rules
    objects = dev.kubernetes_objects()
    assert len(objects) == 10
    for resource in objects:
        assert resource.provider and resource.provider.startswith(f"{provider.urn}::"), resource.name


def test_a_kubeconfig_is_passed_by_path_never_by_contents(tmp_path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    evaluation = evaluate({"kubeContext": "staging", "kubeconfigPath": str(kubeconfig)})
    (provider,) = evaluation.of_type(K8S_PROVIDER)
    assert provider.inputs["context"] == "staging"
    assert provider.inputs["kubeconfig"] == str(kubeconfig)


def test_each_service_is_a_component_owning_its_objects(dev: Evaluation) -> None:
    owned = [r for r in dev.kubernetes_objects() if r.kind in ("Deployment", "Service", "PodDisruptionBudget")]
    assert len(owned) == 6
    for resource in owned:
        assert "recipes:index:Workload$" in resource.urn, resource.urn


def test_exports_under_the_dev_config(dev: Evaluation) -> None:
    assert dev.exports == {
        "url": "http://example.org/",
        "ingressAddress": INGRESS_IP,
        "curlCommand": f'curl -H "Host: example.org" http://{INGRESS_IP}/',
        "webApiImage": image_ref("web-api", "v1", None),
        "recipeApiImage": image_ref("recipe-api", "v1", None),
        "webApiVersion": "v1",
        "recipeApiVersion": "v1",
        "webApiReplicas": 3,
        "recipeApiReplicas": 5,
        "namespace": "recipes",
    }


def test_other_versions_replicas_host_and_namespace_flow_through() -> None:
    evaluation = evaluate(OTHER)
    assert set(evaluation.exports) == EXPORTS
    assert evaluation.exports["webApiImage"] == image_ref("web-api", "v7", None)
    assert evaluation.exports["webApiImage"].startswith("web-api:v7-")
    assert evaluation.exports["recipeApiImage"] == image_ref("recipe-api", "2.0.1", None)
    assert (evaluation.exports["webApiReplicas"], evaluation.exports["recipeApiReplicas"]) == (4, 9)
    assert evaluation.exports["namespace"] == "shop"
    assert evaluation.exports["curlCommand"] == f'curl -H "Host: shop.example.com" http://{INGRESS_IP}/'
    assert sorted(r.inputs["imageName"] for r in evaluation.of_type(DOCKER_IMAGE)) == [
        image_ref("recipe-api", "2.0.1", None), image_ref("web-api", "v7", None)]
    for name, version, replicas in [("web-api", "v7", 4), ("recipe-api", "2.0.1", 9)]:
        deployment = evaluation.one("Deployment", name)
        assert deployment.inputs["metadata"]["namespace"] == "shop"
        assert deployment.inputs["spec"]["replicas"] == replicas
        assert pod_labels(deployment)["app.kubernetes.io/version"] == version
        assert env(deployment)["APP_VERSION"] == version
        assert containers(deployment)[0]["image"] == image_ref(name, version, None)
        assert deployment.inputs["metadata"]["annotations"]["kubernetes.io/change-cause"] == f"{name} {version}"
        assert deployment.inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] == "240"
    web_resources = containers(evaluation.one("Deployment", "web-api"))[0]["resources"]
    assert web_resources == {"requests": {"cpu": "200m", "memory": "32Mi"}, "limits": {"cpu": "500m",
                                                                                      "memory": "256Mi"}}
    assert evaluation.one("Namespace", "shop")
    (rule,) = evaluation.one("Ingress", "recipes").inputs["spec"]["rules"]
    assert rule["host"] == "shop.example.com"


def _identity(evaluation: Evaluation) -> list[tuple]:
    """What decides replace-or-update: Pulumi's URN and each object's kind, name, namespace and selector."""
    return sorted(
        (r.urn, r.kind, r.inputs["metadata"]["name"], r.inputs["metadata"].get("namespace"),
         repr(r.inputs.get("spec", {}).get("selector")))
        for r in evaluation.kubernetes_objects()
    )


def test_a_version_change_is_an_in_place_rolling_update_not_a_replacement(dev: Evaluation) -> None:
    upgraded = evaluate({"webApiVersion": "v2", "recipeApiVersion": "v3"})
    assert len(_identity(dev)) == 10
    assert _identity(upgraded) == _identity(dev)
    for name, version in [("web-api", "v2"), ("recipe-api", "v3")]:
        before, after = dev.one("Deployment", name), upgraded.one("Deployment", name)
        assert after.inputs["spec"]["selector"] == before.inputs["spec"]["selector"]
        assert "app.kubernetes.io/version" not in after.inputs["spec"]["selector"]["matchLabels"]
        assert pod_labels(after)["app.kubernetes.io/version"] == version
        assert pod_labels(before)["app.kubernetes.io/version"] == "v1"
        assert containers(after)[0]["image"] == image_ref(name, version, None)


def test_a_code_change_under_the_same_version_changes_only_that_services_pod_template(dev: Evaluation,
                                                                                     tmp_path) -> None:
    import shutil

    apps = tmp_path / "apps"
    shutil.copytree(ROOT / "apps", apps, ignore=shutil.ignore_patterns("__pycache__"))
    (apps / "web-api" / "web_api" / "routes.py").write_text(
        (apps / "web-api" / "web_api" / "routes.py").read_text() + "\n# a code change\n")
    changed = evaluate(apps_dir=apps)
    before, after = dev.one("Deployment", "web-api"), changed.one("Deployment", "web-api")
    assert containers(before)[0]["image"] != containers(after)[0]["image"]
    assert containers(after)[0]["image"].startswith("web-api:v1-")
    assert _identity(changed) == _identity(dev)  # updated in place: a rolling update
    assert changed.one("Deployment", "recipe-api").inputs == dev.one("Deployment", "recipe-api").inputs


def test_web_api_reaches_the_recipe_api_service_by_its_dns_name_and_port(dev: Evaluation) -> None:
    url = urlsplit(env(dev.one("Deployment", "web-api"))["RECIPE_API_URL"])
    service = dev.one("Service", "recipe-api")
    assert url.scheme == "http"
    assert url.hostname == f"recipe-api.{service.inputs['metadata']['namespace']}.svc.cluster.local"
    assert url.port in [port["port"] for port in service.inputs["spec"]["ports"]]
    assert "RECIPE_API_URL" not in env(dev.one("Deployment", "recipe-api"))

    other = evaluate({"namespace": "shop", "clusterDomain": "corp.internal"})
    assert urlsplit(env(other.one("Deployment", "web-api"))["RECIPE_API_URL"]).hostname == \
        "recipe-api.shop.svc.corp.internal"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_is_cluster_ip_port_80_to_the_named_container_port_of_its_pods(dev: Evaluation,
                                                                                     name: str) -> None:
    service, deployment = dev.one("Service", name), dev.one("Deployment", name)
    spec = service.inputs["spec"]
    assert spec["type"] == "ClusterIP"
    (port,) = spec["ports"]
    assert port["port"] == 80
    (container,) = containers(deployment)
    assert isinstance(port["targetPort"], str) and port["targetPort"] in port_numbers(container)
    assert matches(spec["selector"], pod_labels(deployment))
    other = dev.one("Deployment", "recipe-api" if name == "web-api" else "web-api")
    assert not matches(spec["selector"], pod_labels(other))


def test_each_service_listens_where_its_image_does(dev: Evaluation) -> None:
    for name, port in [("web-api", 3000), ("recipe-api", 4000)]:
        (container,) = containers(dev.one("Deployment", name))
        assert port_numbers(container) == {"http": port}
        assert env(dev.one("Deployment", name))["PORT"] == str(port)
        assert f"EXPOSE {port}" in (ROOT / "apps" / name / "Dockerfile").read_text()


def test_the_ingress_routes_the_host_to_a_port_of_the_web_api_service(dev: Evaluation) -> None:
    spec = dev.one("Ingress", "recipes").inputs["spec"]
    assert spec["ingressClassName"] == "nginx"
    (rule,) = spec["rules"]
    assert rule["host"] == "example.org"
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    backend = path["backend"]["service"]
    assert backend["name"] == "web-api"
    service_ports = dev.one("Service", backend["name"]).inputs["spec"]["ports"]
    assert backend["port"]["name"] in [port["name"] for port in service_ports]


@pytest.mark.parametrize("name", SERVICES)
def test_every_probe_targets_a_declared_port_and_the_right_endpoint(dev: Evaluation, name: str) -> None:
    (container,) = containers(dev.one("Deployment", name))
    probes = {kind: container[kind] for kind in ("startupProbe", "readinessProbe", "livenessProbe")}
    for probe in probes.values():
        assert resolves_to_declared_port(probe["httpGet"]["port"], container)
    assert probes["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert probes["livenessProbe"]["httpGet"]["path"] == "/health"
    assert probes["startupProbe"]["httpGet"]["path"] == "/health"


@pytest.mark.parametrize("name", SERVICES)
def test_a_new_pod_is_ready_within_about_two_seconds_and_a_slow_one_is_not_killed(dev: Evaluation,
                                                                                    name: str) -> None:
    (container,) = containers(dev.one("Deployment", name))
    startup, readiness = container["startupProbe"], container["readinessProbe"]
    # Ready = startup success (first 1 s poll after the ~0.5 s start) + the next readiness poll.
    assert startup["periodSeconds"] <= 1 and readiness["periodSeconds"] <= 2
    assert startup.get("initialDelaySeconds", 0) == 0 and readiness.get("initialDelaySeconds", 0) == 0
    # Liveness waits for the startup probe, which allows a slow start far beyond the usual half second.
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 20


@pytest.mark.parametrize("name", SERVICES)
def test_rollouts_never_drop_below_the_desired_count_and_time_out_in_minutes(dev: Evaluation, name: str) -> None:
    deployment = dev.one("Deployment", name)
    strategy = deployment.inputs["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert strategy["rollingUpdate"]["maxSurge"] >= 1
    timeout = int(deployment.inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"])
    assert timeout == 180
    assert int(dev.one("Ingress", "recipes").inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"]) == 180


@pytest.mark.parametrize("name", SERVICES)
def test_labels_and_change_cause(dev: Evaluation, name: str) -> None:
    deployment = dev.one("Deployment", name)
    selector = deployment.inputs["spec"]["selector"]["matchLabels"]
    assert selector == {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "recipes"}
    assert pod_labels(deployment) == {**selector, "app.kubernetes.io/managed-by": "pulumi",
                                      "app.kubernetes.io/version": "v1", "app": name}
    assert deployment.inputs["metadata"]["annotations"]["kubernetes.io/change-cause"] == f"{name} v1"


@pytest.mark.parametrize("name", SERVICES)
def test_pods_run_locked_down(dev: Evaluation, name: str) -> None:
    deployment = dev.one("Deployment", name)
    pod = deployment.inputs["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    (container,) = containers(deployment)
    security = container["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == 10001  # the images' numeric USER
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert set(container["resources"]) == {"requests", "limits"}
    assert set(container["resources"]["requests"]) == set(container["resources"]["limits"]) == {"cpu", "memory"}


@pytest.mark.parametrize("name", SERVICES)
def test_a_stopping_pod_drains_before_it_is_killed(dev: Evaluation, name: str) -> None:
    deployment = dev.one("Deployment", name)
    (container,) = containers(deployment)
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    shutdown_delay = int(env(deployment)["SHUTDOWN_DELAY_SECONDS"])
    assert (pre_stop, shutdown_delay) == (PRE_STOP_SLEEP_SECONDS, SHUTDOWN_DELAY_SECONDS)
    assert pre_stop >= 3 and shutdown_delay >= 1
    # The kubelet counts the preStop sleep against the grace period; the app then needs the delay plus its drain.
    from httpkit.serving import DRAIN_TIMEOUT_SECONDS as drain_timeout  # the services' shared HTTP layer
    grace = deployment.inputs["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > pre_stop + shutdown_delay + drain_timeout


def test_images_are_built_from_the_apps_directory_next_to_the_program_without_a_push(dev: Evaluation,
                                                                                       tmp_path,
                                                                                       monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the program must not depend on the working directory
    evaluation = evaluate()
    images = {r.inputs["imageName"]: r.inputs for r in evaluation.of_type(DOCKER_IMAGE)}
    assert len(images) == 2
    for name in SERVICES:
        inputs = images[image_ref(name, "v1", None)]
        assert inputs["skipPush"] is True
        context = inputs["build"]["context"]
        assert os.path.isabs(context) and context == str(ROOT / "apps")
        assert inputs["build"]["dockerfile"] == str(ROOT / "apps" / name / "Dockerfile")
        assert os.path.isfile(inputs["build"]["dockerfile"])
        assert "args" not in inputs["build"]
        assert containers(evaluation.one("Deployment", name))[0]["image"] == inputs["imageName"]


def test_a_base_image_becomes_the_build_argument() -> None:
    evaluation = evaluate({"baseImage": "recipes-local-base:bookworm"})
    images = evaluation.of_type(DOCKER_IMAGE)
    assert len(images) == 2
    for image in images:
        assert image.inputs["build"]["args"] == {"BASE_IMAGE": "recipes-local-base:bookworm"}
        # Another base is other content: another reference, so the default-base build is never reused for it.
        name = image.inputs["imageName"].split(":")[0]
        assert image.inputs["imageName"] == image_ref(name, "v1", "recipes-local-base:bookworm")
        assert image.inputs["imageName"] != image_ref(name, "v1", None)


def test_with_an_external_builder_the_program_deploys_the_same_references_and_builds_nothing(dev) -> None:
    evaluation = evaluate({"imageBuilder": "external"})
    assert evaluation.of_type(DOCKER_IMAGE) == []
    for name in SERVICES:
        assert containers(evaluation.one("Deployment", name))[0]["image"] == \
            containers(dev.one("Deployment", name))[0]["image"] == image_ref(name, "v1", None)


def _service_module(name: str, module: str):
    """A module of the service itself (apps/<name>/<package>/<module>.py), imported from its source tree."""
    source = str(ROOT / "apps" / name)
    if source not in sys.path:
        sys.path.insert(0, source)
    return importlib.import_module(f"{name.replace('-', '_')}.{module}")


def _service_settings_loader(name: str):
    """The service's own environment parser."""
    return _service_module(name, "settings").load


@pytest.mark.parametrize("config", [{}, OTHER], ids=["dev", "other"])
@pytest.mark.parametrize("name", SERVICES)
def test_each_service_accepts_the_environment_its_deployment_gives_it(name: str, config: dict[str, str]) -> None:
    evaluation = evaluate(config)
    deployment = evaluation.one("Deployment", name)
    (container,) = containers(deployment)
    loaded = _service_settings_loader(name)(env(deployment))
    assert loaded.port == port_numbers(container)["http"]
    assert loaded.version == pod_labels(deployment)["app.kubernetes.io/version"]
    assert loaded.shutdown_delay == SHUTDOWN_DELAY_SECONDS
    assert loaded.host == "0.0.0.0"
    if name == "web-api":
        recipe_api = evaluation.one("Service", "recipe-api").inputs["metadata"]
        assert urlsplit(loaded.recipe_api_url).hostname.startswith(f"recipe-api.{recipe_api['namespace']}.svc.")


@pytest.mark.parametrize(("context", "env", "builder", "refused"), [
    ("minikube", {}, "pulumi", True),
    ("minikube", {"DOCKER_HOST": "tcp://192.168.49.2:2376"}, "pulumi", False),
    ("minikube", {}, "external", False),  # built beforehand, wherever the user pointed Docker
    ("staging", {}, "pulumi", False),  # another cluster pulls from a registry, or shares this daemon
])
def test_building_outside_minikubes_daemon_is_refused_with_the_fix(monkeypatch, context, env, builder,
                                                                   refused) -> None:
    import pulumi

    for name in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if not refused:
        assert len(evaluate({"kubeContext": context, "imageBuilder": builder}).kinds("Deployment")) == 2
        return
    with pytest.raises(pulumi.RunError) as refusal:
        evaluate({"kubeContext": context, "imageBuilder": builder})
    assert 'eval "$(minikube -p minikube docker-env)"' in str(refusal.value)
    assert "DOCKER_HOST" in str(refusal.value)

def test_every_wait_gives_up_with_the_rollout_and_the_ingress_waits_for_the_controllers_status() -> None:
    from stack.ingress import STATUS_WAIT_FLOOR_SECONDS

    evaluation = evaluate({"rolloutTimeoutSeconds": "45"})
    for name in SERVICES:
        # The Service await waits for endpoints, with its own 10-minute default unless told otherwise.
        assert evaluation.one("Service", name).inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] == "45"
        assert evaluation.one("Deployment", name).inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] == \
            "45"
    ingress = evaluation.one("Ingress", "recipes").inputs["metadata"]["annotations"]
    assert ingress["pulumi.com/timeoutSeconds"] == str(STATUS_WAIT_FLOOR_SECONDS)
    assert STATUS_WAIT_FLOOR_SECONDS >= 60 + 30  # ingress-nginx's status interval, plus a leader election
    longer = evaluate({"rolloutTimeoutSeconds": "600"}).one("Ingress", "recipes").inputs["metadata"]["annotations"]
    assert longer["pulumi.com/timeoutSeconds"] == "600"


def test_the_namespace_enforces_the_restricted_pod_security_profile(dev: Evaluation) -> None:
    labels = dev.one("Namespace", "recipes").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_ingress_hands_requests_to_the_web_api_service_not_to_pod_ips(dev: Evaluation) -> None:
    annotations = dev.one("Ingress", "recipes").inputs["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/service-upstream"] == "true"
