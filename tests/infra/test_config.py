"""Typed stack config: every stack file parses, bad values are refused naming the key."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from campus_infra.capture import StackFileError, stack_config
from campus_infra.config import RESERVED_DB_CONNECTIONS, ConfigError, parse_stack_config

from tests.infra.conftest import REPO_ROOT, STACKS


def _getter(flat: dict[str, str]):
    return lambda key: flat.get(f"campus-platform:{key}")


def _parse(stack: str = "prod", **overrides: Any):
    items = [f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in overrides.items()]
    return parse_stack_config(_getter(stack_config(stack, items)))


def test_there_are_dev_staging_prod_and_a_second_site():
    assert {"dev", "staging", "prod", "site-b"} <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_file_parses_into_typed_config(stack: str):
    config = _parse(stack)
    assert config.profile == "normal"
    assert config.database.instances >= 3
    assert config.loadgen.enabled is False


def test_stack_sizes_differ_where_the_load_differs():
    dev, staging, prod = (_parse(s) for s in ("dev", "staging", "prod"))
    assert dev.app.max_replicas < staging.app.max_replicas < prod.app.max_replicas
    assert dev.app.min_replicas == 1 and prod.app.min_replicas > 1


def test_second_site_uses_its_own_kubeconfig_context():
    document = yaml.safe_load((REPO_ROOT / "Pulumi.site-b.yaml").read_text())
    assert document["config"]["kubernetes:context"] == "campus-site-b"
    assert _parse("site-b").site != _parse("prod").site


def test_surge_profile_prescales_app_and_database_without_the_load_generator():
    normal, surged = _parse("prod"), _parse("prod", **{"campus-platform:profile": "surge"})
    assert (surged.app.min_replicas, surged.app.max_replicas) == (20, 40)
    assert surged.database.max_connections == 800 > normal.database.max_connections
    assert not surged.loadgen.enabled and not normal.loadgen.enabled


def test_a_surge_rehearsal_turns_the_load_generator_on_at_the_surge_size():
    rehearsal = _parse(
        "prod",
        **{
            "campus-platform:profile": "surge",
            "campus-platform:loadgen.enabled": True,
            "campus-platform:loadgen.scenario": "furlough_surge",
        },
    )
    assert rehearsal.loadgen.enabled and rehearsal.loadgen.workers == 40
    assert rehearsal.loadgen.scenario == "furlough_surge"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("campus-platform:app.image", "registry.example.org/campus/app:latest", "latest"),
        ("campus-platform:app.image", "registry.example.org/campus/app", "pinned"),
        ("campus-platform:app.hpa.minReplicas", "zero", "app.hpa.minReplicas"),
        ("campus-platform:app.hpa.maxReplicas", 1, "app.hpa.maxReplicas"),
        ("campus-platform:app.resources.memoryLimit", "lots", "app.resources.memoryLimit"),
        ("campus-platform:app.workers", 2.5, "app.workers"),
        ("campus-platform:app.colour", "blue", "campus-platform:app.colour is not a known"),
        ("campus-platform:database.instances", 1, "database.instances"),
        ("campus-platform:database.backup.destinationPath", "/backups", "s3://"),
        ("campus-platform:database.backup.schedule", "daily", "database.backup.schedule"),
        ("campus-platform:database.maxConnections", 100, "database.maxConnections (100)"),
        ("campus-platform:profile", "panic", "campus-platform:profile"),
        ("campus-platform:gitops.path", "../elsewhere", "gitops.path"),
        ("campus-platform:security.kubernetesVersion", "latest", "kubernetesVersion"),
        ("campus-platform:surge.maxConnections", 100, "surge.maxConnections"),
        ("campus-platform:loadgen.scenario", "black_friday", "loadgen.scenario"),
        ("campus-platform:network.controlPlaneCidrs", ["0.0.0.0/0"], "not the whole Internet"),
        ("campus-platform:network.objectStorageCidrs", ["s3.example.org"], "objectStorageCidrs"),
        ("campus-platform:network.gitCidrs", [], "network.gitCidrs"),
        ("campus-platform:network.nodeCidrs", ["10.30.0.1/22"], "network.nodeCidrs"),
    ],
)
def test_invalid_values_are_refused_naming_the_key(key: str, value: Any, message: str):
    overrides = {key: value}
    if key == "campus-platform:surge.maxConnections":
        overrides["campus-platform:profile"] = "surge"
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _parse("prod", **overrides)


def test_missing_required_section_is_named():
    flat = stack_config("dev")
    del flat["campus-platform:database"]
    with pytest.raises(ConfigError, match="campus-platform:database is required"):
        parse_stack_config(_getter(flat))


def test_connection_budget_counts_every_worker_thread_at_full_scale():
    config = _parse("prod")
    app = config.app
    assert config.database.max_connections >= (
        app.max_replicas * app.workers * app.threads + RESERVED_DB_CONNECTIONS
    )


def test_unknown_stack_and_malformed_stack_file_are_refused(tmp_path: Path, monkeypatch):
    with pytest.raises(StackFileError, match=r"Pulumi\.nowhere\.yaml does not exist"):
        stack_config("nowhere")
    from campus_infra import paths

    (tmp_path / "Pulumi.broken.yaml").write_text("config: [1, 2]\n")
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)
    with pytest.raises(StackFileError, match="top-level 'config' mapping"):
        stack_config("broken")


def test_a_misspelt_top_level_key_is_refused():
    flat = stack_config("dev")
    flat["campus-platform:databse"] = "{}"
    with pytest.raises(ConfigError, match="campus-platform:databse is not a known setting"):
        parse_stack_config(_getter(flat), flat.keys())
    # Other namespaces (kubernetes:context of the second site) are not ours to judge.
    flat = stack_config("site-b")
    assert parse_stack_config(_getter(flat), flat.keys()).site == "site-b"
