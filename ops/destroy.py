"""`make destroy [YES=1]`: delete everything the stack deployed (`pulumi destroy`), the stack itself stays.

Checks the Pulumi CLI first and names its install command, points Docker at minikube's daemon for the minikube
context (ops.engine, as for every command that runs the engine), and only then asks: `pulumi destroy` shows what
it deletes and asks on a terminal; without one it needs YES=1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ops import engine
from ops.pulumi_cli import PulumiError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make destroy", usage="make destroy [STACK=dev] [YES=1]",
                                     description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="dev", help="the stack to destroy (default: dev)")
    parser.add_argument("--yes", action="store_true", help="destroy without asking (make: YES=1)")
    args = parser.parse_args(argv)
    try:
        cli = engine.prepare(args.stack, "destroy")
        if not args.yes and not sys.stdin.isatty():
            print("destroy: 'pulumi destroy' would ask for confirmation but there is no terminal; nothing was "
                  "deleted. Rerun with YES=1", file=sys.stderr)
            return 1
        cli.destroy(yes=args.yes)
    except (PulumiError, engine.EngineSetupError) as error:
        print(f"destroy: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
