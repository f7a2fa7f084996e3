"""What scripts/deploy prints after `pulumi up`: the curl line, and the `minikube tunnel` hint where it is needed."""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
from collections.abc import Sequence

from ops.doctor import Context, minikube_profile_config
from ops.pulumi_cli import PulumiCli, PulumiError

# Drivers whose node IP the host cannot route to on macOS: the ingress is reached through `minikube tunnel`.
TUNNELLED_DRIVERS = frozenset({"docker", "podman"})


def needs_tunnel(system: str, driver: str | None) -> bool:
    return system == "Darwin" and (driver or "") in TUNNELLED_DRIVERS


def through_tunnel(curl_command: str) -> str:
    """The same curl line aimed at 127.0.0.1, where `minikube tunnel` exposes the ingress."""
    return re.sub(r"http://[^/\s\"']+", "http://127.0.0.1", curl_command, count=1)


def summary(curl_command: str, *, system: str, driver: str | None) -> str:
    lines = ["Deployed. Try it:", f"  {curl_command}"]
    if needs_tunnel(system, driver):
        lines += [
            f"minikube's {driver} driver on macOS does not route to the cluster's IP. In another terminal run",
            "  minikube tunnel",
            "(it asks for your password and must keep running), then:",
            f"  {through_tunnel(curl_command)}",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/deploy (summary)", description=__doc__)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--profile", default="minikube")
    args = parser.parse_args(argv)
    try:
        curl_command = PulumiCli(args.stack).output("curlCommand")
    except PulumiError as error:
        print(f"deploy: cannot read the stack output 'curlCommand': {error}", file=sys.stderr)
        return 1
    config = minikube_profile_config(Context(env=os.environ, system=platform.system(), profile=args.profile))
    driver = str(config.get("Driver") or "") if config else None
    print(summary(curl_command, system=platform.system(), driver=driver))
    return 0


if __name__ == "__main__":
    sys.exit(main())
