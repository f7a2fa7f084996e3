"""The e2e suite's skip logic, with stand-in CLIs: one message naming each missing piece and its fix."""

from __future__ import annotations

import subprocess
import sys

from ops import doctor
from tests.e2e.prerequisites import missing_prerequisites
from tests.ops.fake_cli import MINIKUBE_DOCKER_HOST
from tests.ops.fakes import REPO

ALL_TOOLS = ("pulumi", "minikube", "kubectl", "docker")


def test_nothing_installed_names_each_missing_piece_with_its_fix(fake):
    message = missing_prerequisites(fake.env(), system="Linux")
    assert message.startswith("e2e needs: the Pulumi CLI ('pulumi' is not on PATH; fix: curl -fsSL "
                              "https://get.pulumi.com | sh")
    assert f"; kubectl, to reach the cluster (fix: {doctor.install_fix('kubectl', 'Linux')})" in message
    assert message.endswith("; Docker pointed at minikube (DOCKER_HOST is not set, so images would be built by this "
                            "machine's daemon, which minikube's node cannot see; fix: eval \"$(minikube -p minikube "
                            "docker-env)\")")


def test_everything_in_place_means_no_skip(fake):
    fake.install(*ALL_TOOLS)
    assert missing_prerequisites(fake.env(DOCKER_HOST=MINIKUBE_DOCKER_HOST), system="Linux") is None
    assert [argv for argv in fake.argvs("kubectl")] == [["--context", "minikube", "get", "--raw", "/readyz"]]


def test_a_stopped_cluster_is_named_with_the_start_command(fake):
    fake.install(*ALL_TOOLS)
    fake.state["minikube"]["running"] = False
    fake.save()
    message = missing_prerequisites(fake.env(DOCKER_HOST=MINIKUBE_DOCKER_HOST), system="Linux")
    assert message.startswith("e2e needs: a cluster answering for the kube context 'minikube' (")
    assert "connection to the server 192.168.49.2:8443 was refused" in message
    assert "fix: minikube start && minikube addons enable ingress" in message
    assert "Pulumi CLI" not in message


def test_a_missing_ingress_addon_is_named(fake):
    fake.install(*ALL_TOOLS)
    fake.state["minikube"]["addons"]["ingress"] = "disabled"
    fake.save()
    message = missing_prerequisites(fake.env(DOCKER_HOST=MINIKUBE_DOCKER_HOST), system="Linux")
    assert message == ("e2e needs: minikube's ingress addon (the ingress addon is disabled; fix: minikube addons "
                       "enable ingress -p minikube)")


def test_under_make_test_the_suite_skips_every_step_with_one_message(fake):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/e2e", "-rs", "-p", "no:cacheprovider"],
        cwd=REPO, env=fake.env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and skipped[0].startswith("SKIPPED [6] tests/e2e/test_e2e.py")
    assert "e2e needs: the Pulumi CLI" in skipped[0]
    assert "6 skipped" in result.stdout
    assert fake.calls() == []  # nothing was run: the stand-ins are not even installed


def test_the_suite_imports_without_running_any_tool(fake):
    # The suite runs on users' laptops: its module body (Automation API import, fixtures, steps) must load here too.
    fake.install(*ALL_TOOLS)
    result = subprocess.run(
        [sys.executable, "-c", "import tests.e2e.test_e2e as suite; print(suite.STACK, suite.NAMESPACE)"],
        cwd=REPO, env=fake.env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    stack, namespace = result.stdout.split()
    assert stack.startswith("e2e-") and namespace == f"recipes-{stack}"
    assert fake.calls() == []


def test_another_target_context_needs_neither_minikube_nor_its_docker(fake):
    fake.install(*ALL_TOOLS)
    message = missing_prerequisites(fake.env(E2E_KUBE_CONTEXT="recipes-local"), system="Linux")
    assert message.startswith("e2e needs: a cluster answering for the kube context 'recipes-local'")
    assert "scripts/local-cluster up" in message
    assert "minikube" not in message.split("fix:")[0] and "DOCKER_HOST" not in message
