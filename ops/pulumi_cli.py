"""The few Pulumi CLI calls the operations need, each bounded in time and failing with one clear message.

Runs in the project directory, so the CLI finds Pulumi.yaml and its `file://~` backend. Passphrase: the stacks use
the passphrase secrets provider; when the caller has set neither PULUMI_CONFIG_PASSPHRASE nor
PULUMI_CONFIG_PASSPHRASE_FILE, the empty passphrase is used, the same default as the Makefile and scripts/deploy.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ops.commands import run_bounded
from ops.doctor import install_fix

PROJECT_DIR = Path(__file__).resolve().parents[1]
INSTALL_FIX = install_fix("pulumi", platform.system())
HISTORY_PAGE_SIZE = 100  # the CLI returns only 10 updates unless asked for more
QUERY_TIMEOUT_SECONDS = 120.0
UP_TIMEOUT_SECONDS = 45 * 60.0


class PulumiError(Exception):
    """A Pulumi CLI call failed; the message says what failed and how to fix it."""


class PulumiCli:
    def __init__(
        self,
        stack: str,
        *,
        cwd: Path = PROJECT_DIR,
        env: Mapping[str, str] | None = None,
        query_timeout: float = QUERY_TIMEOUT_SECONDS,
    ) -> None:
        self.stack = stack
        self.cwd = cwd
        self.env = _cli_env(os.environ if env is None else env)
        self.query_timeout = query_timeout

    def require(self) -> str:
        """The CLI's version; raises PulumiError naming the install command when the CLI is missing. Every command
        that runs pulumi calls this first, before it asks or changes anything."""
        return self._query("version").strip()

    def outputs(self) -> dict[str, Any]:
        """Every stack output (`pulumi stack output --json`); empty for a stack never deployed."""
        parsed = _parse_json(self._query("stack", "output", "--json", "--stack", self.stack),
                             "pulumi stack output --json")
        return parsed if isinstance(parsed, dict) else {}

    def history(self) -> list[dict[str, Any]]:
        """Every update of the stack, newest first, as `pulumi stack history --json` prints them."""
        updates: list[dict[str, Any]] = []
        seen: set[Any] = set()
        page = 1
        while True:
            output = self._query(
                "stack", "history", "--json", "--stack", self.stack,
                "--page-size", str(HISTORY_PAGE_SIZE), "--page", str(page),
            )
            batch = _parse_json(output, "pulumi stack history --json") or []
            if not isinstance(batch, list):
                raise PulumiError(f"'pulumi stack history --json' printed {type(batch).__name__}, not a list")
            versions = [_identity_of(update) for update in batch]
            if batch and all(version in seen for version in versions):
                return updates  # the same updates again: the backend ignores paging, and we have them all
            updates.extend(batch)
            seen.update(versions)
            if len(batch) < HISTORY_PAGE_SIZE:
                return updates
            page += 1

    def config(self) -> dict[str, dict[str, Any]]:
        """The stack's config as `pulumi config --json` prints it: {"ns:key": {"value", "secret"}}."""
        parsed = _parse_json(self._query("config", "--json", "--stack", self.stack), "pulumi config --json")
        if not isinstance(parsed, dict):
            raise PulumiError(f"'pulumi config --json' printed {type(parsed).__name__}, not an object")
        return parsed

    def config_set(self, key: str, value: str) -> None:
        self._query("config", "set", "--stack", self.stack, key, value)

    def config_rm(self, key: str) -> None:
        self._query("config", "rm", "--stack", self.stack, key)

    def output(self, name: str) -> str:
        """One stack output, as plain text."""
        return self._query("stack", "output", name, "--stack", self.stack).strip()

    def up(self, *, yes: bool, message: str, timeout: float = UP_TIMEOUT_SECONDS) -> None:
        """Run `pulumi up` attached to this terminal (its preview, its prompt unless `yes`)."""
        self._attached("up", ["--message", message], yes=yes, timeout=timeout)

    def destroy(self, *, yes: bool, timeout: float = UP_TIMEOUT_SECONDS) -> None:
        """Run `pulumi destroy` attached to this terminal (its preview, its prompt unless `yes`)."""
        self._attached("destroy", [], yes=yes, timeout=timeout)

    def _attached(self, command: str, args: list[str], *, yes: bool, timeout: float) -> None:
        argv = ["pulumi", command, "--stack", self.stack, *args]
        if yes:
            argv.append("--yes")
        try:
            completed = subprocess.run(argv, cwd=self.cwd, env=self.env, timeout=timeout)
        except FileNotFoundError:
            raise PulumiError(f"the Pulumi CLI is not on PATH; install it: {INSTALL_FIX}") from None
        except subprocess.TimeoutExpired:
            raise PulumiError(f"'pulumi {command}' did not finish in {timeout / 60:.0f} minutes and was stopped"
                              ) from None
        if completed.returncode != 0:
            raise PulumiError(f"'pulumi {command}' failed with exit code {completed.returncode} (its output is above)")

    def _query(self, *args: str) -> str:
        argv = ("pulumi", *args)
        outcome = run_bounded(argv, timeout=self.query_timeout, env=self.env, cwd=self.cwd)
        if outcome.missing:
            raise PulumiError(f"the Pulumi CLI is not on PATH; install it: {INSTALL_FIX}")
        if outcome.timed_out:
            raise PulumiError(f"'{' '.join(argv)}' did not finish in {self.query_timeout:.0f}s and was stopped")
        if not outcome.ok:
            raise PulumiError(_explain_failure(outcome.describe_failure(), outcome.stderr, self.stack))
        return outcome.stdout


def _cli_env(base: Mapping[str, str]) -> dict[str, str]:
    env = dict(base)
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    if "PULUMI_CONFIG_PASSPHRASE" not in env and "PULUMI_CONFIG_PASSPHRASE_FILE" not in env:
        env["PULUMI_CONFIG_PASSPHRASE"] = ""
    return env


def _identity_of(update: Any) -> Any:
    # The version alone is not enough: the DIY backends leave it at 0 for every update.
    return (update.get("version"), update.get("startTime")) if isinstance(update, dict) else repr(update)


def _parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except json.JSONDecodeError as error:
        raise PulumiError(f"'{what}' printed something that is not JSON ({error}): {text[:200]!r}") from None


def _explain_failure(summary: str, stderr: str, stack: str) -> str:
    lowered = stderr.lower()
    if "no stack named" in lowered or "stack not found" in lowered:
        return (f"{summary}\nthe stack '{stack}' does not exist in this backend; "
                f"create it with: make deploy STACK={stack}")
    if "passphrase" in lowered:
        return (
            f"{summary}\nthe stack's passphrase does not match; set the one it was created with: "
            "export PULUMI_CONFIG_PASSPHRASE=...   (or PULUMI_CONFIG_PASSPHRASE_FILE=path)"
        )
    return summary
