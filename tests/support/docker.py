"""Drive a real Docker Engine through the `docker` CLI: build images, run containers, inspect and clean up.

Every call is bounded by a timeout and raises `DockerError` carrying docker's own output. Containers and networks
made here carry the label `LABEL` (value: the test session id), so anything a killed run left behind can be found
with `docker ps -a --filter label=org.recipes.test-session` and removed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

LABEL = "org.recipes.test-session"
DEFAULT_BASE_IMAGE = "python:3.12-slim"
START_DOCKER_HINT = (
    "start Docker (e.g. 'sudo systemctl start docker'), or run 'scripts/start-dockerd' as root; "
    "the CI entry point .ci/run does this"
)


class DockerError(RuntimeError):
    pass


def docker(*args: str, timeout: float = 60.0, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `docker ARGS...` and return the finished process (stdout and stderr captured as text)."""
    command = ["docker", *args]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as error:
        raise DockerError(f"'{' '.join(command)}' did not finish within {timeout:.0f}s") from error
    except FileNotFoundError as error:
        raise DockerError("the docker CLI is not installed; install it (e.g. 'apt-get install -y docker.io')") from error
    if check and result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip())[-3000:]
        raise DockerError(f"'{' '.join(command)}' exited {result.returncode}:\n{output}")
    return result


def engine_problem() -> str | None:
    """None when a Docker daemon answers; otherwise what is wrong and how to fix it."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed (install it, e.g. 'apt-get install -y docker.io'), then " + START_DOCKER_HINT
    try:
        result = docker("info", "--format", "{{.ServerVersion}}", timeout=20, check=False)
    except DockerError as error:
        return f"no Docker daemon answers ({error}); {START_DOCKER_HINT}"
    if result.returncode != 0 or not result.stdout.strip():
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
        return f"no Docker daemon answers ({detail[-1] if detail else 'docker info failed'}); {START_DOCKER_HINT}"
    return None


def base_image() -> str:
    """The base both service images build on in tests: RECIPES_BASE_IMAGE, else the Dockerfiles' default."""
    return os.environ.get("RECIPES_BASE_IMAGE", "").strip() or DEFAULT_BASE_IMAGE


def image_exists(reference: str) -> bool:
    return docker("image", "inspect", reference, check=False).returncode == 0


def build_image(context: Path, tag: str, *, build_args: Mapping[str, str], dockerfile: Path | None = None,
                timeout: float = 240.0) -> None:
    """`docker build` `context` as `tag`, with `dockerfile` (default: the one in `context`). A failure names the base
    image when that is the cause."""
    args = [arg for name, value in build_args.items() for arg in ("--build-arg", f"{name}={value}")]
    if dockerfile is not None:
        args += ["--file", str(dockerfile)]
    try:
        docker("build", "--quiet", *args, "--tag", tag, str(context), timeout=timeout)
    except DockerError as error:
        base = build_args.get("BASE_IMAGE")
        if base and not image_exists(base):
            raise DockerError(
                f"building {dockerfile or context} failed and its base image '{base}' is not available locally (no "
                f"registry answered?). Build a local base and point the tests at it: "
                f"export RECIPES_BASE_IMAGE=\"$(scripts/build-local-base)\"\n{error}"
            ) from error
        raise


def inspect_image(reference: str) -> dict[str, Any]:
    return json.loads(docker("image", "inspect", reference).stdout)[0]


def remove_image_tag(tag: str) -> None:
    """Remove the tag (and its image when nothing else uses it) but keep the parent layers: the build cache."""
    docker("image", "rm", "--no-prune", tag, check=False)


def remove_image(tag: str) -> None:
    """Remove the tag and every untagged parent layer that no other image uses: for throwaway variants."""
    docker("image", "rm", tag, check=False)


def create_network(name: str, session: str) -> None:
    docker("network", "create", "--label", f"{LABEL}={session}", name)


def remove_network(name: str) -> None:
    docker("network", "rm", name, check=False)


# What Kubernetes' restricted pod security profile enforces, in docker terms.
HARDENED = ("--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges")


@dataclass
class Container:
    name: str

    def inspect(self) -> dict[str, Any]:
        return json.loads(docker("container", "inspect", self.name).stdout)[0]

    def published_port(self, container_port: int) -> int:
        """The host port that `container_port/tcp` is published on (127.0.0.1)."""
        output = docker("port", self.name, f"{container_port}/tcp").stdout.split()
        if not output:
            raise DockerError(f"{self.name}: port {container_port}/tcp is not published")
        return int(output[0].rsplit(":", 1)[1])

    def exec(self, *command: str, user: str | None = None, timeout: float = 30.0) -> str:
        user_args = ("--user", user) if user else ()
        return docker("exec", *user_args, self.name, *command, timeout=timeout).stdout

    def logs(self) -> str:
        """Everything the container wrote, stdout then stderr."""
        result = docker("logs", self.name, check=False)
        return result.stdout + result.stderr

    def stdout(self) -> str:
        return docker("logs", self.name).stdout

    def changes(self) -> list[str]:
        """`docker diff`: the paths this container added (A), changed (C) or deleted (D) in its image's filesystem."""
        return docker("diff", self.name).stdout.splitlines()

    def stop(self, *, grace_seconds: int = 10) -> tuple[float, int]:
        """`docker stop` (SIGTERM, then SIGKILL after `grace_seconds`). Returns (seconds taken, exit code)."""
        started = time.monotonic()
        docker("stop", "-t", str(grace_seconds), self.name, timeout=grace_seconds + 30)
        elapsed = time.monotonic() - started
        return elapsed, int(self.inspect()["State"]["ExitCode"])

    def describe(self) -> str:
        """State and the last log lines: what a failing test should print."""
        try:
            state = self.inspect()["State"]
            summary = f"status={state['Status']} exit={state['ExitCode']} oom={state['OOMKilled']}"
        except DockerError as error:
            summary = f"(inspect failed: {error})"
        return f"container {self.name} {summary}; last log lines:\n" + "\n".join(self.logs().splitlines()[-20:])


@dataclass
class ContainerSet:
    """Runs containers for one test session or test and removes every one of them at `remove_all()`."""

    session: str
    prefix: str
    containers: list[Container] = field(default_factory=list)

    def run(
        self,
        image: str,
        role: str,
        *,
        env: Mapping[str, str] | None = None,
        network: str | None = None,
        alias: str | None = None,
        publish: int | None = None,
        hardened: bool = True,
        extra: Sequence[str] = (),
    ) -> Container:
        """`docker run -d` the image's own command. `publish` maps that container port to a random 127.0.0.1 port."""
        name = f"{self.prefix}-{role}-{uuid.uuid4().hex[:6]}"
        args = ["run", "--detach", "--name", name, "--label", f"{LABEL}={self.session}"]
        if hardened:
            args += HARDENED
        if network:
            args += ["--network", network]
        if alias:
            args += ["--network-alias", alias]
        if publish is not None:
            args += ["--publish", f"127.0.0.1::{publish}"]
        for key, value in (env or {}).items():
            args += ["--env", f"{key}={value}"]
        container = Container(name)
        # Registered before it exists: a `docker run` that fails half-way may still leave a created container.
        self.containers.append(container)
        docker(*args, *extra, image, timeout=60)
        return container

    def remove_all(self) -> None:
        while self.containers:
            container = self.containers.pop()
            docker("rm", "--force", "--volumes", container.name, check=False, timeout=60)


def new_session_id() -> str:
    """Unique per test run, so concurrent runs on one engine never share a tag, container or network name."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
