"""The rendered platform against the pinned operators' CRDs and the pinned charts' values
(infra/schemas/, vendored with their repository, tag and path: `make refresh-schemas`)."""

import copy

import pytest
from campus_infra import charts

from tests.infra.conftest import STACKS, Rendered
from tests.infra.upstream import CRDS, SCHEMAS, crd_errors, sources, values_errors


def test_every_vendored_file_is_listed_with_its_repository_tag_and_path():
    listed = {entry["file"] for entry in sources()["files"]}
    on_disk = {str(p.relative_to(SCHEMAS)) for p in SCHEMAS.rglob("*.json")}
    assert listed == on_disk
    for entry in sources()["files"]:
        assert {"repo", "tag", "path", "kind"} <= set(entry), entry


def test_vendored_chart_files_are_those_of_the_pinned_chart_versions():
    pinned = {c.source: set() for c in (*charts.ALL_CHARTS, charts.PROMETHEUS_NODE_EXPORTER)}
    for chart in (*charts.ALL_CHARTS, charts.PROMETHEUS_NODE_EXPORTER):
        pinned[chart.source].add(chart.tag)
    for entry in sources()["files"]:
        # Grafana comes as kube-prometheus-stack's dependency from its own repository.
        chart_file = entry["file"].startswith("charts/") and "grafana" not in entry["file"]
        if chart_file and entry["repo"] in pinned:
            assert entry["tag"] in pinned[entry["repo"]], entry
        if entry["file"].startswith("crds/") and entry["repo"] in pinned:
            assert entry["tag"] in pinned[entry["repo"]], entry


@pytest.mark.parametrize("stack", STACKS)
def test_every_custom_resource_matches_its_pinned_crd_schema(rendered: dict[str, Rendered], stack):
    checked = 0
    for manifest in rendered[stack].manifests():
        if (manifest["apiVersion"], manifest["kind"]) in CRDS:
            assert crd_errors(manifest) == []
            checked += 1
    assert checked == len(CRDS)


def test_a_misspelt_or_misplaced_custom_resource_field_is_caught(rendered: dict[str, Rendered]):
    cluster = copy.deepcopy(rendered["prod"].one("Cluster", "campus-db"))
    cluster["spec"]["instance"] = 3
    cluster["spec"]["storage"]["sizeGi"] = 10
    errors = crd_errors(cluster)
    assert any("instance" in e for e in errors) and any("sizeGi" in e for e in errors)
    monitor = copy.deepcopy(rendered["prod"].one("PodMonitor", "campus-db"))
    monitor["spec"]["podMetricsEndpoints"][0]["port"] = 9187
    assert any("podMetricsEndpoints.0.port" in e for e in crd_errors(monitor))


@pytest.mark.parametrize("stack", STACKS)
def test_every_helm_release_sets_only_values_its_chart_knows(rendered: dict[str, Rendered], stack):
    releases = rendered[stack].releases()
    assert len(releases) == 7
    for release in releases.values():
        assert values_errors(dict(release)) == []


@pytest.mark.parametrize(
    ("release", "path", "value", "expected"),
    [
        ("falco", ("driver", "knd"), "modern_ebpf", "unknown key driver.knd"),
        ("argocd", ("dex", "enable"), False, "unknown key dex.enable"),
        ("kube-prometheus-stack", ("prometheus-node-exporter", "extraHostMounts"), [], "Mounts"),
        ("kube-prometheus-stack", ("kubeEtcd", "enable"), False, "kubeEtcd.enable"),
        ("otel-collector", ("mode",), "sidecar", "mode"),
        ("otel-collector", ("replicaCounts",), 2, "replicaCounts"),
        ("cnpg", ("monitoring", "podMonitorEnable"), True, "podMonitorEnable"),
    ],
)  # fmt: skip
def test_an_unknown_or_invalid_value_is_caught(rendered, release, path, value, expected):
    values = copy.deepcopy(dict(rendered["prod"].releases()[release]))
    node = values.setdefault("values", {})
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    errors = values_errors(values)
    assert any(expected in e for e in errors), errors
