"""Run an external command with a deadline; a missing tool or a hang becomes a value, never an exception or a wait."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CommandOutcome:
    argv: tuple[str, ...]
    returncode: int | None  # None: the tool is missing or timed out
    stdout: str = ""
    stderr: str = ""
    missing: bool = False
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe_failure(self) -> str:
        """One line saying why the command did not succeed, for error messages."""
        command = " ".join(self.argv)
        if self.missing:
            return f"'{self.argv[0]}' is not on PATH"
        if self.timed_out:
            return f"'{command}' did not finish in time"
        detail = (self.stderr.strip() or self.stdout.strip()).splitlines()
        tail = detail[-1] if detail else "no output"
        return f"'{command}' exited with {self.returncode}: {tail}"


def run_bounded(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> CommandOutcome:
    """Run `argv` with stdin closed and output captured, killing it after `timeout` seconds."""
    argv = tuple(argv)
    if shutil.which(argv[0], path=(env or os.environ).get("PATH")) is None:
        return CommandOutcome(argv, None, missing=True)
    try:
        completed = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired as expired:
        return CommandOutcome(argv, None, _text(expired.stdout), _text(expired.stderr), timed_out=True)
    except FileNotFoundError:
        return CommandOutcome(argv, None, missing=True)
    return CommandOutcome(argv, completed.returncode, completed.stdout, completed.stderr)


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value
