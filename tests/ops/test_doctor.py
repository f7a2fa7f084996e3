"""`make doctor` (ops.doctor) with stand-in CLIs on PATH: each failure, its exact fix, and the exit code."""

from __future__ import annotations

import pytest

from ops import doctor
from ops.doctor import Context
from tests.ops.fake_cli import MINIKUBE_DOCKER_HOST
from tests.ops.fakes import run_python_module

ALL_TOOLS = ("pulumi", "minikube", "kubectl", "docker")


def checks_by_name(fake, *, system="Linux", settings=None, **env):
    ctx = Context(env=fake.env(**env), system=system, settings=settings or {})
    return {check.name: check for check in doctor.tool_checks(ctx) + doctor.cluster_checks(ctx)}


def failed(checks):
    return {name: check.fix for name, check in checks.items() if not check.ok}


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
    assert f"FAIL  {check}" in result.stdout and fix in result.stdout


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


def test_minikube_stopped_fails_with_minikube_start(laptop):
    laptop.state["minikube"]["running"] = False
    laptop.save()
    checks = checks_by_name(laptop, DOCKER_HOST=MINIKUBE_DOCKER_HOST)
    assert checks["minikube running"].fix == "minikube start -p minikube"
    assert "Host Stopped, Kubelet Stopped, APIServer Stopped" in checks["minikube running"].detail
    assert checks["ingress addon"].fix == "minikube start -p minikube && minikube addons enable ingress -p minikube"
    assert not checks["docker -> minikube"].ok
    assert ["addons", "list", "-p", "minikube", "-o", "json"] not in laptop.argvs("minikube")


def test_no_minikube_cluster_at_all_fails_with_minikube_start(laptop):
    laptop.state["minikube"].update(exists=False, running=False)
    laptop.save()
    check = checks_by_name(laptop)["minikube running"]
    assert not check.ok and check.fix == "minikube start -p minikube"
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
    assert check.fix.startswith("minikube delete -p minikube && minikube start -p minikube --cni=calico && "
                                "minikube addons enable ingress -p minikube    #")
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
