"""Stack configuration, read once and validated before any resource is declared.

`parse_settings` is pure: it takes the raw `recipes:*` values (strings, as `pulumi config set` stores them, keys without
the `recipes:` prefix) and returns a frozen `Settings`, or raises `ConfigError` listing every bad key at once.
`load_settings` is the only place in the program that reads Pulumi config.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import pulumi

PROJECT = "recipes"
MAX_REPLICAS = 100
MIN_ROLLOUT_TIMEOUT_SECONDS = 30
MAX_ROLLOUT_TIMEOUT_SECONDS = 1800
MAX_CPU_PERCENT = 500

# Every key with its default, as a string exactly as `pulumi config set KEY VALUE` would store it.
# Pulumi.yaml's `config:` schema declares the same keys and defaults (a test holds the two together).
# Both services share every default but their replica count.
_PER_SERVICE_DEFAULTS: dict[str, str] = {
    "Version": "v1",
    # Sized from what the services use (bench/chain: 18-42 µs of CPU per request, about 25 MiB resident each), so
    # the documented scale-out (13 pods, plus a surge pod per rollout) fits a default 2-CPU minikube node.
    "CpuRequest": "25m",
    "CpuLimit": "500m",
    "MemoryRequest": "32Mi",
    "MemoryLimit": "128Mi",
    "Autoscale": "false",
    "AutoscaleMin": "2",
    "AutoscaleMax": "10",
    "AutoscaleCpuPercent": "70",
}
SERVICE_DEFAULTS: dict[str, dict[str, str]] = {
    "webApi": {**_PER_SERVICE_DEFAULTS, "Replicas": "3"},
    "recipeApi": {**_PER_SERVICE_DEFAULTS, "Replicas": "5"},
}
GLOBAL_DEFAULTS: dict[str, str] = {
    "ingressHost": "example.org",
    "namespace": "recipes",
    "kubeContext": "minikube",
    "kubeconfigPath": "",
    "rolloutTimeoutSeconds": "180",
    "networkPolicies": "true",
    "ingressControllerNamespace": "ingress-nginx",
    "clusterDomain": "cluster.local",
    "baseImage": "",
    "imageBuilder": "pulumi",
}
DEFAULTS: dict[str, str] = {
    **GLOBAL_DEFAULTS,
    **{prefix + suffix: value for prefix, keys in SERVICE_DEFAULTS.items() for suffix, value in keys.items()},
}
SERVICE_NAMES = {"webApi": "web-api", "recipeApi": "recipe-api"}
IMAGE_BUILDER_PULUMI = "pulumi"  # pulumi-docker builds the images during `pulumi up`
IMAGE_BUILDER_EXTERNAL = "external"  # they are built beforehand (scripts/build-images) under the same references
IMAGE_BUILDERS = (IMAGE_BUILDER_PULUMI, IMAGE_BUILDER_EXTERNAL)


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str


@dataclass(frozen=True)
class Autoscaling:
    min_replicas: int
    max_replicas: int
    cpu_percent: int


@dataclass(frozen=True)
class ServiceSettings:
    name: str
    version: str
    replicas: int
    resources: Resources
    autoscaling: Autoscaling | None

    @property
    def fewest_replicas(self) -> int:
        """The fewest pods the Deployment runs: the HPA's floor when autoscaled, else the fixed count."""
        return self.autoscaling.min_replicas if self.autoscaling else self.replicas


@dataclass(frozen=True)
class Settings:
    web_api: ServiceSettings
    recipe_api: ServiceSettings
    ingress_host: str
    namespace: str
    kube_context: str
    kubeconfig_path: str  # empty: the provider resolves the kubeconfig with client-go's rules ($KUBECONFIG, ~/.kube)
    rollout_timeout_seconds: int
    network_policies: bool
    ingress_controller_namespace: str
    cluster_domain: str
    base_image: str | None
    image_builder: str


class ConfigError(pulumi.RunError):
    """Bad stack configuration. A RunError, so `pulumi up` prints the message without a traceback."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(
            f"invalid stack configuration ({len(self.problems)} problem{'s' if len(self.problems) > 1 else ''}):\n"
            f"{lines}\n"
            f"Fix each with `pulumi config set <key> <value>` (or `pulumi config rm <key>` for the default)."
        )


# A Docker tag that is also a Kubernetes label value (the version goes into app.kubernetes.io/version).
_VERSION = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_CPU = re.compile(r"^(?:[0-9]+m|[0-9]+(?:\.[0-9]{1,3})?)$")
_MEMORY = re.compile(r"^([0-9]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_MEMORY_UNITS = {None: 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                 "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = re.compile(
    rf"^(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)

_VERSION_RULE = ("a Docker tag that is also a Kubernetes label value: 1-63 letters, digits, '.', '_' or '-', "
                 "starting and ending with a letter or digit (e.g. v2, 1.4.0)")
_DNS_NAME_RULE = ("an RFC 1123 DNS name: lowercase dot-separated labels of 1-63 letters, digits or '-', "
                  "not starting or ending with '-', 253 characters at most (e.g. example.org)")
_DNS_LABEL_RULE = "an RFC 1123 label: 1-63 lowercase letters, digits or '-', not starting or ending with '-'"


def _is_dns_name(value: str) -> bool:
    return 0 < len(value) <= 253 and all(_DNS_LABEL.match(label) for label in value.split("."))


def _is_host(value: str) -> bool:
    # An Ingress host must be a name: Kubernetes rejects an IP address there.
    return _is_dns_name(value) and not all(label.isdigit() for label in value.split("."))


def _cpu_millicores(value: str) -> float:
    return float(value[:-1]) if value.endswith("m") else float(value) * 1000


def _memory_bytes(value: str) -> int:
    match = _MEMORY.match(value)
    assert match is not None
    return int(match.group(1)) * _MEMORY_UNITS[match.group(2)]


class _Reader:
    """Reads typed values out of the raw mapping, collecting a problem per bad key instead of stopping."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.problems: list[str] = []

    def _value(self, key: str) -> str:
        value = self.raw.get(key)
        return DEFAULTS[key] if value is None else str(value)

    def _bad(self, key: str, value: str, allowed: str) -> None:
        self.problems.append(f"{PROJECT}:{key} = {value!r}: must be {allowed}")

    def text(self, key: str, valid: Callable[[str], bool], allowed: str) -> str:
        value = self._value(key)
        if not valid(value):
            self._bad(key, value, allowed)
        return value

    def integer(self, key: str, low: int, high: int, what: str = "an integer") -> int:
        value = self._value(key)
        if _INTEGER.match(value) and low <= int(value) <= high:
            return int(value)
        self._bad(key, value, f"{what} from {low} to {high}")
        return low

    def boolean(self, key: str) -> bool:
        value = self._value(key)
        if value in ("true", "false"):
            return value == "true"
        self._bad(key, value, "true or false")
        return False

    def optional_text(self, key: str, valid: Callable[[str], bool], allowed: str) -> str | None:
        value = self._value(key)
        if value and not valid(value):
            self._bad(key, value, allowed)
        return value or None


def _service(reader: _Reader, prefix: str) -> ServiceSettings:
    version = reader.text(prefix + "Version", lambda v: bool(_VERSION.match(v)), _VERSION_RULE)
    replicas = reader.integer(prefix + "Replicas", 0, MAX_REPLICAS)
    cpu_request = reader.text(prefix + "CpuRequest", lambda v: bool(_CPU.match(v)),
                              "a CPU quantity such as 100m or 0.5")
    cpu_limit = reader.text(prefix + "CpuLimit", lambda v: bool(_CPU.match(v)), "a CPU quantity such as 500m or 1")
    memory_request = reader.text(prefix + "MemoryRequest", lambda v: bool(_MEMORY.match(v)),
                                 "a memory quantity such as 64Mi or 1Gi")
    memory_limit = reader.text(prefix + "MemoryLimit", lambda v: bool(_MEMORY.match(v)),
                               "a memory quantity such as 128Mi or 1Gi")
    if _CPU.match(cpu_request) and _CPU.match(cpu_limit) and _cpu_millicores(cpu_request) > _cpu_millicores(cpu_limit):
        reader.problems.append(f"{PROJECT}:{prefix}CpuRequest = {cpu_request!r}: must not exceed "
                               f"{PROJECT}:{prefix}CpuLimit = {cpu_limit!r}")
    if (_MEMORY.match(memory_request) and _MEMORY.match(memory_limit)
            and _memory_bytes(memory_request) > _memory_bytes(memory_limit)):
        reader.problems.append(f"{PROJECT}:{prefix}MemoryRequest = {memory_request!r}: must not exceed "
                               f"{PROJECT}:{prefix}MemoryLimit = {memory_limit!r}")

    autoscale = reader.boolean(prefix + "Autoscale")
    min_replicas = reader.integer(prefix + "AutoscaleMin", 1, MAX_REPLICAS)
    max_replicas = reader.integer(prefix + "AutoscaleMax", 1, MAX_REPLICAS)
    cpu_percent = reader.integer(prefix + "AutoscaleCpuPercent", 1, MAX_CPU_PERCENT, "a percentage of the CPU request")
    if autoscale and min_replicas > max_replicas:
        reader.problems.append(f"{PROJECT}:{prefix}AutoscaleMin = '{min_replicas}': must not exceed "
                               f"{PROJECT}:{prefix}AutoscaleMax = '{max_replicas}'")
    return ServiceSettings(
        name=SERVICE_NAMES[prefix],
        version=version,
        replicas=replicas,
        resources=Resources(cpu_request, cpu_limit, memory_request, memory_limit),
        autoscaling=Autoscaling(min_replicas, max_replicas, cpu_percent) if autoscale else None,
    )


def _unknown_keys(raw: Mapping[str, Any]) -> list[str]:
    problems = []
    for key in sorted(set(raw) - set(DEFAULTS)):
        close = difflib.get_close_matches(key, DEFAULTS, n=1)
        hint = f"did you mean {PROJECT}:{close[0]}?" if close else f"known keys: {', '.join(sorted(DEFAULTS))}"
        problems.append(f"{PROJECT}:{key} is not a setting of this program ({hint}); "
                        f"remove it with `pulumi config rm {key}`")
    return problems


def parse_settings(raw: Mapping[str, Any]) -> Settings:
    """Validate every key of `raw` (unset keys take their defaults); raise ConfigError naming all bad ones."""
    reader = _Reader(raw)
    reader.problems.extend(_unknown_keys(raw))
    web_api = _service(reader, "webApi")
    recipe_api = _service(reader, "recipeApi")
    ingress_host = reader.text("ingressHost", _is_host, _DNS_NAME_RULE + ", not an IP address")
    namespace = reader.text("namespace", lambda v: bool(_DNS_LABEL.match(v)), _DNS_LABEL_RULE)
    kube_context = reader.text("kubeContext", lambda v: bool(v.strip()) and v == v.strip(),
                               "the name of a context in your kubeconfig (`kubectl config get-contexts`)")
    kubeconfig_path = reader.optional_text(
        "kubeconfigPath", lambda v: os.path.isfile(os.path.expanduser(v)),
        "the path of an existing kubeconfig file, or empty for $KUBECONFIG / ~/.kube/config "
        "(a path, never the file's contents)")
    rollout_timeout = reader.integer("rolloutTimeoutSeconds", MIN_ROLLOUT_TIMEOUT_SECONDS,
                                     MAX_ROLLOUT_TIMEOUT_SECONDS, "a number of seconds")
    network_policies = reader.boolean("networkPolicies")
    ingress_controller_namespace = reader.text("ingressControllerNamespace", lambda v: bool(_DNS_LABEL.match(v)),
                                               _DNS_LABEL_RULE)
    cluster_domain = reader.text("clusterDomain", _is_dns_name, _DNS_NAME_RULE.replace("example.org", "cluster.local"))
    base_image = reader.optional_text("baseImage", lambda v: bool(_IMAGE_REFERENCE.match(v)),
                                      "a Docker image reference such as python:3.12-slim, or empty for the "
                                      "Dockerfiles' default")
    image_builder = reader.text("imageBuilder", lambda v: v in IMAGE_BUILDERS,
                                " or ".join(IMAGE_BUILDERS) + " (external: build with scripts/build-images first)")
    if reader.problems:
        raise ConfigError(reader.problems)
    return Settings(
        web_api=web_api,
        recipe_api=recipe_api,
        ingress_host=ingress_host,
        namespace=namespace,
        kube_context=kube_context,
        kubeconfig_path=os.path.expanduser(kubeconfig_path) if kubeconfig_path else "",
        rollout_timeout_seconds=rollout_timeout,
        network_policies=network_policies,
        ingress_controller_namespace=ingress_controller_namespace,
        cluster_domain=cluster_domain,
        base_image=base_image,
        image_builder=image_builder,
    )


def read_stack_config() -> dict[str, str]:
    """Every `recipes:*` key the stack sets, without the prefix (unknown ones too, so typos get reported).

    Known keys are read through the public `pulumi.Config`. Unknown keys can only be found by listing what the
    language host handed over; if that listing ever fails (a future SDK), typo detection is lost, never `pulumi up`.
    """
    prefix = f"{PROJECT}:"
    config = pulumi.Config(PROJECT)
    raw: dict[str, str] = {}
    for full_key in sorted(_every_config_key()):
        if full_key.startswith(prefix) and full_key[len(prefix):] not in DEFAULTS:
            value = config.get(full_key[len(prefix):])
            if value is not None:
                raw[full_key[len(prefix):]] = value
    for key in DEFAULTS:
        value = config.get(key)
        if value is not None:
            raw[key] = value
    return raw


def _every_config_key() -> set[str]:
    """The config keys the program was given: the `PULUMI_CONFIG` JSON the CLI's language host sets (public API),
    plus the SDK's in-process map, which unit-test mocks and inline Automation API programs fill. That map is
    private (pulumi.runtime.config.CONFIG, a ContextVar of a dict on pulumi 3.x): any surprise there yields no keys."""
    keys: set[str] = set()
    try:
        keys.update(key for key in pulumi.runtime.get_config_env() if isinstance(key, str))
    except Exception:  # noqa: BLE001 - malformed PULUMI_CONFIG: the SDK reports it itself on the first read
        pass
    try:
        from pulumi.runtime.config import CONFIG

        explicit = CONFIG.get()
        if isinstance(explicit, Mapping):
            keys.update(key for key in explicit if isinstance(key, str))
    except Exception:  # noqa: BLE001 - a private SDK detail changed: degrade to the known keys
        pass
    return keys


def load_settings() -> Settings:
    return parse_settings(read_stack_config())
