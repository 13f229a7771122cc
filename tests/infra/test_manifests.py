"""Rendered manifests: Kubernetes schemas (strict, pinned version) for built-in kinds, our
own required-field assertions for custom resources, pinned Helm releases."""

import re
from typing import Any

import kubernetes_validate
import pytest
import yaml
from campus_infra import charts
from campus_infra.database import BARMAN_PLUGIN, OBJECT_STORE
from campus_infra.namespaces import NAMESPACES
from campus_infra.versions import kubernetes_minor

from tests.infra.conftest import STACKS, Rendered

# The Kubernetes version the manifests are validated against: the cluster's minor, shared with
# the playbooks (campus_infra.versions), whose schemas the installed kubernetes-validate ships.
KUBERNETES_VERSION = f"{kubernetes_minor()}.0"
# Custom resources have no schema in kubernetes-validate; each is checked below, by name.
CUSTOM_KINDS = {
    ("postgresql.cnpg.io/v1", "Cluster"),
    ("postgresql.cnpg.io/v1", "ScheduledBackup"),
    ("barmancloud.cnpg.io/v1", "ObjectStore"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("argoproj.io/v1alpha1", "Application"),
    ("argoproj.io/v1alpha1", "AppProject"),
}
EXACT_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")


def _files(r: Rendered) -> list[Any]:
    return r.files()


@pytest.mark.parametrize("stack", STACKS)
def test_builtin_kinds_pass_strict_schema_validation(rendered: dict[str, Rendered], stack):
    checked = 0
    for path in _files(rendered[stack]):
        manifest = yaml.safe_load(path.read_text())
        if (manifest["apiVersion"], manifest["kind"]) in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{path.name}: {error.message} at {list(error.path)}")
        checked += 1
    assert checked > 60


def test_strict_validation_does_catch_a_misspelt_field(rendered: dict[str, Rendered]):
    deployment = rendered["dev"].one("Deployment", "campus-app")
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("stack", STACKS)
def test_every_custom_resource_kind_is_one_we_check(rendered: dict[str, Rendered], stack):
    for manifest in rendered[stack].manifests():
        key = (manifest["apiVersion"], manifest["kind"])
        group = manifest["apiVersion"].split("/")[0] if "/" in manifest["apiVersion"] else ""
        custom = "." in group and not group.endswith(".k8s.io")
        if custom and key not in CUSTOM_KINDS:
            pytest.fail(f"unchecked custom resource {key}")


def _floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list):
        return [f for v in value for f in _floats(v)]
    return []


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_files_hold_whole_numbers_not_floats(rendered: dict[str, Rendered], stack):
    for path in _files(rendered[stack]):
        text = path.read_text()
        assert not _floats(yaml.safe_load(text)), path.name
    deployment = yaml.safe_load((rendered[stack].folder / "campus" /
                                 "deployment-campus-app.yaml").read_text())  # fmt: skip
    assert type(deployment["spec"]["replicas"]) is int


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_tree_is_one_object_per_file_by_namespace(rendered: dict[str, Rendered], stack):
    r = rendered[stack]
    folders = {p.parent.name for p in _files(r)}
    assert folders == {spec.name for spec in NAMESPACES} | {"_cluster"}
    assert len(_files(r)) == len(r.manifests())


@pytest.mark.parametrize("stack", STACKS)
def test_the_published_folder_holds_only_the_app_objects_argo_cd_owns(rendered, stack):
    r = rendered[stack]
    published = [yaml.safe_load(p.read_text()) for p in sorted(r.folder.rglob("*.yaml"))]
    assert {p.parent.name for p in r.folder.rglob("*.yaml")} == {"campus"}
    assert len(published) == len(r.manifests(only="argocd")) >= 7
    assert {m["kind"] for m in published} >= {"Deployment", "Job", "Service", "Ingress"}
    assert not list(r.platform.rglob("deployment-campus-app.yaml"))


# --- Custom resources: required fields, listed explicitly -----------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_cloudnativepg_cluster_required_fields(rendered: dict[str, Rendered], stack):
    cluster = rendered[stack].one("Cluster", "campus-db")
    spec = cluster["spec"]
    assert cluster["metadata"]["namespace"] == "campus-db"
    assert spec["instances"] == 3
    assert re.fullmatch(
        r"ghcr\.io/cloudnative-pg/postgresql:[0-9.]+-(standard|minimal)-(bookworm|trixie)",
        spec["imageName"],
    )
    assert spec["postgresql"]["synchronous"]["method"] in ("any", "first")
    assert spec["postgresql"]["synchronous"]["number"] >= 1
    assert int(spec["postgresql"]["parameters"]["max_connections"]) >= 100
    assert spec["affinity"]["enablePodAntiAffinity"] is True
    assert spec["affinity"]["topologyKey"] == "kubernetes.io/hostname"
    assert spec["enablePDB"] is True
    assert spec["storage"]["size"] and spec["walStorage"]["size"]
    (plugin,) = spec["plugins"]
    assert plugin["name"] == BARMAN_PLUGIN and plugin["isWALArchiver"] is True
    assert plugin["parameters"]["barmanObjectName"] == OBJECT_STORE
    assert spec["bootstrap"]["initdb"]["database"] == "campus"


@pytest.mark.parametrize("stack", STACKS)
def test_backup_object_store_and_schedule_required_fields(rendered: dict[str, Rendered], stack):
    r = rendered[stack]
    store = r.one("ObjectStore", OBJECT_STORE)["spec"]
    configuration = store["configuration"]
    assert configuration["destinationPath"].startswith("s3://")
    assert configuration["endpointURL"].startswith("https://")
    for key in ("accessKeyId", "secretAccessKey"):
        assert set(configuration["s3Credentials"][key]) == {"name", "key"}
    assert re.fullmatch(r"[0-9]+[dwm]", store["retentionPolicy"])
    backup = r.one("ScheduledBackup", "campus-db-daily")["spec"]
    assert len(backup["schedule"].split()) == 6
    assert backup["cluster"] == {"name": "campus-db"}
    assert backup["method"] == "plugin"
    assert backup["pluginConfiguration"] == {"name": BARMAN_PLUGIN}


@pytest.mark.parametrize("stack", STACKS)
def test_monitors_select_what_exists(rendered: dict[str, Rendered], stack):
    r = rendered[stack]
    monitor = r.one("ServiceMonitor", "campus-app")["spec"]
    service = r.one("Service", "campus-app")
    labels = service["metadata"]["labels"]
    assert all(labels[k] == v for k, v in monitor["selector"]["matchLabels"].items())
    (endpoint,) = monitor["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    pod_monitor = r.one("PodMonitor", "campus-db")["spec"]
    assert pod_monitor["selector"]["matchLabels"] == {"cnpg.io/cluster": "campus-db"}
    assert pod_monitor["podMetricsEndpoints"] == [{"port": "metrics"}]


@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_rule_groups_have_names_and_rules(rendered: dict[str, Rendered], stack):
    for rule in rendered[stack].of_kind("PrometheusRule"):
        assert rule["spec"]["groups"]
        for group in rule["spec"]["groups"]:
            assert group["name"] and group["rules"]
            for item in group["rules"]:
                assert ("alert" in item) != ("record" in item), item
                assert item["expr"]


@pytest.mark.parametrize("stack", STACKS)
def test_argocd_application_syncs_automatically_with_prune_and_self_heal(rendered, stack):
    application = rendered[stack].one("Application", "campus-platform")
    spec = application["spec"]
    assert application["metadata"]["namespace"] == "argocd"
    assert spec["source"]["repoURL"].startswith(("https://", "ssh://", "git@"))
    assert spec["source"]["path"] == f"manifests/{stack}"
    assert spec["source"]["targetRevision"]
    assert spec["destination"]["server"] == "https://kubernetes.default.svc"
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}


# --- Helm releases ---------------------------------------------------------------------------

EXPECTED_RELEASES = {
    "cnpg": charts.CLOUDNATIVE_PG,
    "barman-cloud": charts.BARMAN_CLOUD_PLUGIN,
    "kube-prometheus-stack": charts.KUBE_PROMETHEUS_STACK,
    "prometheus-adapter": charts.PROMETHEUS_ADAPTER,
    "otel-collector": charts.OPENTELEMETRY_COLLECTOR,
    "falco": charts.FALCO,
    "argocd": charts.ARGO_CD,
}


@pytest.mark.parametrize("stack", STACKS)
def test_helm_releases_pin_chart_repository_and_exact_version(rendered, stack):
    releases = rendered[stack].releases()
    assert set(releases) == set(EXPECTED_RELEASES)
    owned = {spec.name for spec in NAMESPACES}
    for name, chart in EXPECTED_RELEASES.items():
        release = releases[name]
        assert release["chart"] == chart.chart
        assert release["repositoryOpts"] == {"repo": chart.repo}
        assert release["version"] == chart.version
        assert EXACT_VERSION.match(release["version"]), name
        assert chart.repo.startswith("https://")
        assert release["namespace"] in owned
    assert "version: " in rendered[stack].releases_file.read_text()


def test_otel_collector_service_is_the_name_the_app_uses(rendered: dict[str, Rendered]):
    values = rendered["prod"].releases()["otel-collector"]["values"]
    assert values["fullnameOverride"] == "otel-collector"
