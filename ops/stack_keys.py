"""The stack config keys the operations read, and the defaults Pulumi.yaml declares for them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PROJECT = "recipes"
WEB_API_VERSION = "recipes:webApiVersion"
WEB_API_REPLICAS = "recipes:webApiReplicas"
RECIPE_API_VERSION = "recipes:recipeApiVersion"
RECIPE_API_REPLICAS = "recipes:recipeApiReplicas"
RELEASE_KEYS = (WEB_API_VERSION, WEB_API_REPLICAS, RECIPE_API_VERSION, RECIPE_API_REPLICAS)

AUTOSCALE_KEYS = ("recipes:webApiAutoscale", "recipes:recipeApiAutoscale")
NETWORK_POLICIES = "recipes:networkPolicies"
KUBE_CONTEXT = "recipes:kubeContext"
IMAGE_BUILDER = "recipes:imageBuilder"

# Where the stack deploys and what the cluster is like, not what it deploys: a rollback keeps these as they are
# now, because changing them would move (replace) every resource rather than roll it back. How the images get
# built (imageBuilder) is the same kind of setting: the pipeline of today builds whatever revision is restored.
PLACEMENT_KEYS = frozenset({
    "recipes:namespace", KUBE_CONTEXT, "recipes:kubeconfigPath", "recipes:ingressControllerNamespace",
    "recipes:clusterDomain", IMAGE_BUILDER,
})


def is_rollback_key(key: str) -> bool:
    return key.startswith(PROJECT + ":") and key not in PLACEMENT_KEYS


def project_defaults(pulumi_yaml: Path) -> dict[str, str]:
    """{"recipes:<key>": default} from Pulumi.yaml's `config:` schema; empty when the file or YAML is unavailable."""
    document = _read_yaml(pulumi_yaml)
    schema = document.get("config") if isinstance(document, dict) else None
    if not isinstance(schema, dict):
        return {}
    defaults: dict[str, str] = {}
    for name, spec in schema.items():
        key = name if ":" in name else f"{PROJECT}:{name}"
        default = spec.get("default") if isinstance(spec, dict) else spec
        if default is not None and not isinstance(default, (dict, list)):
            defaults[key] = _as_config_text(default)
    return defaults


def stack_file_settings(project_dir: Path, stack: str) -> dict[str, str]:
    """The effective `recipes:*` values of a stack without the CLI: Pulumi.yaml's defaults overlaid with
    Pulumi.<stack>.yaml's values (what `pulumi config set` writes). Empty when YAML is unavailable."""
    settings = project_defaults(project_dir / "Pulumi.yaml")
    document = _read_yaml(project_dir / f"Pulumi.{stack}.yaml")
    values = document.get("config") if isinstance(document, dict) else None
    for key, value in (values or {}).items() if isinstance(values, dict) else ():
        if isinstance(key, str) and value is not None and not isinstance(value, (dict, list)):
            settings[key if ":" in key else f"{PROJECT}:{key}"] = _as_config_text(value)
    return settings


def _read_yaml(path: Path) -> Any:
    """The YAML document at `path`; None when the file, its syntax or PyYAML (the system Python may lack it)
    is missing."""
    try:
        import yaml  # PyYAML comes with the pulumi SDK
    except ImportError:
        return None
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None


def _as_config_text(value: Any) -> str:
    # Config values travel as strings: `pulumi config set recipes:webApiReplicas 3` stores "3".
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
