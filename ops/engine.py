"""What every command that runs the Pulumi engine (`make deploy`, `make rollback`, `make destroy`) sets up first.

- The Pulumi CLI: PulumiCli.require() names the install command before anything is asked or changed.
- The Docker daemon. pulumi-docker builds the images into the daemon DOCKER_HOST names, and minikube's node runs only
  images in its own daemon. For the `minikube` kube context, `docker_env` therefore points Docker at minikube's
  daemon (what `eval "$(minikube -p minikube docker-env)"` does) when the shell has not, and stops with the fix when
  that is not possible. Other contexts keep the caller's DOCKER_HOST (README: Configuration).
- With `recipes:imageBuilder` = external, `build_images` runs scripts/build-images before the engine.
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from ops import doctor, stack_keys
from ops.commands import run_bounded
from ops.pulumi_cli import PulumiCli

PROJECT_DIR = Path(__file__).resolve().parents[1]
IMAGE_BUILDER = stack_keys.IMAGE_BUILDER
BUILD_IMAGES = PROJECT_DIR / "scripts" / "build-images"
BUILD_TIMEOUT_SECONDS = 30 * 60.0
DOCKER_TIMEOUT_SECONDS = 30.0
_EXPORT = re.compile(r'^export ([A-Z_][A-Z0-9_]*)="(.*)"$')


class EngineSetupError(Exception):
    """The engine cannot run as set up; the message says why and how to fix it."""


def settings_of(stack: str) -> dict[str, str]:
    return stack_keys.stack_file_settings(PROJECT_DIR, stack)


def kube_context(settings: Mapping[str, str]) -> str:
    return settings.get(stack_keys.KUBE_CONTEXT) or doctor.MINIKUBE_CONTEXT


def image_builder(settings: Mapping[str, str]) -> str:
    return (settings.get(IMAGE_BUILDER) or "pulumi").strip().lower()


def image_present(reference: str, env: Mapping[str, str]) -> bool | None:
    """True/False: the daemon has/lacks the image; None: the daemon could not be asked."""
    outcome = run_bounded(["docker", "image", "inspect", "--format", "{{.Id}}", reference],
                          timeout=DOCKER_TIMEOUT_SECONDS, env=env)
    if outcome.ok:
        return True
    if "no such image" in (outcome.stderr + outcome.stdout).lower():
        return False
    return None


def parse_docker_env(text: str) -> dict[str, str]:
    """The variables `minikube docker-env --shell bash` exports."""
    return {match[1]: match[2] for match in map(_EXPORT.match, text.splitlines()) if match}


def docker_env(settings: Mapping[str, str], env: Mapping[str, str], *, profile: str | None = None,
               system: str | None = None) -> tuple[dict[str, str], str]:
    """(the environment to run the engine with, what was done). Raises EngineSetupError with the fix."""
    env = dict(env)
    context = kube_context(settings)
    if context != doctor.MINIKUBE_CONTEXT:
        return env, f"kube context '{context}': images build into the daemon DOCKER_HOST names (as set)"
    profile = profile or env.get("MINIKUBE_PROFILE") or "minikube"
    ctx = doctor.Context(env=env, system=system or platform.system(), profile=profile, settings=settings)
    check = doctor.check_docker_env(ctx)
    if check.ok:
        return env, f"Docker points at minikube's daemon ({check.detail})"
    outcome = run_bounded(["minikube", "-p", profile, "docker-env", "--shell", "bash"],
                          timeout=doctor.MINIKUBE_TIMEOUT, env=env)
    exported = parse_docker_env(outcome.stdout) if outcome.ok else {}
    if not exported.get("DOCKER_HOST"):
        reason = (f"minikube is not installed; install it: {doctor.fix_for(ctx, 'minikube')}" if outcome.missing
                  else f"{outcome.describe_failure()}; start it: minikube start -p {profile}")
        raise EngineSetupError(
            f"the images must be built by minikube's Docker daemon, and {check.detail.split(', so')[0]}; "
            f"'minikube docker-env' cannot point it there: {reason}")
    env.update(exported)
    recheck = doctor.check_docker_env(doctor.Context(env=env, system=ctx.system, profile=profile, settings=settings))
    if not recheck.ok:
        raise EngineSetupError(f"{recheck.detail}; fix: {recheck.fix}")
    return env, f"pointed Docker at minikube's daemon, as {check.fix} does ({recheck.detail})"


def prepare(stack: str, command: str) -> PulumiCli:
    """The one set-up of every engine command: the Pulumi CLI (PulumiError naming its install command), then the
    Docker daemon (EngineSetupError with the fix). Says on stderr what it did with the daemon."""
    cli = PulumiCli(stack)
    cli.require()
    cli.env, note = docker_env(settings_of(stack), cli.env)
    print(f"{command}: {note}", file=sys.stderr)
    return cli


def build_images(stack: str, settings: Mapping[str, str], env: Mapping[str, str]) -> bool:
    """Run scripts/build-images STACK when the stack's images are built outside `pulumi up`; True when it ran."""
    if image_builder(settings) != "external":
        return False
    try:
        completed = subprocess.run([str(BUILD_IMAGES), stack], cwd=PROJECT_DIR, env=dict(env),
                                   timeout=BUILD_TIMEOUT_SECONDS)
    except (FileNotFoundError, PermissionError):
        raise EngineSetupError(f"recipes:imageBuilder is external, but {BUILD_IMAGES} cannot be run") from None
    except subprocess.TimeoutExpired:
        raise EngineSetupError("scripts/build-images did not finish in time and was stopped") from None
    if completed.returncode != 0:
        raise EngineSetupError(f"scripts/build-images {stack} failed with exit code {completed.returncode} "
                               "(its output is above)")
    return True
