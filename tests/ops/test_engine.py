"""ops.engine: the Docker daemon and image builds every engine command sets up first (issue 9, item 7)."""

from __future__ import annotations

import pytest

from ops import engine
from tests.ops.fake_cli import MINIKUBE_DOCKER_HOST

ALL_TOOLS = ("pulumi", "minikube", "kubectl", "docker")


def test_a_shell_without_docker_env_gets_minikubes_daemon(fake):
    fake.install(*ALL_TOOLS)
    env, note = engine.docker_env({}, fake.env())
    assert env["DOCKER_HOST"] == MINIKUBE_DOCKER_HOST and env["DOCKER_TLS_VERIFY"] == "1"
    assert note.startswith("pointed Docker at minikube's daemon")


def test_a_shell_already_pointed_at_minikube_is_kept(fake):
    fake.install(*ALL_TOOLS)
    env, note = engine.docker_env({}, fake.env(DOCKER_HOST=MINIKUBE_DOCKER_HOST))
    assert env["DOCKER_HOST"] == MINIKUBE_DOCKER_HOST and note.startswith("Docker points at minikube's daemon")
    assert fake.argvs("minikube") == []


def test_without_minikube_it_is_an_error_with_the_install_command(fake):
    fake.install("docker")
    with pytest.raises(engine.EngineSetupError, match="minikube is not installed; install it: "):
        engine.docker_env({}, fake.env())


def test_another_context_keeps_the_callers_docker_host(fake):
    fake.install(*ALL_TOOLS)
    env, note = engine.docker_env({"recipes:kubeContext": "recipes-local"}, fake.env(DOCKER_HOST="tcp://ci:2376"))
    assert env["DOCKER_HOST"] == "tcp://ci:2376" and "recipes-local" in note
    assert fake.calls() == []


def test_docker_env_output_is_parsed():
    assert engine.parse_docker_env('export DOCKER_HOST="tcp://1.2.3.4:2376"\n# comment\nexport A_B="x y"\n') == {
        "DOCKER_HOST": "tcp://1.2.3.4:2376", "A_B": "x y"}


def test_external_builds_run_scripts_build_images_and_pulumi_builds_do_not(tmp_path, monkeypatch):
    script = tmp_path / "build-images"
    script.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/called\n")
    script.chmod(0o755)
    monkeypatch.setattr(engine, "BUILD_IMAGES", script)
    assert not engine.build_images("dev", {}, {"PATH": "/usr/bin:/bin"})
    assert not (tmp_path / "called").exists()
    assert engine.build_images("dev", {"recipes:imageBuilder": "external"}, {"PATH": "/usr/bin:/bin"})
    assert (tmp_path / "called").read_text() == "dev\n"
    script.write_text("#!/bin/sh\nexit 3\n")
    with pytest.raises(engine.EngineSetupError, match="scripts/build-images dev failed with exit code 3"):
        engine.build_images("dev", {"recipes:imageBuilder": "external"}, {"PATH": "/usr/bin:/bin"})
