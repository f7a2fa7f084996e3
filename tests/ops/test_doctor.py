"""`make doctor` (ops.doctor) with stand-in CLIs on PATH: each failure, its exact fix, and the exit code."""

from __future__ import annotations

import pytest

from ops import doctor
from ops.doctor import Context
from tests.ops.fake_cli import MINIKUBE_DOCKER_HOST
from tests.ops.fakes import run_python_module

ALL_TOOLS = ("pulumi", "minikube", "kubectl", "docker")
# Requests set explicitly, so the capacity checks do not follow Pulumi.yaml's defaults.
SIZED = {f"recipes:{service}{key}": value for service in ("webApi", "recipeApi")
         for key, value in (("CpuRequest", "100m"), ("MemoryRequest", "64Mi"))}


def context(fake, *, system="Linux", settings=None, **env):
    settings = settings or {}
    return Context(env=fake.env(**env), system=system, settings=settings, machine="x86_64", root=False,
                   kube_context=settings.get("recipes:kubeContext", "minikube"))


def checks_by_name(fake, *, system="Linux", settings=None, **env):
    return {check.name: check for check in doctor.all_checks(context(fake, system=system, settings=settings, **env))}


def failed(checks):
    return {name: check.fix for name, check in checks.items() if not check.ok and not check.skipped}


def labels(stdout):
    """{check name: label} from the printed report."""
    rows = {}
    for line in stdout.splitlines():
        parts = line.split("  ")
        if parts and parts[0].strip() in ("ok", "FAIL", "warn", "--"):
            rest = [part.strip() for part in parts[1:] if part.strip()]
            rows[rest[0]] = parts[0].strip()
    return rows


@pytest.fixture
def laptop(fake):
    """Everything in place (the stand-ins' default state)."""
    return fake.install(*ALL_TOOLS)


def test_everything_in_place_passes_and_exits_zero(laptop):
    checks = checks_by_name(laptop, DOCKER_HOST=MINIKUBE_DOCKER_HOST)
    assert failed(checks) == {"NetworkPolicy CNI": checks["NetworkPolicy CNI"].fix}  # a warning, see below
    assert checks["pulumi CLI"].detail == "v3.280.0"
    assert checks["docker -> minikube"].detail == f"DOCKER_HOST={MINIKUBE_DOCKER_HOST} (daemon 'minikube')"
    result = run_python_module(laptop, "ops.doctor", DOCKER_HOST=MINIKUBE_DOCKER_HOST)
    assert result.returncode == 0, result.stdout
    assert "ok    pulumi CLI" in result.stdout and "FAIL" not in result.stdout


@pytest.mark.parametrize(
    ("missing", "check", "fix"),
    [
        ("pulumi", "pulumi CLI", "curl -fsSL https://get.pulumi.com | sh"),
        ("docker", "docker CLI", "curl -fsSL https://get.docker.com | sh"),
        ("minikube", "minikube CLI", "sudo install minikube-linux-amd64 /usr/local/bin/minikube"),
    ],
)
def test_a_missing_tool_fails_with_its_install_command(fake, missing, check, fix):
    fake.install(*(tool for tool in ALL_TOOLS if tool != missing))
    checks = checks_by_name(fake, DOCKER_HOST=MINIKUBE_DOCKER_HOST)
    assert not checks[check].ok and checks[check].required
    assert fix in checks[check].fix
    assert f"'{missing}' is not on PATH" in checks[check].detail
    result = run_python_module(fake, "ops.doctor", DOCKER_HOST=MINIKUBE_DOCKER_HOST)
    assert result.returncode == 1
    assert f"FAIL  {check}" in result.stdout and doctor.install_fix(missing, "Linux") in result.stdout


def test_tools_only_stops_before_the_cluster_checks(fake):
    fake.install("docker", "minikube", "kubectl")
    result = run_python_module(fake, "ops.doctor", "--tools-only")
    assert result.returncode == 1
    assert "FAIL  pulumi CLI" in result.stdout
    assert "minikube running" not in result.stdout
    assert fake.argvs("minikube") == [["version", "--short"]]


def test_macos_gets_brew_commands(fake):
    fake.install("docker", "minikube", "kubectl")
    checks = checks_by_name(fake, system="Darwin")
    assert checks["pulumi CLI"].fix == "brew install pulumi/tap/pulumi"


def test_a_pulumi_cli_older_than_the_automation_apis_minimum_fails(laptop):
    laptop.state["pulumi"]["version"] = "v3.0.9"
    laptop.save()
    check = checks_by_name(laptop)["pulumi CLI"]
    assert not check.ok and "v3.0.9 is older than 3.1.0" in check.detail


def test_a_pulumi_cli_older_than_the_sdk_passes_with_an_update_hint(laptop):
    laptop.state["pulumi"]["version"] = "v3.100.0"
    laptop.save()
    check = checks_by_name(laptop)["pulumi CLI"]
    assert check.ok and "older than the Python SDK's 3.272.0" in check.detail


def test_python_older_than_3_11_fails():
    check = doctor.check_python(Context(env={}, system="Linux"), version=(3, 10, 12))
    assert not check.ok and "3.10.12 is older than 3.11" in check.detail
    assert "python3.11" in check.fix
    assert doctor.check_python(Context(env={}, system="Linux"), version=(3, 11, 0)).ok


def test_minikube_stopped_is_one_failure_and_what_needs_it_is_not_checked(laptop):
    laptop.state["minikube"]["running"] = False
    laptop.save()
    checks = checks_by_name(laptop, DOCKER_HOST=MINIKUBE_DOCKER_HOST)
    assert checks["minikube running"].fix == "minikube start -p minikube"
    assert "Host Stopped, Kubelet Stopped, APIServer Stopped" in checks["minikube running"].detail
    assert failed(checks) == {"minikube running": "minikube start -p minikube"}
    for name in ("ingress addon", "docker -> minikube", "kube context 'minikube'"):
        assert checks[name].skipped and checks[name].detail == "not checked: minikube is not running (see above)"
    assert ["addons", "list", "-p", "minikube", "-o", "json"] not in laptop.argvs("minikube")
    assert laptop.calls("kubectl") == [] or all(call["argv"][:2] == ["version", "--client"]
                                                for call in laptop.calls("kubectl"))


def test_two_root_causes_are_two_failures_and_one_summary(fake):
    # The new user's machine from issue 10: neither minikube nor pulumi installed, no docker-env.
    fake.install("docker", "kubectl")
    result = run_python_module(fake, "ops.doctor")
    assert result.returncode == 1
    rows = labels(result.stdout)
    assert [name for name, label in rows.items() if label == "FAIL"] == ["minikube CLI", "pulumi CLI"]
    assert {name for name, label in rows.items() if label == "--"} == {
        "minikube running", "ingress addon", "docker -> minikube", "kube context 'minikube'"}
    assert "not checked: the minikube CLI is missing (see above)" in result.stdout
    assert result.stdout.count("fix: ") == 2
    assert result.stdout.rstrip().endswith(
        "2 required check(s) failed: minikube CLI, pulumi CLI (4 more not checked until then). "
        "Run the fix shown for each, then rerun: make doctor")
    assert fake.argvs("minikube") == []


@pytest.mark.parametrize(
    ("system", "machine", "root", "fix"),
    [
        ("Linux", "x86_64", False, "curl -LO https://storage.googleapis.com/minikube/releases/latest/"
                                   "minikube-linux-amd64 && sudo install minikube-linux-amd64 /usr/local/bin/minikube"),
        ("Linux", "aarch64", True, "curl -LO https://storage.googleapis.com/minikube/releases/latest/"
                                   "minikube-linux-arm64 && install minikube-linux-arm64 /usr/local/bin/minikube"),
        ("Darwin", "arm64", False, "brew install minikube"),
    ],
)
def test_the_minikube_install_line_fits_the_os_the_architecture_and_root(system, machine, root, fix):
    assert doctor.install_fix("minikube", system, machine, root) == fix


def test_sudo_only_when_not_root_and_kubectl_for_the_architecture():
    assert doctor.install_fix("python", "Linux", "x86_64", True).startswith("apt-get install -y python3.11 ")
    assert doctor.install_fix("python", "Linux", "x86_64", False).startswith("sudo apt-get install")
    kubectl = doctor.install_fix("kubectl", "Linux", "aarch64", True)
    assert "/bin/linux/arm64/kubectl" in kubectl and "&& install kubectl /usr/local/bin/kubectl" in kubectl


def test_no_minikube_cluster_at_all_fails_with_minikube_start(laptop):
    laptop.state["minikube"].update(exists=False, running=False)
    laptop.save()
    check = checks_by_name(laptop)["minikube running"]
    assert not check.ok
    assert check.fix == "minikube start --cpus=4 --memory=4g -p minikube    # or: make deploy, which creates it so"
    assert 'Profile "minikube" not found' in check.detail


def test_ingress_addon_disabled_fails_with_the_enable_command(laptop):
    laptop.state["minikube"]["addons"]["ingress"] = "disabled"
    laptop.save()
    checks = checks_by_name(laptop, DOCKER_HOST=MINIKUBE_DOCKER_HOST)
    assert failed(checks).get("ingress addon") == "minikube addons enable ingress -p minikube"
    assert checks["ingress addon"].detail == "the ingress addon is disabled"


def test_docker_not_pointed_at_minikube_fails_with_the_eval_line(laptop):
    check = checks_by_name(laptop)["docker -> minikube"]
    assert not check.ok and "DOCKER_HOST is not set" in check.detail
    assert check.fix == 'eval "$(minikube -p minikube docker-env)"'
    other = checks_by_name(laptop, DOCKER_HOST="tcp://10.0.0.9:2376")["docker -> minikube"]
    assert not other.ok and "Cannot connect to the Docker daemon at tcp://10.0.0.9:2376" in other.detail


def test_a_missing_kube_context_fails_with_update_context(laptop):
    laptop.state["kubectl"]["contexts"] = ["kind-kind"]
    laptop.save()
    check = checks_by_name(laptop)["kube context 'minikube'"]
    assert not check.ok and check.detail == "not in the kubeconfig (contexts: kind-kind)"
    assert check.fix == "minikube update-context -p minikube"


def test_without_kubectl_the_context_is_read_from_the_kubeconfig(fake):
    fake.install("pulumi", "minikube", "docker")
    (fake.home / ".kube").mkdir()
    (fake.home / ".kube" / "config").write_text(
        "apiVersion: v1\nkind: Config\ncontexts:\n- name: minikube\n  context: {cluster: minikube, user: minikube}\n"
    )
    checks = checks_by_name(fake, DOCKER_HOST=MINIKUBE_DOCKER_HOST)
    assert checks["kube context 'minikube'"].ok
    assert not checks["kubectl CLI"].ok and not checks["kubectl CLI"].required
    (fake.home / ".kube" / "config").write_text("apiVersion: v1\ncontexts: []\n")
    assert not checks_by_name(fake)["kube context 'minikube'"].ok


def test_autoscaling_without_metrics_server_is_a_warning_with_the_enable_command(laptop):
    checks = checks_by_name(laptop, settings={"recipes:webApiAutoscale": "true"}, DOCKER_HOST=MINIKUBE_DOCKER_HOST)
    check = checks["metrics-server"]
    assert not check.ok and not check.required
    assert check.fix == "minikube addons enable metrics-server -p minikube"
    assert "metrics-server" not in checks_by_name(laptop)  # not autoscaled: not checked
    laptop.state["minikube"]["addons"]["metrics-server"] = "enabled"
    laptop.save()
    assert checks_by_name(laptop, settings={"recipes:recipeApiAutoscale": "true"})["metrics-server"].ok


def test_network_policies_on_a_cni_that_ignores_them_is_a_warning(laptop):
    check = checks_by_name(laptop)["NetworkPolicy CNI"]
    assert not check.ok and not check.required
    assert "minikube's default" in check.detail
    # The recreated cluster needs its ingress addon back, or the next deploy's Ingress never gets an address.
    assert check.fix.startswith("minikube delete -p minikube && minikube start --cpus=4 --memory=4g -p minikube "
                                "--cni=calico && minikube addons enable ingress -p minikube    # recreates the "
                                "cluster, then make deploy redeploys it")
    assert "NetworkPolicy CNI" not in checks_by_name(laptop, settings={"recipes:networkPolicies": "false"})
    laptop.state["minikube"]["cni"] = "calico"
    laptop.save()
    assert checks_by_name(laptop)["NetworkPolicy CNI"].ok


def test_only_runs_a_single_check(laptop):
    laptop.state["minikube"]["running"] = False
    laptop.save()
    result = run_python_module(laptop, "ops.doctor", "--only", "minikube-running")
    assert result.returncode == 1
    assert laptop.argvs("minikube") == [["status", "-p", "minikube", "-o", "json"]]
    assert laptop.calls("pulumi") == []


# ---------------------------------------------------------------- Kubernetes version (issue 9, item 9)

def test_a_server_older_than_1_30_fails_with_the_upgrade_command(laptop):
    assert checks_by_name(laptop)["Kubernetes version"].ok
    laptop.state["minikube"]["kubernetes_version"] = "v1.29.4"
    laptop.save()
    check = checks_by_name(laptop)["Kubernetes version"]
    assert not check.ok and check.required
    assert check.detail == "v1.29.4 is older than 1.30, which the pods' preStop sleep action needs"
    assert check.fix.startswith("minikube start -p minikube --kubernetes-version=stable")
    assert ["--context", "minikube", "get", "--raw", "/version"] in laptop.argvs("kubectl")


def test_without_kubectl_minikubes_version_comes_from_its_profile(fake):
    fake.install("pulumi", "minikube", "docker")
    fake.state["minikube"]["kubernetes_version"] = "v1.28.3"
    fake.save()
    (fake.home / ".kube").mkdir()
    (fake.home / ".kube" / "config").write_text("contexts:\n- name: minikube\n")
    checks = checks_by_name(fake, DOCKER_HOST=MINIKUBE_DOCKER_HOST)
    assert not checks["Kubernetes version"].ok and "v1.28.3 is older than 1.30" in checks["Kubernetes version"].detail
    assert checks["node capacity"].skipped  # needs kubectl, which is optional on minikube


# ---------------------------------------------------------------- node capacity (issue 9, item 2)

def test_the_default_stack_fits_a_default_minikube_node(laptop):
    check = checks_by_name(laptop, settings=SIZED)["node capacity"]
    assert check.ok, check.detail
    assert "the stack requests up to 1000m CPU, 640Mi memory" in check.detail
    assert "1150m CPU, 1940Mi memory free (2000m CPU, 2200Mi memory allocatable, 850m CPU, 260Mi memory " \
           "requested by other namespaces)" in check.detail


def test_a_scale_out_that_does_not_fit_fails_and_names_the_bigger_node_or_fewer_pods(laptop):
    check = checks_by_name(laptop, settings={**SIZED, "recipes:recipeApiReplicas": "10"})["node capacity"]
    assert not check.ok and check.required
    assert check.detail.startswith("pods would stay Pending: the stack requests up to 1500m CPU")
    assert "recipe-api 10 replicas + 1 surge x 100m CPU, 64Mi memory" in check.detail
    assert "minikube start --cpus=4 --memory=4g -p minikube" in check.fix
    assert "pulumi config set recipeApiReplicas" in check.fix


def test_the_stacks_own_pods_do_not_count_against_it_and_autoscaling_counts_its_maximum(laptop):
    laptop.state["kubectl"]["pods"] += [
        {"name": f"recipe-api-{index}", "namespace": "recipes", "requests": {"cpu": "100m", "memory": "64Mi"}}
        for index in range(5)]
    laptop.save()
    assert checks_by_name(laptop, settings=SIZED)["node capacity"].ok
    autoscaled = {**SIZED, "recipes:webApiAutoscale": "true"}
    check = checks_by_name(laptop, settings=autoscaled)["node capacity"]
    assert not check.ok and "web-api 10 autoscale max + 1 surge" in check.detail
    laptop.state["minikube"].update(cpus=4, memory_mib=4096)
    laptop.save()
    assert checks_by_name(laptop, settings=autoscaled)["node capacity"].ok


def test_make_doctor_reads_the_stacks_replicas_from_its_file(laptop, tmp_path):
    result = run_python_module(laptop, "ops.doctor", "--only", "capacity")
    assert result.returncode == 0, result.stdout
    assert "ok    node capacity" in result.stdout


# ---------------------------------------------------------------- a context that is not minikube

def test_another_context_is_checked_without_minikube(laptop):
    laptop.state["kubectl"]["contexts"].append("recipes-local")
    laptop.save()
    checks = checks_by_name(laptop, settings={"recipes:kubeContext": "recipes-local"})
    assert failed(checks) == {}, failed(checks)
    assert set(checks) >= {"kube context 'recipes-local'", "cluster answers", "IngressClass 'nginx'",
                           "Kubernetes version", "node capacity"}
    assert not {"minikube running", "ingress addon", "docker -> minikube", "NetworkPolicy CNI"} & set(checks)
    assert laptop.argvs("minikube") == []  # not even its version: minikube is not a prerequisite here
    assert ["--context", "recipes-local", "get", "--raw", "/readyz"] in laptop.argvs("kubectl")


def test_minikube_is_not_a_required_tool_for_another_context(laptop):
    # tests/cluster found `make deploy` stopping at "minikube is not on PATH" for a stack on the local cluster.
    ctx = doctor.Context(env=laptop.env(), system="Linux", kube_context="recipes-local")
    assert "minikube CLI" not in {check.name for check in doctor.tool_checks(ctx)}
    ctx = doctor.Context(env=laptop.env(), system="Linux", kube_context="minikube")
    assert "minikube CLI" in {check.name for check in doctor.tool_checks(ctx)}


def test_another_context_without_ingress_nginx_or_down_fails_once(laptop):
    laptop.state["kubectl"]["contexts"].append("recipes-local")
    laptop.state["kubectl"]["ingress_classes"] = []
    laptop.save()
    settings = {"recipes:kubeContext": "recipes-local"}
    check = checks_by_name(laptop, settings=settings)["IngressClass 'nginx'"]
    assert not check.ok and "ingress-nginx" in check.fix
    laptop.state["kubectl"]["down"] = ["recipes-local"]
    laptop.save()
    checks = checks_by_name(laptop, settings=settings)
    assert list(failed(checks)) == ["cluster answers"]
    assert checks["node capacity"].skipped and checks["Kubernetes version"].skipped
    missing = checks_by_name(laptop, settings={"recipes:kubeContext": "nowhere"})
    assert list(failed(missing)) == ["kube context 'nowhere'"]
    assert "pulumi config set kubeContext" in missing["kube context 'nowhere'"].fix
