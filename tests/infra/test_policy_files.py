"""The program deploys the very files of policies/ and loadtests/: alert rules, Falco
rules, dashboards, the kube-bench job and its allow-list, the Locust scenarios."""

import json
from pathlib import Path

import pytest
import yaml
from campus_infra import policy_files
from campus_infra.monitoring import RULE_NAME, dashboard_configmap_name
from campus_infra.policy_files import PolicyFileError

from tests.infra.conftest import REPO_ROOT, STACKS, Rendered

POLICIES = REPO_ROOT / "policies"
RULE_FILES = sorted((POLICIES / "prometheus" / "rules").glob("*.yml"))
FALCO_RULES = POLICIES / "falco" / "campus_rules.yaml"
DASHBOARDS = sorted((POLICIES / "dashboards").glob("*.json"))
KUBE_BENCH = POLICIES / "kube-bench"


@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_rule_holds_every_group_of_the_rule_files(rendered: dict[str, Rendered], stack):
    rules = rendered[stack].of_kind("PrometheusRule")
    if not RULE_FILES:
        assert rules == []
        return
    expected = [g for f in RULE_FILES for g in yaml.safe_load(f.read_text())["groups"]]
    (rule,) = rules
    assert rule["metadata"]["name"] == RULE_NAME
    assert rule["spec"]["groups"] == json.loads(json.dumps(expected))


@pytest.mark.parametrize("stack", STACKS)
def test_falco_gets_the_custom_rules_file_and_exports_metrics(rendered, stack):
    values = rendered[stack].releases()["falco"]["values"]
    if FALCO_RULES.is_file():
        assert values["customRules"] == {"campus_rules.yaml": FALCO_RULES.read_text()}
    else:
        assert "customRules" not in values
    assert values["metrics"]["enabled"] is True
    assert values["serviceMonitor"]["create"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_each_dashboard_file_becomes_a_grafana_configmap(rendered: dict[str, Rendered], stack):
    maps = {m["metadata"]["name"]: m for m in rendered[stack].of_kind("ConfigMap")
            if m["metadata"].get("labels", {}).get("grafana_dashboard") == "1"}  # fmt: skip
    assert set(maps) == {dashboard_configmap_name(p.name) for p in DASHBOARDS}
    for path in DASHBOARDS:
        assert maps[dashboard_configmap_name(path.name)]["data"] == {path.name: path.read_text()}


def _kube_bench(r: Rendered) -> dict:
    return r.one("CronJob", "kube-bench")["spec"]["jobTemplate"]["spec"]["template"]["spec"]


@pytest.mark.parametrize("stack", STACKS)
def test_kube_bench_cronjob_runs_the_policies_job_with_host_pid_and_read_only_paths(
    rendered: dict[str, Rendered], stack
):
    if not (KUBE_BENCH / "job.yaml").is_file():
        assert not rendered[stack].of_kind("CronJob")
        return
    r = rendered[stack]
    pod = _kube_bench(r)
    source = yaml.safe_load((KUBE_BENCH / "job.yaml").read_text())["spec"]["template"]["spec"]
    assert pod["hostPID"] is True
    assert [c["name"] for c in pod["initContainers"]] == [
        c["name"] for c in source["initContainers"]
    ]
    (bench,) = pod["initContainers"]
    host_volumes = {v["name"] for v in pod["volumes"] if "hostPath" in v}
    for mount in bench["volumeMounts"]:
        if mount["name"] in host_volumes:
            assert mount.get("readOnly") is True, mount["name"]
    table = yaml.safe_load((KUBE_BENCH / "benchmarks.yaml").read_text())
    env = {e["name"]: e["value"] for e in bench["env"]}
    assert env["KUBE_BENCH_BENCHMARK"] == table["benchmarks"]["1.33"]
    assert bench["image"] == table["kube_bench_image"]
    # The gate runs the ops CLI from the stack's own app image.
    app_image = r.one("Deployment", "campus-app")["spec"]["template"]["spec"]["containers"][0]
    (gate,) = pod["containers"]
    assert gate["image"] == app_image["image"]
    assert gate["command"][:3] == ["platform-tools", "kube-bench", "gate"]
    # Results outlive the pod.
    results = next(v for v in pod["volumes"] if v["name"] == "results")
    assert results == {"name": "results",
                       "persistentVolumeClaim": {"claimName": "kube-bench-results"}}  # fmt: skip
    r.one("PersistentVolumeClaim", "kube-bench-results")
    allowlist = r.one("ConfigMap", "kube-bench-allowlist")
    assert allowlist["data"] == {"allowlist.yaml": (KUBE_BENCH / "allowlist.yaml").read_text()}


def test_kube_bench_refuses_a_kubernetes_version_without_benchmark():
    from campus_infra.config import ConfigError
    from campus_infra.security import kube_bench_pod_spec

    class Stub:  # only the fields kube_bench_pod_spec reads
        class security:
            kubernetes_version = "1.99"

        class app:
            image = "r/app:1"

    table = {"kube_bench_image": "x:1", "benchmarks": {"1.33": "cis-1.12"}}
    with pytest.raises(ConfigError, match=r"kubernetesVersion '1\.99'"):
        kube_bench_pod_spec(Stub, {"containers": []}, table)  # type: ignore[arg-type]


# --- Hostile files are refused with the file named -----------------------------------------


def test_rule_file_without_groups_is_refused(tmp_path: Path):
    (tmp_path / "bad.yml").write_text("rules: []\n")
    with pytest.raises(PolicyFileError, match=r"bad\.yml: expected a mapping with a 'groups'"):
        policy_files.prometheus_rule_groups(tmp_path)


def test_duplicate_rule_group_names_are_refused(tmp_path: Path):
    group = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n"
    (tmp_path / "a.yml").write_text(group)
    (tmp_path / "b.yml").write_text(group)
    with pytest.raises(PolicyFileError, match="also in"):
        policy_files.prometheus_rule_groups(tmp_path)


def test_missing_policy_folders_mean_nothing_to_deploy(tmp_path: Path):
    assert policy_files.prometheus_rule_groups(tmp_path / "none") == []
    assert policy_files.dashboards(tmp_path / "none") == {}
    assert policy_files.falco_rules(tmp_path / "none.yaml") is None
    assert policy_files.kube_bench_pod_spec(tmp_path / "none.yaml") is None
    assert policy_files.loadtest_files(tmp_path / "none") == {}


def test_broken_dashboard_and_job_files_are_refused(tmp_path: Path):
    (tmp_path / "d.json").write_text("{not json")
    with pytest.raises(PolicyFileError, match=r"d\.json: not a JSON dashboard"):
        policy_files.dashboards(tmp_path)
    (tmp_path / "job.yaml").write_text("kind: Deployment\n")
    with pytest.raises(PolicyFileError, match="kind must be Job or CronJob"):
        policy_files.kube_bench_pod_spec(tmp_path / "job.yaml")


def test_falco_rules_with_bare_equals_in_flow_lists_are_read(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text("- rule: r\n  exceptions:\n    - name: e\n      comps: [=, startswith]\n")
    assert policy_files.falco_rules(path) == path.read_text()
