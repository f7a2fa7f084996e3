"""ops.commands.run_bounded: a missing tool or a hang is reported, never raised or waited on."""

from __future__ import annotations

import os
import time

from ops.commands import run_bounded


def test_a_hanging_command_is_stopped_at_its_timeout(tmp_path):
    started = time.monotonic()
    outcome = run_bounded(["sleep", "30"], timeout=0.5)
    assert time.monotonic() - started < 10
    assert outcome.timed_out and not outcome.ok
    assert outcome.describe_failure() == "'sleep 30' did not finish in time"


def test_a_missing_tool_is_reported_by_name(tmp_path):
    outcome = run_bounded(["no-such-tool-here", "--version"], timeout=5, env={"PATH": str(tmp_path)})
    assert outcome.missing and outcome.describe_failure() == "'no-such-tool-here' is not on PATH"


def test_a_failure_shows_the_last_line_of_stderr(tmp_path):
    script = tmp_path / "tool"
    script.write_text("#!/bin/sh\necho first >&2\necho 'error: the real reason' >&2\nexit 3\n")
    script.chmod(0o755)
    outcome = run_bounded([str(script)], timeout=5, env={"PATH": os.environ["PATH"]})
    assert outcome.returncode == 3
    assert outcome.describe_failure() == f"'{script}' exited with 3: error: the real reason"


def test_stdin_is_closed_so_a_prompt_cannot_wait_for_input():
    outcome = run_bounded(["cat"], timeout=5)
    assert outcome.ok and outcome.stdout == ""
