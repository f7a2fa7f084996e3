"""`make rollback TO=N` (python -m ops.rollback) against the stand-in `pulumi`: the exact calls, and the refusals."""

from __future__ import annotations

import copy

import pytest

from ops.revisions import parse_history
from ops.rollback import Change, plan_changes
from tests.ops.fake_cli import MINIKUBE_DOCKER_HOST
from tests.ops.fakes import RECORDED_HISTORY, run_python_module
from tests.ops.test_history import table_rows

HISTORY_CALL = ["stack", "history", "--json", "--stack", "dev", "--page-size", "100", "--page", "1"]
ALL_TOOLS = ("pulumi", "minikube", "kubectl", "docker")


@pytest.fixture
def dev(fake):
    """The dev stack on a laptop with minikube running, in a shell without docker-env."""
    fake.install(*ALL_TOOLS).add_stack("dev", RECORDED_HISTORY)
    return fake


def test_rollback_sets_revision_ns_values_then_runs_up(dev):
    result = run_python_module(dev, "ops.rollback", "--stack", "dev", "--yes", "1")
    assert result.returncode == 0, result.stderr
    assert dev.argvs("pulumi") == [
        ["version"],
        HISTORY_CALL,
        ["config", "--json", "--stack", "dev"],
        ["config", "set", "--stack", "dev", "recipes:recipeApiReplicas", "5"],
        ["config", "rm", "--stack", "dev", "recipes:registryPassword"],
        ["config", "rm", "--stack", "dev", "recipes:webApiAutoscale"],
        ["config", "set", "--stack", "dev", "recipes:webApiVersion", "v1"],
        ["up", "--stack", "dev", "--message", "rollback to revision 1", "--yes"],
    ]
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["recipes:webApiVersion", "v2", "->", "v1"] in lines
    assert ["recipes:recipeApiReplicas", "10", "->", "5"] in lines
    assert ["recipes:registryPassword", "[secret]", "->", "(unset)"] in lines
    assert "Rolling back stack 'dev' to revision 1, 2026-11-24 09:00:05 UTC (make deploy)" in result.stdout


def test_after_a_rollback_the_stack_config_is_revision_ns_and_history_shows_the_new_update(dev):
    assert run_python_module(dev, "ops.rollback", "--stack", "dev", "--yes", "1").returncode == 0
    config = dev.load()["pulumi"]["stacks"]["dev"]["config"]
    first = RECORDED_HISTORY[-1]["config"]
    assert {key: entry["value"] for key, entry in config.items()} == {
        key: entry["value"] for key, entry in first.items()}
    rows = table_rows(run_python_module(dev, "ops.history", "--stack", "dev").stdout)
    assert rows["7"][2:] == ["update", "succeeded", "v1", "3", "v1", "5", "rollback to revision 1"]


def test_rolling_back_to_the_revision_already_in_place_changes_no_config_and_converges(dev):
    assert run_python_module(dev, "ops.rollback", "--stack", "dev", "--yes", "1").returncode == 0
    before = len(dev.calls("pulumi"))
    result = run_python_module(dev, "ops.rollback", "--stack", "dev", "--yes", "7")
    assert result.returncode == 0, result.stderr
    assert "already matches" in result.stdout
    assert [argv[:2] for argv in dev.argvs("pulumi")[before:]] == [["version"], ["stack", "history"],
                                                                   ["config", "--json"], ["up", "--stack"]]


def test_placement_keys_stay_as_they_are(dev):
    dev.state["pulumi"]["stacks"]["dev"]["config"]["recipes:namespace"] = {"value": "recipes-b", "secret": False}
    dev.save()
    assert run_python_module(dev, "ops.rollback", "--stack", "dev", "--yes", "2").returncode == 0
    assert not any("recipes:namespace" in argv for argv in dev.argvs("pulumi"))
    assert dev.load()["pulumi"]["stacks"]["dev"]["config"]["recipes:namespace"]["value"] == "recipes-b"


@pytest.mark.parametrize(
    ("revision", "reason"),
    [
        ("9", "revision 9 is unknown; the stack 'dev' has revisions 1, 2, 3, 4, 5, 6"),
        ("4", "revision 4 did not succeed (result: failed); revisions that succeeded: 1, 2, 3, 6"),
        ("5", "revision 5 is a 'refresh', not an update"),
        ("6", "revision 6 holds secret values (recipes:registryPassword)"),
    ],
)
def test_refusals_name_the_reason_and_change_nothing(dev, revision, reason):
    state_before = copy.deepcopy(dev.state)
    result = run_python_module(dev, "ops.rollback", "--stack", "dev", "--yes", revision)
    assert result.returncode == 1
    assert "rollback refused, nothing changed:" in result.stderr
    assert reason in result.stderr
    assert dev.argvs("pulumi") == [["version"], HISTORY_CALL]
    assert dev.load() == state_before


def test_a_stack_without_history_is_refused(fake):
    fake.install(*ALL_TOOLS).add_stack("dev", [])
    result = run_python_module(fake, "ops.rollback", "--stack", "dev", "--yes", "1")
    assert result.returncode == 1
    assert "the stack 'dev' has no history yet" in result.stderr
    assert fake.argvs("pulumi") == [["version"], HISTORY_CALL]


def test_without_yes_and_without_a_terminal_nothing_is_asked_or_changed(dev):
    result = run_python_module(dev, "ops.rollback", "--stack", "dev", "1")
    assert result.returncode == 1
    assert "rerun with YES=1" in result.stderr
    assert dev.argvs("pulumi") == [["version"]]


def test_a_missing_cli_is_named_before_the_confirmation(fake):
    # issue 10 item 2: the tools first, then YES=1.
    fake.install("minikube", "docker")
    result = run_python_module(fake, "ops.rollback", "--stack", "dev", "1")
    assert result.returncode == 1
    assert "the Pulumi CLI is not on PATH; install it:" in result.stderr
    assert "YES=1" not in result.stderr


def test_a_revision_that_is_not_a_number_gets_the_makefiles_usage(dev):
    result = run_python_module(dev, "ops.rollback", "--stack", "dev", "abc")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: make rollback TO=<revision> [YES=1]")
    assert "TO must be a revision number, not 'abc'" in result.stderr
    assert dev.calls() == []


def test_the_engine_runs_with_docker_pointed_at_minikube(dev):
    # issue 9 item 7: a shell without docker-env gets it, as make deploy does.
    assert run_python_module(dev, "ops.rollback", "--stack", "dev", "--yes", "2").returncode == 0
    [up] = [call for call in dev.calls("pulumi") if call["argv"][0] == "up"]
    assert up["env"]["DOCKER_HOST"] == MINIKUBE_DOCKER_HOST
    assert ["-p", "minikube", "docker-env", "--shell", "bash"] in dev.argvs("minikube")


def test_without_a_running_minikube_nothing_is_changed_and_the_fix_named(dev):
    dev.state["minikube"]["running"] = False
    dev.save()
    state_before = copy.deepcopy(dev.state)
    result = run_python_module(dev, "ops.rollback", "--stack", "dev", "--yes", "2")
    assert result.returncode == 1
    assert "the images must be built by minikube's Docker daemon" in result.stderr
    assert "start it: minikube start -p minikube" in result.stderr
    assert dev.argvs("pulumi") == [["version"]]
    assert dev.load()["pulumi"] == state_before["pulumi"]


def test_a_failed_up_says_the_config_now_holds_revision_ns_values(dev):
    dev.state["pulumi"]["up_result"] = "failed"
    dev.save()
    result = run_python_module(dev, "ops.rollback", "--stack", "dev", "--yes", "2")
    assert result.returncode == 1
    assert "'pulumi up' failed with exit code 255" in result.stderr
    assert "the stack config now holds revision 2's values" in result.stderr


def test_a_missing_cli_is_reported_with_the_install_command(fake):
    result = run_python_module(fake, "ops.rollback", "--stack", "dev", "--yes", "1")
    assert result.returncode == 1
    assert "curl -fsSL https://get.pulumi.com | sh" in result.stderr


def test_a_default_the_cli_lists_is_not_unset_for_nothing():
    [revision] = parse_history([{"version": 1, "kind": "update", "startTime": "", "message": "", "result":
                                 "succeeded", "config": {"recipes:webApiVersion": {"value": "v1", "secret": False}}}])
    current = {"recipes:webApiVersion": {"value": "v2", "secret": False},
               "recipes:webApiReplicas": {"value": "3", "secret": False},
               "recipes:recipeApiReplicas": {"value": "7", "secret": False}}
    defaults = {"recipes:webApiReplicas": "3", "recipes:recipeApiReplicas": "5"}
    assert plan_changes(revision, current, defaults) == [
        Change("recipes:recipeApiReplicas", "7", None),
        Change("recipes:webApiVersion", "v2", "v1"),
    ]
    assert Change("recipes:recipeApiReplicas", "7", None).describe(defaults) == "7 -> (unset: default 5)"


def test_a_default_recorded_in_history_is_not_pinned_into_the_stack():
    # Whether or not the CLI records Pulumi.yaml's defaults in an update's config, a default must not be pinned.
    [revision] = parse_history([{"version": 1, "kind": "update", "startTime": "", "message": "", "result":
                                 "succeeded", "config": {"recipes:webApiCpuLimit": {"value": "500m", "secret": False},
                                                         "recipes:webApiReplicas": {"value": "3", "secret": False},
                                                         "recipes:webApiVersion": {"value": "v1", "secret": False}}}])
    current = {"recipes:webApiVersion": {"value": "v2", "secret": False}}
    defaults = {"recipes:webApiCpuLimit": "500m", "recipes:webApiReplicas": "5"}
    assert plan_changes(revision, current, defaults) == [
        Change("recipes:webApiReplicas", None, "3"),  # not the default now: set explicitly
        Change("recipes:webApiVersion", "v2", "v1"),
    ]
