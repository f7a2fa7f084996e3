"""`make history`: the stack's updates as a compact table (revision, time, result, versions, replicas)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence

from ops import stack_keys
from ops.pulumi_cli import PROJECT_DIR, PulumiCli, PulumiError
from ops.revisions import HistoryFormatError, Revision, effective_value, parse_history

COLUMNS = (
    ("REV", None),
    ("TIME (UTC)", None),
    ("KIND", None),
    ("RESULT", None),
    ("WEB-API", stack_keys.WEB_API_VERSION),
    ("REPLICAS", stack_keys.WEB_API_REPLICAS),
    ("RECIPE-API", stack_keys.RECIPE_API_VERSION),
    ("REPLICAS", stack_keys.RECIPE_API_REPLICAS),
    ("MESSAGE", None),
)
MESSAGE_WIDTH = 40


def load_revisions(cli: PulumiCli) -> list[Revision]:
    """The stack's revisions, oldest first. Raises PulumiError with a clear message on any failure."""
    try:
        return parse_history(cli.history())
    except HistoryFormatError as error:
        raise PulumiError(f"unexpected 'pulumi stack history --json' output: {error}") from None


def render_table(revisions: Sequence[Revision], defaults: Mapping[str, str]) -> str:
    rows = [[header for header, _ in COLUMNS]]
    for revision in revisions:
        message = revision.message.splitlines()[0] if revision.message else ""
        if len(message) > MESSAGE_WIDTH:
            message = message[: MESSAGE_WIDTH - 1] + "…"
        rows.append(
            [
                str(revision.number),
                revision.started(),
                revision.kind,
                revision.result,
                *(effective_value(revision.config, key, defaults) for _, key in COLUMNS[4:8]),
                message,
            ]
        )
    widths = [max(len(row[index]) for row in rows) for index in range(len(COLUMNS))]
    lines = []
    for row in rows:
        cells = [cell.rjust(widths[0]) if index == 0 else cell.ljust(widths[index]) for index, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make history", description=__doc__)
    parser.add_argument("--stack", default="dev", help="the stack to show (default: dev)")
    args = parser.parse_args(argv)
    try:
        revisions = load_revisions(PulumiCli(args.stack))
    except PulumiError as error:
        print(f"history: {error}", file=sys.stderr)
        return 1
    if not revisions:
        print(f"The stack '{args.stack}' has no updates yet; deploy it first: make deploy STACK={args.stack}")
        return 0
    print(render_table(revisions, stack_keys.project_defaults(PROJECT_DIR / "Pulumi.yaml")))
    print("\nValues not set in the stack show Pulumi.yaml's default. Roll back with: make rollback TO=<REV> [YES=1]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
