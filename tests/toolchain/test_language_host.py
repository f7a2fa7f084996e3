"""The stand-in Python language host (toolchain/language_host.py): over gRPC as the CLI speaks to it, and under the
real `pulumi` CLI running small programs (when scripts/build-pulumi-tools has built the CLI; under CI=true it must)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

REPO = Path(__file__).resolve().parents[2]
HOST = REPO / "toolchain" / "language_host.py"
TOOLS = Path(os.environ.get("RECIPES_CACHE", Path.home() / ".cache" / "recipes")) / "pulumi"


@pytest.fixture
def pulumi_home(tmp_path: Path) -> Path:
    home = tmp_path / "pulumi-home"
    (home / "plugins" / "resource-kubernetes-v4.25.0").mkdir(parents=True)
    return home


@pytest.fixture
def host(pulumi_home: Path) -> Iterator[language_pb2_grpc.LanguageRuntimeStub]:
    process = subprocess.Popen([sys.executable, str(HOST), "-v=9", "--logtostderr", "127.0.0.1:9"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PULUMI_HOME": str(pulumi_home),
                                    "PULUMI_LANGUAGE_HOST_VERSION": "3.274.1"})
    try:
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield language_pb2_grpc.LanguageRuntimeStub(channel)
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def program_info(root: Path, virtualenv: str = ".venv") -> language_pb2.ProgramInfo:
    options = struct_pb2.Struct()
    options.update({"toolchain": "pip", "virtualenv": virtualenv})
    return language_pb2.ProgramInfo(root_directory=str(root), program_directory=str(root), entry_point=".",
                                    options=options)


def test_it_answers_the_handshake_and_names_its_version(host) -> None:
    host.Handshake(language_pb2.LanguageHandshakeRequest(engine_address="127.0.0.1:9", root_directory=str(REPO)))
    assert host.GetPluginInfo(empty_pb2.Empty()).version == "3.274.1"


def test_required_packages_are_the_installed_plugins_and_a_missing_one_is_left_out(host) -> None:
    response = host.GetRequiredPackages(language_pb2.GetRequiredPackagesRequest(info=program_info(REPO)))
    found = {(package.name, package.kind, package.version) for package in response.packages}
    assert ("kubernetes", "resource", "4.25.0") in found  # in the project's venv, and in PULUMI_HOME
    assert not any(name == "docker" for name, _, _ in found)  # in the venv, but its plugin is not installed


def test_a_missing_virtualenv_is_named_with_the_fix(host, tmp_path: Path) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        host.GetRequiredPackages(language_pb2.GetRequiredPackagesRequest(info=program_info(tmp_path, "nowhere")))
    assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "make venv" in failure.value.details()
    run = host.Run(language_pb2.RunRequest(info=program_info(tmp_path, "nowhere"), pwd=str(tmp_path)))
    assert "does not exist" in run.error and not run.bail


# ---------------------------------------------------------------- under the real CLI

def built_cli() -> Path | None:
    found = sorted(TOOLS.glob("v*/bin/pulumi"))
    return found[-1].parent if found and (found[-1].parent / "pulumi-language-python").exists() else None


@pytest.fixture
def cli(tmp_path: Path) -> dict[str, str]:
    bin_dir = built_cli()
    if bin_dir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the Pulumi CLI is not built; run scripts/build-pulumi-tools (.ci/run does)")
        pytest.skip("the Pulumi CLI is not built here; scripts/build-pulumi-tools builds it")
    state = tmp_path / "state"
    state.mkdir()
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PULUMI_BACKEND_URL": state.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": "", "PULUMI_SKIP_UPDATE_CHECK": "true"}


def project(parent: Path, program: str) -> Path:
    root = parent / "project"
    root.mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: probe\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
                                      f"    virtualenv: {REPO / '.venv'}\n")
    (root / "__main__.py").write_text(program)
    return root


def pulumi(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["pulumi", *args, "--non-interactive"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def test_the_cli_runs_a_program_with_its_config_and_outputs(cli, tmp_path: Path) -> None:
    root = project(tmp_path, "import pulumi\npulumi.export('greeting', 'hello ' + pulumi.Config().require('who'))\n")
    assert pulumi(root, cli, "stack", "init", "probe", "--secrets-provider", "passphrase").returncode == 0
    assert pulumi(root, cli, "config", "set", "who", "recipes").returncode == 0
    up = pulumi(root, cli, "up", "--yes", "--skip-preview")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "using pulumi-language-python from $PATH" not in up.stdout  # found beside the CLI, as upstream's is
    output = pulumi(root, cli, "stack", "output", "greeting")
    assert output.stdout.strip() == "hello recipes"


def test_a_program_error_fails_the_update_with_the_programs_message(cli, tmp_path: Path) -> None:
    root = project(tmp_path, "import pulumi\nraise pulumi.RunError('recipes: this config cannot work')\n")
    assert pulumi(root, cli, "stack", "init", "probe", "--secrets-provider", "passphrase").returncode == 0
    up = pulumi(root, cli, "up", "--yes", "--skip-preview")
    assert up.returncode != 0
    assert "recipes: this config cannot work" in up.stdout + up.stderr
    crash = project(tmp_path / "crash", "raise KeyError('boom')\n")
    assert pulumi(crash, cli, "stack", "init", "crash", "--secrets-provider", "passphrase").returncode == 0
    crashed = pulumi(crash, cli, "up", "--yes", "--skip-preview")
    assert crashed.returncode != 0
    assert "Program failed with an unhandled exception" in crashed.stdout + crashed.stderr
    assert "KeyError: 'boom'" in crashed.stdout + crashed.stderr
