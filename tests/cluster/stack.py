"""A throwaway stack of the real program, driven through the real `pulumi` CLI (file backend, passphrase secrets)."""

from __future__ import annotations

import json
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cluster.harness import BUILD_IMAGES, REPO, LocalCluster, run

UP_TIMEOUT = 900.0
QUERY_TIMEOUT = 120.0


@dataclass
class ClusterStack:
    cluster: LocalCluster
    state_dir: Path
    name: str = field(default_factory=lambda: f"cluster-{secrets.token_hex(3)}")

    def __post_init__(self) -> None:
        self.namespace = f"recipes-{self.name}"
        self.host = f"{self.name}.recipes.test"
        self.env = {
            **self.cluster.env,
            "PULUMI_BACKEND_URL": self.state_dir.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": "",
            "STACK": self.name,
        }
        self.env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
        self.durations: dict[str, float] = {}

    # ------------------------------------------------------------ the CLI, as a user types it
    def pulumi(self, *args: str, timeout: float = QUERY_TIMEOUT, check: bool = True):
        return run(["pulumi", *args, "--stack", self.name, "--non-interactive"], env=self.env, timeout=timeout,
                   check=check)

    def make(self, *targets: str, timeout: float = UP_TIMEOUT, check: bool = True):
        return run(["make", "--no-print-directory", *targets, f"STACK={self.name}"], env=self.env,
                   timeout=timeout, check=check)

    def create(self, config: dict[str, str]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        run(["pulumi", "stack", "init", self.name, "--secrets-provider", "passphrase", "--non-interactive"],
            env=self.env, timeout=QUERY_TIMEOUT)
        self.set_config(config)

    def set_config(self, config: dict[str, str]) -> None:
        for key, value in config.items():
            self.pulumi("config", "set", f"recipes:{key}", value)

    def config(self) -> dict[str, str]:
        parsed = json.loads(self.pulumi("config", "--json").stdout)
        return {key.split(":", 1)[1]: entry.get("value") for key, entry in parsed.items()}

    def build_images(self) -> list[str]:
        return run([str(BUILD_IMAGES), self.name], env=self.env, timeout=UP_TIMEOUT).stdout.split()

    def up(self, message: str, *, check: bool = True):
        started = time.monotonic()
        done = self.pulumi("up", "--yes", "--skip-preview", "--message", message, timeout=UP_TIMEOUT, check=check)
        self.durations[message] = time.monotonic() - started
        return done

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--json").stdout)

    def destroy(self) -> None:
        self.pulumi("destroy", "--yes", "--skip-preview", timeout=UP_TIMEOUT)

    def remove(self) -> None:
        self.pulumi("stack", "rm", "--yes", "--force", check=False)
        (REPO / f"Pulumi.{self.name}.yaml").unlink(missing_ok=True)
        shutil.rmtree(self.state_dir, ignore_errors=True)

    # ------------------------------------------------------------ the cluster, as kubectl shows it
    def pods(self, app: str) -> list[dict[str, Any]]:
        return self.cluster.get("pods", "-n", self.namespace, "-l", f"app.kubernetes.io/name={app}")["items"]

    def deployment(self, app: str) -> dict[str, Any]:
        return self.cluster.get("deployment", app, "-n", self.namespace)

    def namespace_exists(self) -> bool:
        done = self.cluster.kubectl("get", "namespace", self.namespace, check=False)
        if done.returncode == 0:
            return True
        if "NotFound" in done.stderr:
            return False
        raise AssertionError(done.stderr)

    @property
    def url(self) -> str:
        return f"http://{self.cluster.ingress_address}/"
