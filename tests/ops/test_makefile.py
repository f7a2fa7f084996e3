"""The Makefile's engine targets with stand-in CLIs: each checks its tools first and names the fix (issue 10 items 1,
2, 5, 6; issue 9 item 7). make runs for real, with the venv step marked as done (-o) and this interpreter as PY."""

from __future__ import annotations

import subprocess
import sys

from ops import doctor
from tests.ops.fake_cli import MINIKUBE_DOCKER_HOST
from tests.ops.fakes import REPO

ALL_TOOLS = ("pulumi", "minikube", "kubectl", "docker")


def make(fake, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", f"PY={sys.executable}", *args],
        cwd=REPO, env=fake.env(**env), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )


def test_destroy_without_the_pulumi_cli_names_the_install_command(fake):
    fake.install("minikube", "docker")
    result = make(fake, "destroy")
    assert result.returncode != 0
    assert "command not found" not in result.stderr
    assert f"destroy: the Pulumi CLI is not on PATH; install it: {doctor.install_fix('pulumi', 'Linux')}" in \
        result.stderr


def test_destroy_points_docker_at_minikube_and_asks_for_yes_without_a_terminal(fake):
    fake.install(*ALL_TOOLS).add_stack("dev", [], outputs={"curlCommand": "curl"})
    refused = make(fake, "destroy")
    assert refused.returncode != 0 and "Rerun with YES=1" in refused.stderr
    assert [argv for argv in fake.argvs("pulumi") if argv[0] == "destroy"] == []
    result = make(fake, "destroy", "YES=1")
    assert result.returncode == 0, result.stderr
    [destroy] = [call for call in fake.calls("pulumi") if call["argv"][0] == "destroy"]
    assert destroy["argv"] == ["destroy", "--stack", "dev", "--yes"]
    assert destroy["env"]["DOCKER_HOST"] == MINIKUBE_DOCKER_HOST


def test_rollback_with_a_revision_that_is_not_a_number_prints_the_makefiles_usage(fake):
    result = make(fake, "rollback", "TO=abc")
    assert result.returncode != 0
    assert result.stderr.startswith("usage: make rollback TO=<revision> [YES=1]   (see 'make history')")
    assert fake.calls() == []


def test_rollback_without_the_cli_and_without_a_terminal_names_the_cli_first(fake):
    result = make(fake, "rollback", "TO=1")
    assert result.returncode != 0
    assert "the Pulumi CLI is not on PATH" in result.stderr and "YES=1" not in result.stderr


def test_e2e_run_on_purpose_fails_with_the_reason_when_it_cannot_run(fake):
    result = make(fake, "e2e")
    assert result.returncode != 0
    assert "make e2e: cannot run: e2e needs: the Pulumi CLI" in result.stderr
    assert "pytest" not in result.stdout  # the suite itself did not start


def test_bench_runs_every_benchmark_in_bench():
    listed = subprocess.run(["make", "-n", "-o", ".venv/.installed", "bench"], cwd=REPO, capture_output=True,
                            text=True, timeout=60).stdout.split()
    assert [word for word in listed if word.startswith("bench/")] == ["bench/program", "bench/chain", "bench/images"]
