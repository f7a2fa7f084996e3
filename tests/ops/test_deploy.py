"""scripts/deploy, run for real by bash with stand-in pulumi/minikube/kubectl/docker on PATH and no terminal.

It runs in a copy of the files it uses, whose .venv is a fresh, up-to-date one, so that its `make venv` is real
but never reinstalls the venv the test suite itself runs from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.ops.fake_cli import MINIKUBE_DOCKER_HOST
from tests.ops.fakes import RECORDED_HISTORY, REPO

ALL_TOOLS = ("pulumi", "minikube", "kubectl", "docker")
CURL = 'curl -H "Host: example.org" http://192.168.49.2/'
COPIED = ("Makefile", "scripts/deploy", "ops", "requirements.txt", "requirements-dev.txt", "Pulumi.yaml",
          "Pulumi.dev.yaml", "apps/recipe-api/requirements.txt", "apps/web-api/requirements.txt")
WEB_IMAGE, RECIPE_IMAGE = "web-api:v1-3f9c1a2b4d5e", "recipe-api:v1-9d8e7f6a5b4c"
IMAGES = {"webApiImage": WEB_IMAGE, "recipeApiImage": RECIPE_IMAGE, "curlCommand": CURL}
# The README's scale-out with requests of 100m each: too much for a default 2-CPU minikube, fine for 4 CPUs.
BIG = "recipes:recipeApiReplicas: 10\n  recipes:recipeApiCpuRequest: 100m\n  recipes:webApiCpuRequest: 100m"
URN = "urn:pulumi:{stack}::recipes::docker:index/image:Image::{name}"
# Stand-in for the main program's scripts/build-images: logs its call, as the real one prints the references.
BUILD_IMAGES = """#!/usr/bin/env bash
echo "build-images $* DOCKER_HOST=${DOCKER_HOST:-}" >> "$FAKE_CLI_LOG.build"
echo web-api:v1-3f9c1a2b4d5e
"""


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
    # The checkout's venv sees the test venv's packages (PyYAML, so ops reads Pulumi.<stack>.yaml as it does in use).
    purelib = Path(sysconfig.get_paths()["purelib"])
    [site] = (root / ".venv").glob("lib/python3*/site-packages")
    (site / "test-venv.pth").write_text(f"{purelib}\n")
    (root / ".venv" / ".installed").touch()
    (root / "scripts" / "build-images").write_text(BUILD_IMAGES)
    (root / "scripts" / "build-images").chmod(0o755)
    for stack, config in {"ext": "recipes:imageBuilder: external", "big": BIG,
                          "local": "recipes:kubeContext: recipes-local\n  recipes:namespace: recipes-ci"}.items():
        (root / f"Pulumi.{stack}.yaml").write_text(f"config:\n  {config}\n")
    return root


def deploy(checkout: Path, fake, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(checkout / "scripts" / "deploy"), *args],
        env=fake.env(PYTHON=sys.executable, **env), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=180,
    )


def up_call(fake) -> dict:
    [call] = [call for call in fake.calls("pulumi") if call["argv"][0] == "up"]
    return call


def test_a_missing_tool_stops_before_anything_starts_and_prints_its_fix_once(checkout, fake):
    fake.install("minikube", "kubectl", "docker")
    result = deploy(checkout, fake)
    assert result.returncode == 1
    assert "FAIL  pulumi CLI" in result.stdout
    assert "curl -fsSL https://get.pulumi.com | sh" in result.stdout
    assert result.stdout.rstrip().endswith("Run the fix shown for each, then rerun: make deploy")
    assert result.stderr.strip() == "deploy: stopped before changing anything (see the failed check above)"
    assert (result.stdout + result.stderr).lower().count("run the fix") == 1
    assert fake.argvs("minikube") == [["version", "--short"]]


def test_no_minikube_yet_is_created_with_room_and_a_missing_stack_created(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.state["minikube"].update(exists=False, running=False)
    fake.state["minikube"]["addons"]["ingress"] = "disabled"
    fake.state["pulumi"]["up_outputs"] = {"curlCommand": CURL}
    fake.save()
    result = deploy(checkout, fake)
    assert result.returncode == 0, result.stdout + result.stderr

    minikube = fake.argvs("minikube")
    start = ["start", "-p", "minikube", "--cpus", "4", "--memory", "4096"]
    assert start in minikube
    assert "creating minikube (profile minikube) with 4 CPUs and 4096 MB" in result.stdout
    assert ["addons", "enable", "ingress", "-p", "minikube"] in minikube
    assert minikube.index(start) < minikube.index(["-p", "minikube", "docker-env", "--shell", "bash"])
    pulumi = fake.calls("pulumi")
    assert [call["argv"] for call in pulumi] == [
        ["version"],  # the tools check
        ["version"],  # the full doctor
        ["stack", "select", "dev"],
        ["stack", "init", "dev", "--secrets-provider", "passphrase"],
        ["stack", "output", "--json", "--stack", "dev"],
        ["up", "--stack", "dev", "--message", "make deploy", "--refresh", "--yes", "--non-interactive"],
        ["stack", "output", "curlCommand", "--stack", "dev"],
    ]
    up = pulumi[5]
    assert up["env"]["DOCKER_HOST"] == MINIKUBE_DOCKER_HOST  # images build into minikube's daemon
    assert up["env"]["PULUMI_CONFIG_PASSPHRASE"] == ""
    assert up["cwd"] == str(checkout)
    assert "encryptionsalt" in result.stdout and "Commit it" in result.stdout
    assert f"Deployed. Try it:\n  {CURL}" in result.stdout
    assert "minikube tunnel" not in result.stdout  # Linux routes to the node's IP


def test_a_stopped_minikube_is_started_as_it_was_created(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.state["minikube"].update(running=False)
    fake.add_stack("dev", RECORDED_HISTORY, outputs={"curlCommand": CURL})
    assert deploy(checkout, fake).returncode == 0
    assert ["start", "-p", "minikube"] in fake.argvs("minikube")  # minikube cannot resize an existing cluster


def test_the_size_of_a_new_minikube_can_be_chosen(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.state["minikube"].update(exists=False, running=False)
    fake.add_stack("dev", [], outputs={"curlCommand": CURL})
    assert deploy(checkout, fake, MINIKUBE_CPUS="6", MINIKUBE_MEMORY="8g").returncode == 0
    assert ["start", "-p", "minikube", "--cpus", "6", "--memory", "8g"] in fake.argvs("minikube")


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
    assert ["up", "--stack", "staging", "--message", "make deploy", "--refresh", "--yes",
            "--non-interactive"] in fake.argvs("pulumi")


def test_a_failing_cluster_check_stops_before_pulumi_touches_anything(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.state["kubectl"]["contexts"] = []
    fake.save()
    result = deploy(checkout, fake)
    assert result.returncode == 1
    assert "FAIL  kube context 'minikube'" in result.stdout
    assert "minikube update-context -p minikube" in result.stdout
    assert [argv for argv in fake.argvs("pulumi") if argv[0] != "version"] == []


# ---------------------------------------------------------------- issue 9, item 2: room on the node

def test_a_stack_too_big_for_the_running_node_stops_with_the_fix(checkout, fake):
    fake.install(*ALL_TOOLS)  # a default-sized minikube: 2 CPUs
    fake.add_stack("big", [], outputs={"curlCommand": CURL})
    result = deploy(checkout, fake, "big")
    assert result.returncode == 1
    assert "FAIL  node capacity" in result.stdout and "minikube start --cpus=4 --memory=4g" in result.stdout
    assert [argv for argv in fake.argvs("pulumi") if argv[0] != "version"] == []


def test_the_minikube_the_deploy_creates_fits_the_documented_scale_out(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.state["minikube"].update(exists=False, running=False)
    fake.save()
    fake.add_stack("big", [], outputs={"curlCommand": CURL})
    result = deploy(checkout, fake, "big")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok    node capacity" in result.stdout


# ---------------------------------------------------------------- issue 9, item 3: a recreated cluster

def test_a_recreated_cluster_is_refreshed_and_the_missing_images_rebuilt(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.add_stack("dev", RECORDED_HISTORY, outputs=IMAGES)  # deployed before; the new node's daemon is empty
    result = deploy(checkout, fake)
    assert result.returncode == 0, result.stdout + result.stderr
    assert up_call(fake)["argv"] == [
        "up", "--stack", "dev", "--message", "make deploy", "--refresh",
        "--replace", URN.format(stack="dev", name="web-api-image"),
        "--replace", URN.format(stack="dev", name="recipe-api-image"), "--yes", "--non-interactive"]
    assert f"{WEB_IMAGE} is not in the Docker daemon (a new cluster?): rebuilding it" in result.stderr
    assert ["image", "inspect", "--format", "{{.Id}}", WEB_IMAGE] in fake.argvs("docker")
    assert {call["env"]["DOCKER_HOST"] for call in fake.calls("docker") if call["argv"][0] == "image"} == {
        MINIKUBE_DOCKER_HOST}


def test_images_still_in_the_daemon_are_not_rebuilt(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.state["docker"]["images"]["minikube"] = [WEB_IMAGE]
    fake.save()
    fake.add_stack("dev", RECORDED_HISTORY, outputs=IMAGES)
    assert deploy(checkout, fake).returncode == 0
    assert up_call(fake)["argv"][4:] == ["make deploy", "--refresh",
                                         "--replace", URN.format(stack="dev", name="recipe-api-image"),
                                         "--yes", "--non-interactive"]
    fake.log_file.write_text("")
    assert deploy(checkout, fake).returncode == 0  # the first deploy built recipe-api's image into minikube
    assert up_call(fake)["argv"][4:] == ["make deploy", "--refresh", "--yes", "--non-interactive"]


def test_external_image_builds_run_before_up_and_need_no_replace(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.add_stack("ext", [], outputs=IMAGES)
    result = deploy(checkout, fake, "ext")
    assert result.returncode == 0, result.stdout + result.stderr
    built = Path(f"{fake.log_file}.build").read_text().splitlines()
    assert built == [f"build-images ext DOCKER_HOST={MINIKUBE_DOCKER_HOST}"]
    assert result.stdout.index("scripts/build-images ext") < result.stdout.index("pulumi up --stack ext")
    assert "--replace" not in up_call(fake)["argv"] and "--refresh" in up_call(fake)["argv"]


# ---------------------------------------------------------------- another context; the book's kubectl commands

def test_another_kube_context_is_deployed_without_touching_minikube(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.state["minikube"].update(exists=False, running=False)
    fake.state["kubectl"]["contexts"] = ["recipes-local"]
    fake.save()
    fake.add_stack("local", [], outputs={"curlCommand": CURL})
    result = deploy(checkout, fake, "local")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [argv for argv in fake.argvs("minikube") if argv[0] != "version"] in ([], [["profile", "list", "-o",
                                                                                       "json"]])
    assert up_call(fake)["env"]["DOCKER_HOST"] is None
    assert ["config", "set-context", "recipes-local", "--namespace", "recipes-ci"] in fake.argvs("kubectl")


def test_the_deploy_sets_the_contexts_namespace_for_plain_kubectl(checkout, fake):
    fake.install(*ALL_TOOLS)
    fake.add_stack("dev", [], outputs={"curlCommand": CURL})
    result = deploy(checkout, fake)
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake.load()["kubectl"]["namespaces"] == {"minikube": "recipes"}
    assert "kubectl's context 'minikube' now defaults to the namespace 'recipes'" in result.stdout


def test_the_script_is_executable_and_valid_bash():
    script = REPO / "scripts" / "deploy"
    assert os.access(script, os.X_OK)
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)
