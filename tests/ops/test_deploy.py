"""scripts/deploy, run for real by bash with stand-in pulumi/minikube/kubectl/docker on PATH and no terminal.

It runs in a copy of the files it uses, whose .venv is a fresh, up-to-date one, so that its `make venv` is real
but never reinstalls the venv the test suite itself runs from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.fake_cli import MINIKUBE_DOCKER_HOST
from tests.ops.fakes import RECORDED_HISTORY, REPO

ALL_TOOLS = ("pulumi", "minikube", "kubectl", "docker")
CURL = 'curl -H "Host: example.org" http://192.168.49.2/'
COPIED = ("Makefile", "scripts/deploy", "ops", "requirements.txt", "requirements-dev.txt",
          "apps/recipe-api/requirements.txt", "apps/web-api/requirements.txt")


@pytest.fixture(scope="session")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("checkout")
    for name in COPIED:
        source, target = REPO / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")], check=True, timeout=120)
    (root / ".venv" / ".installed").touch()
    return root


def deploy(checkout: Path, fake, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(checkout / "scripts" / "deploy"), *args],
        env=fake.env(PYTHON=sys.executable, **env), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=180,
    )


def test_a_missing_tool_stops_before_anything_starts_and_prints_its_fix(checkout, fake):
    fake.install("minikube", "kubectl", "docker")
    result = deploy(checkout, fake)
    assert result.returncode == 1
    assert "FAIL  pulumi CLI" in result.stdout
    assert "curl -fsSL https://get.pulumi.com | sh" in result.stdout
    assert "a required tool is missing" in result.stderr
    assert fake.argvs("minikube") == [["version", "--short"]]


def test_a_stopped_minikube_is_started_and_a_missing_stack_created(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.state["minikube"].update(running=False)
    fake.state["minikube"]["addons"]["ingress"] = "disabled"
    fake.state["pulumi"]["up_outputs"] = {"curlCommand": CURL}
    fake.save()
    result = deploy(checkout, fake)
    assert result.returncode == 0, result.stdout + result.stderr

    minikube = fake.argvs("minikube")
    assert ["start", "-p", "minikube"] in minikube
    assert ["addons", "enable", "ingress", "-p", "minikube"] in minikube
    assert minikube.index(["start", "-p", "minikube"]) < minikube.index(["-p", "minikube", "docker-env", "--shell",
                                                                          "bash"])
    pulumi = fake.calls("pulumi")
    assert [call["argv"] for call in pulumi] == [
        ["version"],  # the tools check
        ["version"],  # the full doctor
        ["stack", "select", "dev"],
        ["stack", "init", "dev", "--secrets-provider", "passphrase"],
        ["up", "--stack", "dev", "--message", "make deploy", "--yes", "--non-interactive"],
        ["stack", "output", "curlCommand", "--stack", "dev"],
    ]
    up = pulumi[4]
    assert up["env"]["DOCKER_HOST"] == MINIKUBE_DOCKER_HOST  # images build into minikube's daemon
    assert up["env"]["PULUMI_CONFIG_PASSPHRASE"] == ""
    assert up["cwd"] == str(checkout)
    assert f"Deployed. Try it:\n  {CURL}" in result.stdout
    assert "minikube tunnel" not in result.stdout  # Linux routes to the node's IP


def test_a_running_minikube_and_an_existing_stack_are_used_as_they_are(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.add_stack("dev", RECORDED_HISTORY, outputs={"curlCommand": CURL})
    result = deploy(checkout, fake, "dev", PULUMI_CONFIG_PASSPHRASE="kept-by-the-user-42")
    assert result.returncode == 0, result.stdout + result.stderr
    minikube_commands = {tuple(argv[:2]) for argv in fake.argvs("minikube")}
    assert ("start", "-p") not in minikube_commands and ("addons", "enable") not in minikube_commands
    pulumi = [call["argv"][:2] for call in fake.calls("pulumi")]
    assert ["stack", "select"] in pulumi and ["stack", "init"] not in pulumi
    assert {call["env"]["PULUMI_CONFIG_PASSPHRASE"] for call in fake.calls("pulumi")} == {"kept-by-the-user-42"}
    assert "kept-by-the-user-42" not in result.stdout + result.stderr


def test_yes_is_passed_on_and_another_stack_can_be_named(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.add_stack("staging", [], outputs={"curlCommand": CURL})
    assert deploy(checkout, fake, "staging", YES="1").returncode == 0
    assert ["up", "--stack", "staging", "--message", "make deploy", "--yes", "--non-interactive"] in fake.argvs(
        "pulumi")


def test_a_failing_cluster_check_stops_before_pulumi_touches_anything(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.state["kubectl"]["contexts"] = []
    fake.save()
    result = deploy(checkout, fake)
    assert result.returncode == 1
    assert "FAIL  kube context 'minikube'" in result.stdout
    assert "minikube update-context -p minikube" in result.stdout
    assert [argv for argv in fake.argvs("pulumi") if argv[0] != "version"] == []


def test_the_script_is_executable_and_valid_bash():
    script = REPO / "scripts" / "deploy"
    assert os.access(script, os.X_OK)
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)
