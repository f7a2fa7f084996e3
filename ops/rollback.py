"""`make rollback TO=N [YES=1]`: put revision N's config back and run `pulumi up` (Pulumi's `rollout undo`).

Takes revision N's values of the project's keys (`recipes:*`, except where the stack deploys: namespace and kube
context) from `pulumi stack history --json`, prints what changes, sets them with `pulumi config set` (or removes
the ones N did not set, so Pulumi.yaml's default applies again, as it did at N), then runs `pulumi up`.
It refuses, changing nothing, when N is unknown, did not succeed, is not an update, or holds a secret value.
Before it asks or changes anything it checks the Pulumi CLI and, for the minikube context, points Docker at
minikube's daemon (ops.engine), as `make deploy` does; with recipes:imageBuilder=external it runs
scripts/build-images before `pulumi up`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ops import engine, stack_keys
from ops.history import load_revisions
from ops.pulumi_cli import PROJECT_DIR, PulumiCli, PulumiError
from ops.revisions import Revision


class RollbackRefused(Exception):
    """Rolling back is not possible as asked; nothing was changed."""


@dataclass(frozen=True)
class Change:
    key: str
    current: str | None  # None: not set in the stack (Pulumi.yaml's default applies)
    target: str | None  # None: remove from the stack so that Pulumi.yaml's default applies, as at revision N

    def describe(self, defaults: Mapping[str, str]) -> str:
        return f"{self._show(self.current, defaults)} -> {self._show(self.target, defaults)}"

    def _show(self, value: str | None, defaults: Mapping[str, str]) -> str:
        if value is not None:
            return value
        default = defaults.get(self.key)
        return f"(unset: default {default})" if default is not None else "(unset)"


def find_revision(revisions: Sequence[Revision], number: int, stack: str) -> Revision:
    if not revisions:
        raise RollbackRefused(f"the stack '{stack}' has no history yet, so there is nothing to roll back to")
    by_number = {revision.number: revision for revision in revisions}
    revision = by_number.get(number)
    if revision is None:
        known = ", ".join(str(revision.number) for revision in revisions)
        raise RollbackRefused(f"revision {number} is unknown; the stack '{stack}' has revisions {known} (make history)")
    if revision.kind != "update":
        raise RollbackRefused(f"revision {number} is a '{revision.kind}', not an update; pick an update (make history)")
    if not revision.succeeded:
        good = ", ".join(str(r.number) for r in revisions if r.succeeded and r.kind == "update") or "none"
        raise RollbackRefused(
            f"revision {number} did not succeed (result: {revision.result}); revisions that succeeded: {good}"
        )
    secret = sorted(key for key, entry in revision.config.items() if stack_keys.is_rollback_key(key) and entry.secret)
    if secret:
        raise RollbackRefused(
            f"revision {number} holds secret values ({', '.join(secret)}); history does not show them, so they "
            "cannot be restored: set them by hand with 'pulumi config set --secret' and run 'pulumi up'"
        )
    structured = sorted(key for key, entry in revision.config.items()
                        if stack_keys.is_rollback_key(key) and entry.structured)
    if structured:
        raise RollbackRefused(f"revision {number} holds structured values ({', '.join(structured)}); set them by hand")
    return revision


def plan_changes(
    revision: Revision, current_config: Mapping[str, Mapping[str, Any]], defaults: Mapping[str, str]
) -> list[Change]:
    """The config changes that make the stack's config what it was at `revision`, in key order."""
    current = {
        key: ("[secret]" if entry.get("secret") else _text(entry.get("value")))
        for key, entry in current_config.items()
        if stack_keys.is_rollback_key(key)
    }
    target = {key: entry.value for key, entry in revision.config.items() if stack_keys.is_rollback_key(key)}
    changes = []
    for key in sorted(set(current) | set(target)):
        now, then = current.get(key), target.get(key)
        if then is None and now is not None and now == defaults.get(key):
            continue  # the CLI listed the default itself; unsetting it changes nothing
        if now is None and then is not None and then == defaults.get(key):
            continue  # N recorded the default itself (the CLI may record defaults); leaving it unset gives it too
        if now != then:
            changes.append(Change(key, now, then))
    return changes


def rollback(cli: PulumiCli, number: int, *, yes: bool, interactive: bool, out=sys.stdout) -> None:
    if not yes and not interactive:
        raise RollbackRefused("'pulumi up' would ask for confirmation but there is no terminal; rerun with YES=1")
    revision = find_revision(load_revisions(cli), number, cli.stack)
    defaults = stack_keys.project_defaults(PROJECT_DIR / "Pulumi.yaml")
    changes = plan_changes(revision, cli.config(), defaults)
    summary = f" ({revision.message.splitlines()[0]})" if revision.message else ""
    print(f"Rolling back stack '{cli.stack}' to revision {number}, {revision.started()} UTC{summary}", file=out)
    if not changes:
        print("  the config already matches that revision; 'pulumi up' converges the cluster to it", file=out)
    width = max((len(change.key) for change in changes), default=0)
    for change in changes:
        print(f"  {change.key.ljust(width)}  {change.describe(defaults)}", file=out)
    out.flush()
    for change in changes:
        if change.target is None:
            cli.config_rm(change.key)
        else:
            cli.config_set(change.key, change.target)
    try:
        engine.build_images(cli.stack, engine.settings_of(cli.stack), cli.env)
        cli.up(yes=yes, message=f"rollback to revision {number}")
    except (PulumiError, engine.EngineSetupError) as error:
        if changes:
            raise PulumiError(
                f"{error}\nthe stack config now holds revision {number}'s values; fix the cause and run "
                f"'pulumi up --stack {cli.stack}', or roll back to another revision"
            ) from None
        raise


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


USAGE = "make rollback TO=<revision> [YES=1]   (see 'make history')"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make rollback", usage=USAGE, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="dev", help="the stack to roll back (default: dev)")
    parser.add_argument("--yes", action="store_true", help="run 'pulumi up' without asking (make: YES=1)")
    parser.add_argument("revision", help="the revision to return to, as 'make history' shows it")
    args = parser.parse_args(argv)
    if not args.revision.isdigit():
        print(f"usage: {USAGE}\nrollback: TO must be a revision number, not {args.revision!r}", file=sys.stderr)
        return 2
    try:
        cli = engine.prepare(args.stack, "rollback")  # the tools first: nothing is asked before they are in place
        rollback(cli, int(args.revision), yes=args.yes, interactive=sys.stdin.isatty())
    except RollbackRefused as refusal:
        print(f"rollback refused, nothing changed: {refusal}", file=sys.stderr)
        return 1
    except (PulumiError, engine.EngineSetupError) as error:
        print(f"rollback: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
