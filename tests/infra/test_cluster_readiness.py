"""What a real cluster needs beyond valid manifests: scrape targets Prometheus can reach,
textfile metrics that reach it, Falco rules that load, an install order that works, one
owner per object, and nothing exposed that should not be."""

import re

import pytest
import yaml
from campus_infra import k8s as n
from campus_infra.app import APP_KINDS
from campus_infra.config import parse_stack_config
from campus_infra.connections import connections
from campus_infra.monitoring import TEXTFILE_MOUNT

from tests.infra.conftest import REPO_ROOT, STACKS, Rendered, stack_getter
from tests.infra.upstream import vendored

# kube-prometheus-stack's scrape targets (values key) and where each is scraped.
SCRAPE_TARGETS = {
    "kubeApiServer": ("api-server", 6443),
    "kubelet": ("nodes", 10250),
    "kubeControllerManager": ("nodes", 10257),
    "kubeScheduler": ("nodes", 10259),
    "kubeEtcd": ("nodes", 2381),
    "kubeProxy": ("nodes", 10249),
    "coreDns": ("coredns", 9153),
    "nodeExporter": ("nodes", 9100),
}


def _kps(r: Rendered) -> dict:
    return r.releases()["kube-prometheus-stack"]["values"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_enabled_default_scrape_target_is_reachable(rendered: dict[str, Rendered], stack):
    ours = _kps(rendered[stack])
    defaults = vendored("charts/kube-prometheus-stack/values.json")
    config = parse_stack_config(stack_getter(stack))
    prometheus_pod = {"app.kubernetes.io/name": "prometheus"}
    reachable = {
        (c.target.name, port)
        for c in connections(config.network)
        if c.source.namespace == n.NS_MONITORING
        and all(prometheus_pod.get(k) == v for k, v in c.source.pods.items())
        for port in c.ports
    }
    for key, target in SCRAPE_TARGETS.items():
        enabled = ours.get(key, {}).get("enabled", defaults[key]["enabled"])
        if enabled:
            assert target in reachable, f"{key} is scraped on {target} but no policy allows it"


def test_control_plane_scrapes_that_cannot_work_are_off_with_their_rules(rendered):
    values = _kps(rendered["prod"])
    for key in ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"):
        assert values[key] == {"enabled": False}
    rules = values["defaultRules"]["rules"]
    for group in ("etcd", "kubeControllerManager", "kubeProxy", "kubeSchedulerAlerting"):
        assert rules[group] is False
    assert "coreDns" not in values  # on, as upstream, and allowed by a policy


def _textfile_volume(r: Rendered) -> dict:
    cron = r.one("CronJob", "kube-bench")
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "textfile"]
    (gate,) = [c for c in pod["containers"] if c["name"] == "gate"]
    return {"volume": volume, "gate": gate, "pod": pod}


@pytest.mark.parametrize("stack", STACKS)
def test_kube_bench_metrics_reach_the_node_exporter(rendered: dict[str, Rendered], stack):
    r = rendered[stack]
    exporter = _kps(r)["prometheus-node-exporter"]
    assert f"--collector.textfile.directory={TEXTFILE_MOUNT}" in exporter["extraArgs"]
    (mount,) = exporter["extraHostVolumeMounts"]
    assert mount["mountPath"] == TEXTFILE_MOUNT and mount["readOnly"] is True
    found = _textfile_volume(r)
    assert found["volume"]["hostPath"] == {"path": mount["hostPath"], "type": "Directory"}
    # The gate writes there as the app image's user...
    (write,) = [m for m in found["gate"]["volumeMounts"] if m["name"] == "textfile"]
    metrics_file = found["gate"]["args"][found["gate"]["args"].index("--metrics-file") + 1]
    assert metrics_file.startswith(write["mountPath"] + "/")
    assert found["gate"]["securityContext"]["runAsGroup"] == n.APP_UID
    # ... and the node role makes the folder writable by that group before any pod runs.
    defaults = yaml.safe_load(
        (REPO_ROOT / "playbooks/roles/k8s_node/defaults/main.yml").read_text()
    )
    assert defaults["k8s_node_textfile_dir"] == mount["hostPath"] == n.TEXTFILE_DIR
    assert defaults["k8s_node_textfile_gid"] == n.APP_UID
    (task,) = yaml.safe_load(
        (REPO_ROOT / "playbooks/roles/k8s_node/tasks/textfile.yml").read_text()
    )
    folder = task["ansible.builtin.file"]
    assert folder["group"] == "{{ k8s_node_textfile_gid }}"
    assert int(folder["mode"], 8) & 0o020, "group must be able to write"


@pytest.mark.parametrize("stack", STACKS)
def test_every_campus_falco_rule_has_a_source_the_release_loads(rendered, stack):
    values = rendered[stack].releases()["falco"]["values"]
    plugins = values.get("falco", {}).get("load_plugins", [])
    loaded = {"syscall"} | ({"k8s_audit"} if "k8saudit" in plugins else set())
    rules = yaml.safe_load(values["customRules"]["campus_rules.yaml"])
    for item in rules:
        if "rule" in item:
            assert item.get("source", "syscall") in loaded, item["rule"]


# Custom resource groups and the release that installs their CRDs.
CRD_OWNERS = {
    "monitoring.coreos.com": "kube-prometheus-stack",
    "postgresql.cnpg.io": "cnpg",
    "barmancloud.cnpg.io": "barman-cloud",
    "argoproj.io": "argocd",
}


def _creates_monitoring_objects(values: object) -> bool:
    if isinstance(values, dict):
        for key, value in values.items():
            monitor = re.fullmatch(r"(serviceMonitor|podMonitor|prometheusRule)s?", key)
            if (
                monitor
                and isinstance(value, dict)
                and (value.get("create") or value.get("enabled"))
            ):
                return True
            if key in ("podMonitorEnabled", "serviceMonitorEnabled") and value is True:
                return True
            if _creates_monitoring_objects(value):
                return True
    return False


@pytest.mark.parametrize("stack", STACKS)
def test_everything_waits_for_the_crds_it_uses(rendered: dict[str, Rendered], stack):
    records = [r for r in rendered[stack].records if r.get("owner") == "pulumi"]
    release_urns = {
        r["name"]: r["urn"] for r in records if r["type"] == "kubernetes:helm.sh/v3:Release"
    }
    direct = {r["urn"]: set(r["dependencies"]) for r in records}

    def waits_for(urn: str) -> set[str]:
        seen: set[str] = set()
        todo = list(direct.get(urn, ()))
        while todo:
            item = todo.pop()
            if item not in seen:
                seen.add(item)
                todo.extend(direct.get(item, ()))
        return seen

    for record in records:
        needs: set[str] = set()
        if record["type"] == "kubernetes:helm.sh/v3:Release":
            if _creates_monitoring_objects(record["inputs"].get("values")):
                needs.add("kube-prometheus-stack")
        else:
            group = record["type"].split(":")[1].split("/")[0]
            if group in CRD_OWNERS:
                needs.add(CRD_OWNERS[group])
        needs.discard(record["name"])
        for release in needs:
            assert release_urns[release] in waits_for(record["urn"]), (record["name"], release)


def test_falco_release_waits_for_the_monitoring_crds(rendered: dict[str, Rendered]):
    (falco,) = [r for r in rendered["prod"].records if r["name"] == "falco"
                and r["type"] == "kubernetes:helm.sh/v3:Release"]  # fmt: skip
    assert any(d.endswith("::kube-prometheus-stack") for d in falco["dependencies"])


@pytest.mark.parametrize("stack", STACKS)
def test_each_object_has_one_owner(rendered: dict[str, Rendered], stack):
    r = rendered[stack]

    def key(m: dict) -> tuple:
        return (m["kind"], m["metadata"].get("namespace"), m["metadata"]["name"])

    argocd = {key(m) for m in r.manifests(only="argocd")}
    pulumi = {key(m) for m in r.manifests(only="pulumi")}
    assert argocd and pulumi and not argocd & pulumi
    # Pulumi registers none of the app's objects; Argo CD applies only those.
    assert all(namespace == n.NS_APP for _, namespace, _ in argocd)
    assert {kind for kind, _, _ in argocd} <= {kind for _, kind in APP_KINDS}


@pytest.mark.parametrize("stack", STACKS)
def test_argo_cd_is_confined_to_the_app_namespace_and_kinds(rendered: dict[str, Rendered], stack):
    r = rendered[stack]
    application = r.one("Application", "campus-platform")["spec"]
    project = r.one("AppProject", application["project"])["spec"]
    assert application["project"] != "default"
    assert project["clusterResourceWhitelist"] == []
    assert project["destinations"] == [
        {"server": "https://kubernetes.default.svc", "namespace": n.NS_APP}
    ]
    assert project["sourceRepos"] == [application["source"]["repoURL"]]
    allowed = {(k["group"], k["kind"]) for k in project["namespaceResourceWhitelist"]}
    for manifest in r.manifests(only="argocd"):
        group = manifest["apiVersion"].rpartition("/")[0]
        assert (group, manifest["kind"]) in allowed, manifest["kind"]
    assert application["destination"]["namespace"] == n.NS_APP


def test_the_migration_job_runs_before_the_rollout_under_argo_cd(rendered):
    r = rendered["prod"]
    wave = "argocd.argoproj.io/sync-wave"
    (job,) = r.of_kind("Job")
    deployment = r.one("Deployment", n.APP_NAME)
    assert int(job["metadata"]["annotations"][wave]) < int(
        (deployment["metadata"].get("annotations") or {}).get(wave, "0")
    )


@pytest.mark.parametrize("stack", STACKS)
def test_the_ingresses_publish_the_api_only(rendered: dict[str, Rendered], stack):
    for ingress in rendered[stack].of_kind("Ingress"):
        paths = [p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
        assert paths and all(path.startswith("/api/") for path in paths)
        for private in ("/metrics", "/openapi.json", "/healthz", "/readyz"):
            assert not any(re.match(path, private) for path in paths), private
