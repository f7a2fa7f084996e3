"""Stack config: defaults, Pulumi.yaml's schema, the dev stack, and every kind of bad value."""

from __future__ import annotations

import dataclasses

import pulumi
import pytest
import yaml

from stack.settings import DEFAULTS, MAX_REPLICAS, ConfigError, Settings, parse_settings
from tests.stack.mocked import ROOT, dev_stack_config, evaluate

PROJECT_FILE = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
DEV_STACK_FILE = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
SCHEMA_TYPES = {"string": str, "integer": int, "boolean": bool}


def test_defaults_are_the_issues_values() -> None:
    settings = parse_settings({})
    assert (settings.web_api.version, settings.web_api.replicas) == ("v1", 3)
    assert (settings.recipe_api.version, settings.recipe_api.replicas) == ("v1", 5)
    assert settings.ingress_host == "example.org"
    assert settings.namespace == "recipes"
    assert settings.kube_context == "minikube"
    assert settings.kubeconfig_path == ""
    assert settings.network_policies is True
    assert settings.ingress_controller_namespace == "ingress-nginx"
    assert settings.web_api.autoscaling is None and settings.recipe_api.autoscaling is None
    assert settings.base_image is None
    assert settings.image_builder == "pulumi"
    assert (settings.web_api.resources.cpu_request, settings.web_api.resources.memory_request) == ("25m", "32Mi")


def test_the_image_builder_is_pulumi_or_external() -> None:
    assert parse_settings({"imageBuilder": "external"}).image_builder == "external"
    with pytest.raises(ConfigError) as refusal:
        parse_settings({"imageBuilder": "kaniko"})
    assert "recipes:imageBuilder = 'kaniko': must be pulumi or external" in str(refusal.value)


def test_values_are_parsed_into_their_types() -> None:
    settings = parse_settings({
        "webApiVersion": "1.4.0", "webApiReplicas": "0", "recipeApiVersion": "V2_rc.1",
        "recipeApiReplicas": str(MAX_REPLICAS), "ingressHost": "shop-1.example.com", "namespace": "shop",
        "rolloutTimeoutSeconds": "30", "networkPolicies": "false", "recipeApiAutoscale": "true",
        "recipeApiAutoscaleMin": "3", "recipeApiAutoscaleMax": "12", "recipeApiAutoscaleCpuPercent": "150",
        "webApiCpuRequest": "0.25", "webApiCpuLimit": "1", "webApiMemoryRequest": "100M",
        "webApiMemoryLimit": "1Gi", "baseImage": "registry.local:5000/team/python:3.12-slim",
    })
    assert settings.web_api.version == "1.4.0" and settings.web_api.replicas == 0
    assert settings.recipe_api.version == "V2_rc.1" and settings.recipe_api.replicas == MAX_REPLICAS
    assert settings.ingress_host == "shop-1.example.com" and settings.namespace == "shop"
    assert settings.rollout_timeout_seconds == 30 and settings.network_policies is False
    autoscaling = settings.recipe_api.autoscaling
    assert autoscaling is not None
    assert (autoscaling.min_replicas, autoscaling.max_replicas, autoscaling.cpu_percent) == (3, 12, 150)
    assert settings.recipe_api.fewest_replicas == 3
    assert settings.web_api.resources.cpu_request == "0.25" and settings.web_api.resources.memory_limit == "1Gi"
    assert settings.base_image == "registry.local:5000/team/python:3.12-slim"


def test_kubeconfig_path_is_kept_as_a_path(tmp_path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    assert parse_settings({"kubeconfigPath": str(kubeconfig)}).kubeconfig_path == str(kubeconfig)


def test_settings_are_frozen() -> None:
    settings = parse_settings({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.namespace = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.web_api.replicas = 9  # type: ignore[misc]


BAD_VALUES = [
    ("webApiReplicas", "five", "an integer from 0 to 100"),
    ("webApiReplicas", "-1", "an integer from 0 to 100"),
    ("recipeApiReplicas", "101", "an integer from 0 to 100"),
    ("recipeApiReplicas", "3.5", "an integer from 0 to 100"),
    ("recipeApiReplicas", "", "an integer from 0 to 100"),
    ("webApiVersion", "v 2", "a Docker tag"),
    ("webApiVersion", "-v2", "a Docker tag"),
    ("webApiVersion", "v2.", "a Docker tag"),
    ("webApiVersion", "v2/beta", "a Docker tag"),
    ("recipeApiVersion", "v" * 64, "a Docker tag"),
    ("recipeApiVersion", "", "a Docker tag"),
    ("ingressHost", "Example.org", "an RFC 1123 DNS name"),
    ("ingressHost", "exa_mple.org", "an RFC 1123 DNS name"),
    ("ingressHost", "-example.org", "an RFC 1123 DNS name"),
    ("ingressHost", "example.org.", "an RFC 1123 DNS name"),
    ("ingressHost", "a" * 64 + ".org", "an RFC 1123 DNS name"),
    ("ingressHost", "192.168.49.2", "not an IP address"),
    ("ingressHost", "", "an RFC 1123 DNS name"),
    ("namespace", "Recipes", "an RFC 1123 label"),
    ("namespace", "my.recipes", "an RFC 1123 label"),
    ("namespace", "r" * 64, "an RFC 1123 label"),
    ("kubeContext", "", "the name of a context"),
    ("kubeContext", " minikube", "the name of a context"),
    ("kubeconfigPath", "/nonexistent/kubeconfig", "an existing kubeconfig file"),
    ("kubeconfigPath", "apiVersion: v1\nclusters: []\n", "never the file's contents"),
    ("rolloutTimeoutSeconds", "10", "a number of seconds from 30 to 1800"),
    ("rolloutTimeoutSeconds", "5m", "a number of seconds from 30 to 1800"),
    ("networkPolicies", "yes", "true or false"),
    ("webApiAutoscale", "on", "true or false"),
    ("webApiAutoscaleMin", "0", "an integer from 1 to 100"),
    ("recipeApiAutoscaleMax", "1000", "an integer from 1 to 100"),
    ("recipeApiAutoscaleCpuPercent", "0", "a percentage of the CPU request from 1 to 500"),
    ("webApiCpuRequest", "100x", "a CPU quantity"),
    ("webApiCpuLimit", "lots", "a CPU quantity"),
    ("recipeApiMemoryRequest", "64MB", "a memory quantity"),
    ("recipeApiMemoryLimit", "-1Gi", "a memory quantity"),
    ("ingressControllerNamespace", "Ingress_Nginx", "an RFC 1123 label"),
    ("clusterDomain", "cluster_local", "an RFC 1123 DNS name"),
    ("baseImage", "Python:3.12", "a Docker image reference"),
    ("baseImage", "python:3.12 slim", "a Docker image reference"),
]


@pytest.mark.parametrize(("key", "value", "allowed"), BAD_VALUES, ids=[f"{k}={v[:20]!r}" for k, v, _ in BAD_VALUES])
def test_a_bad_value_is_reported_with_its_key_value_and_what_is_allowed(key: str, value: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings({key: value})
    assert len(raised.value.problems) == 1, raised.value.problems
    (problem,) = raised.value.problems
    assert problem.startswith(f"recipes:{key} = {value!r}: must be ")
    assert allowed in problem
    assert problem in str(raised.value)


@pytest.mark.parametrize(("settings", "bad"), [
    ({"webApiCpuRequest": "600m", "webApiCpuLimit": "0.5"}, "recipes:webApiCpuRequest = '600m': must not exceed"),
    ({"recipeApiMemoryRequest": "1Gi", "recipeApiMemoryLimit": "512Mi"},
     "recipes:recipeApiMemoryRequest = '1Gi': must not exceed"),
    ({"webApiAutoscale": "true", "webApiAutoscaleMin": "8", "webApiAutoscaleMax": "4"},
     "recipes:webApiAutoscaleMin = '8': must not exceed recipes:webApiAutoscaleMax = '4'"),
])
def test_inconsistent_pairs_are_reported(settings: dict[str, str], bad: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings(settings)
    assert [problem for problem in raised.value.problems if problem.startswith(bad)], raised.value.problems


def test_every_bad_key_is_reported_together_in_one_message() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings({"webApiReplicas": "five", "recipeApiVersion": "bad tag", "ingressHost": "Bad_Host",
                        "namespace": "NS"})
    message = str(raised.value)
    assert len(raised.value.problems) == 4
    assert message.startswith("invalid stack configuration (4 problems):")
    for key, value in [("webApiReplicas", "five"), ("recipeApiVersion", "bad tag"), ("ingressHost", "Bad_Host"),
                       ("namespace", "NS")]:
        assert f"recipes:{key} = {value!r}" in message
    assert "pulumi config set" in message


def test_the_error_is_a_run_error_so_pulumi_prints_it_without_a_traceback() -> None:
    with pytest.raises(pulumi.RunError):
        parse_settings({"webApiReplicas": "five"})


def test_an_unknown_key_is_reported_with_the_closest_known_one() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings({"webApiReplica": "10"})
    (problem,) = raised.value.problems
    assert "recipes:webApiReplica is not a setting" in problem
    assert "did you mean recipes:webApiReplicas?" in problem


def test_the_program_stops_on_bad_config_before_declaring_anything() -> None:
    with pytest.raises(ConfigError) as raised:
        evaluate({"recipeApiReplicas": "ten", "webApiVersion": "v2!"})
    assert len(raised.value.problems) == 2


def test_the_program_reports_a_misspelled_key_it_was_given() -> None:
    # Through the SDK's in-process config map, as unit-test mocks and inline Automation API programs fill it.
    with pytest.raises(ConfigError, match="recipes:webApiReplica is not a setting"):
        evaluate({"webApiReplica": "4"})


# Pulumi.yaml: the schema `pulumi up` validates against, and the defaults the CLI hands the program.

# The attributes `pulumi` accepts at the top of a project file, and in a Python runtime's options.
PROJECT_ATTRIBUTES = {"name", "runtime", "description", "config", "main", "stackConfigDir", "backend", "options",
                      "template", "plugins", "packages"}
PYTHON_RUNTIME_OPTIONS = {"toolchain", "virtualenv", "typechecker"}


def test_project_file_names_the_project_runtime_and_local_backend() -> None:
    assert set(PROJECT_FILE) <= PROJECT_ATTRIBUTES
    assert set(PROJECT_FILE["runtime"]["options"]) <= PYTHON_RUNTIME_OPTIONS
    assert PROJECT_FILE["name"] == "recipes"
    assert PROJECT_FILE["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    assert PROJECT_FILE["backend"] == {"url": "file://~"}


def test_project_config_schema_declares_every_key_with_type_description_and_default() -> None:
    schema = PROJECT_FILE["config"]
    assert set(schema) == set(DEFAULTS)
    for key, declaration in schema.items():
        # Written without the namespace, as the project's own keys (Pulumi's project.go accepts `recipes:key`
        # too; only keys of another namespace may not declare a type or a default).
        assert ":" not in key
        assert set(declaration) == {"type", "default", "description"}, key
        assert declaration["type"] in SCHEMA_TYPES, key
        assert isinstance(declaration["default"], SCHEMA_TYPES[declaration["type"]]), key
        assert declaration["description"].strip(), key


def test_project_defaults_agree_with_the_programs_defaults() -> None:
    for key, declaration in PROJECT_FILE["config"].items():
        default = declaration["default"]
        as_config_string = ("true" if default else "false") if isinstance(default, bool) else str(default)
        assert as_config_string == DEFAULTS[key], key


def test_project_defaults_parse_to_the_same_settings_as_no_config() -> None:
    from_project_file = {key: str(declaration["default"]).lower() if isinstance(declaration["default"], bool)
                         else str(declaration["default"]) for key, declaration in PROJECT_FILE["config"].items()}
    assert parse_settings(from_project_file) == parse_settings({})


def test_dev_stack_targets_minikube_with_valid_known_keys() -> None:
    assert set(DEV_STACK_FILE) == {"config"}  # no encryptionsalt: `pulumi stack init` adds it
    assert all(key.startswith("recipes:") for key in DEV_STACK_FILE["config"])
    raw = dev_stack_config()
    assert raw["kubeContext"] == "minikube"
    settings = parse_settings(raw)
    assert isinstance(settings, Settings)
    assert (settings.web_api.replicas, settings.recipe_api.replicas) == (3, 5)
    assert settings.ingress_host == "example.org"


def test_config_is_read_the_way_the_pulumi_cli_hands_it_over(monkeypatch) -> None:
    import json

    from stack.settings import load_settings, read_stack_config

    # The language host passes the stack's config as JSON in PULUMI_CONFIG (other namespaces included).
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({
        "recipes:webApiReplicas": "4", "recipes:recipeApiVersion": "v9", "kubernetes:context": "elsewhere",
    }))
    pulumi.runtime.set_all_config({})
    assert read_stack_config() == {"webApiReplicas": "4", "recipeApiVersion": "v9"}
    settings = load_settings()
    assert (settings.web_api.replicas, settings.recipe_api.version, settings.kube_context) == (4, "v9", "minikube")

    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"recipes:webApiReplica": "4"}))
    with pytest.raises(ConfigError, match="recipes:webApiReplica is not a setting"):
        load_settings()


def test_a_changed_private_sdk_config_map_costs_only_typo_detection(monkeypatch) -> None:
    """If a future SDK renames the private map the program lists keys from, known keys still load (through the
    public pulumi.Config) and nothing raises; only unknown keys go unnoticed."""
    import pulumi.config as public_config
    import pulumi.runtime.config as runtime_config

    from stack.settings import load_settings, read_stack_config

    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    renamed = runtime_config.CONFIG
    token = renamed.set({"recipes:webApiReplicas": "4", "recipes:webApiReplica": "9"})
    try:
        monkeypatch.delattr(runtime_config, "CONFIG")
        monkeypatch.setattr(public_config, "get_config", lambda key: renamed.get().get(key))
        assert read_stack_config() == {"webApiReplicas": "4"}
        assert load_settings().web_api.replicas == 4
        monkeypatch.setattr(runtime_config, "CONFIG", object(), raising=False)  # present but not a ContextVar
        assert read_stack_config() == {"webApiReplicas": "4"}
    finally:
        renamed.reset(token)
