"""Checks of the rendered platform against the pinned upstream sources vendored in
infra/schemas/ (SOURCES.yaml): custom resources against their CRD's schema, Helm values
against the chart's values.schema.json (merged over its defaults, as Helm validates) and,
since a schema may leave objects open, against the keys its values.yaml and schema name."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema
import yaml

from tests.infra.conftest import REPO_ROOT

SCHEMAS = REPO_ROOT / "infra" / "schemas"
CRDS = {
    (api_version, kind): f"crds/{plural}.{api_version.split('/')[0]}.json"
    for api_version, kind, plural in (
        ("postgresql.cnpg.io/v1", "Cluster", "clusters"),
        ("postgresql.cnpg.io/v1", "ScheduledBackup", "scheduledbackups"),
        ("barmancloud.cnpg.io/v1", "ObjectStore", "objectstores"),
        ("monitoring.coreos.com/v1", "ServiceMonitor", "servicemonitors"),
        ("monitoring.coreos.com/v1", "PodMonitor", "podmonitors"),
        ("monitoring.coreos.com/v1", "PrometheusRule", "prometheusrules"),
        ("argoproj.io/v1alpha1", "Application", "applications"),
        ("argoproj.io/v1alpha1", "AppProject", "appprojects"),
    )
}
# Charts whose values are checked, and the subcharts whose values sit under one key.
SUBCHARTS = {
    "kube-prometheus-stack": {
        "prometheus-node-exporter": "prometheus-node-exporter",
        "grafana": "grafana",
    }
}


def sources() -> dict[str, Any]:
    """SOURCES.yaml: where each vendored file comes from."""
    return yaml.safe_load((SCHEMAS / "SOURCES.yaml").read_text(encoding="utf-8"))


@cache
def vendored(file: str) -> Any:
    """The content of one vendored file."""
    return json.loads((SCHEMAS / file).read_text(encoding="utf-8"))["content"]


def strict(schema: Any) -> Any:
    """The schema with unknown fields refused, as `kubectl apply --validate=strict` and the
    API server's strict field validation do: an object that lists its properties and does not
    preserve unknown fields admits no other key (Kubernetes would silently prune it)."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for key, value in node.items():
            if key in ("properties", "patternProperties", "definitions", "$defs"):
                for child in value.values():
                    walk(child)
            elif key in ("items", "additionalProperties", "allOf", "anyOf", "oneOf", "not"):
                walk(value)

    walk(schema)
    return schema


@cache
def _crd_validator(file: str) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(strict(vendored(file)))


def crd_errors(manifest: dict[str, Any]) -> list[str]:
    """Where a custom resource breaks its CRD's schema (unknown fields included)."""
    key = (manifest["apiVersion"], manifest["kind"])
    validator = _crd_validator(CRDS[key])
    name = f"{manifest['kind']} {manifest['metadata']['name']}"
    return [
        f"{name}: {'.'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]


def merged(defaults: Any, ours: Any) -> Any:
    """Helm's coalescing of a chart's defaults and a release's values: maps merge, anything
    else is replaced, null removes the default."""
    if not isinstance(defaults, dict) or not isinstance(ours, dict):
        return copy.deepcopy(ours)
    result = copy.deepcopy(defaults)
    for key, value in ours.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merged(defaults.get(key), value)
    return result


def unknown_keys(ours: Any, defaults: Any, path: str = "") -> Iterator[str]:
    """Keys of ours that the chart's values.yaml does not have. A default that is an empty
    map or null is free-form (labels, annotations, extra config) and admits any key."""
    if not isinstance(ours, dict) or not isinstance(defaults, dict) or not defaults:
        return
    for key, value in ours.items():
        where = f"{path}.{key}" if path else key
        if key not in defaults:
            yield where
        else:
            yield from unknown_keys(value, defaults[key], where)


def schema_keys(schema: Any) -> Any:
    """The tree of keys a values schema names (an object without properties is free-form)."""
    if not isinstance(schema, dict):
        return {}
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {key: schema_keys(child) for key, child in properties.items()}


def known_keys(defaults: Any, schema: Any) -> Any:
    """Keys the chart knows: those of its values.yaml and those its schema names."""
    if not isinstance(defaults, dict) or not defaults:
        return schema if isinstance(schema, dict) and schema else defaults
    if not isinstance(schema, dict) or not schema:
        return defaults
    result = dict(defaults)
    for key, value in schema.items():
        result[key] = known_keys(defaults.get(key), value) if key in defaults else value
    return result


def values_errors(release: dict[str, Any]) -> list[str]:
    """Where a release's values break the chart's schema, or name keys the chart lacks."""
    chart = release["chart"]
    values = release.get("values") or {}
    subcharts = SUBCHARTS.get(chart, {})
    parent_values = {k: v for k, v in values.items() if k not in subcharts}
    defaults = vendored(f"charts/{chart}/values.json")
    errors: list[str] = []
    known = defaults
    if (SCHEMAS / f"charts/{chart}/values.schema.json").exists():
        schema = vendored(f"charts/{chart}/values.schema.json")
        validator = jsonschema.Draft7Validator(schema)
        for error in validator.iter_errors(merged(defaults, parent_values)):
            where = ".".join(map(str, error.absolute_path)) or "<root>"
            errors.append(f"{chart}: {where}: {error.message}")
        # A schema that does not close its objects lets a misspelt key through: check keys
        # against what the schema and values.yaml name as well.
        known = known_keys(defaults, schema_keys(schema))
    errors += [f"{chart}: unknown key {key}" for key in unknown_keys(parent_values, known)]
    for key, subchart in subcharts.items():
        if key in values:
            sub_defaults = vendored(f"charts/{subchart}/values.json")
            errors += [
                f"{chart}: unknown key {key}.{k}" for k in unknown_keys(values[key], sub_defaults)
            ]
    return errors
