"""Every metric an alert or a dashboard reads has a producer in the rendered platform: a
scrape job (Kubernetes monitors, the hosts' Prometheus) or a textfile a job writes."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from platform_tools import metrics_catalogue as catalogue
from tests.policies import metric_producers as mp
from tests.policies.promql_names import metric_names
from tests.policies.test_metric_names import (
    _dashboard_expressions,
    _recorded,
    _rule_expressions,
)
from tests.policies.test_metric_names import app_metrics as app_metrics_fixture

# The app's real /metrics, built once for this module as test_metric_names builds it.
app_metrics = pytest.fixture(scope="module", name="app_metrics")(app_metrics_fixture.__wrapped__)

STACKS = ("prod", "dev")


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    root: Path = tmp_path_factory.mktemp("producers")
    return {stack: mp.capture_stack(stack, root / f"{stack}.json") for stack in STACKS}


def _missing(used, app_names, present) -> list[str]:
    recorded = _recorded()
    missing = []
    for where, expression in used:
        for name in metric_names(expression):
            if name in recorded:
                continue
            source = mp.producer_of(name, app_names)
            if source is None or source not in present:
                missing.append(f"{where}: {name} (needs {source or 'an unknown producer'})")
    return sorted(missing)


@pytest.mark.parametrize("stack", STACKS)
def test_every_metric_of_alerts_and_dashboards_has_a_producer(captured, app_metrics, stack):
    # The platform's two shapes: Kubernetes with its database and monitoring servers
    # (production), and the single host of a small school (staging is one, as in production).
    present = (
        mp.kubernetes_producers(captured[stack])
        | mp.host_producers()
        | mp.host_producers("staging")
    )
    used = _rule_expressions() + _dashboard_expressions()
    assert _missing(used, app_metrics.names, present) == []


def test_kubernetes_produces_the_app_database_falco_state_node_and_kube_bench_metrics(captured):
    present = mp.kubernetes_producers(captured["prod"])
    assert {
        mp.APP,
        catalogue.SOURCE_CNPG,
        catalogue.SOURCE_FALCO,
        catalogue.SOURCE_KSM,
        catalogue.SOURCE_NODE_EXPORTER,
        catalogue.SOURCE_KUBE_BENCH,
    } <= set(present)


def test_hosts_scrape_the_node_exporter_of_the_monitoring_role():
    assert catalogue.SOURCE_NODE_EXPORTER in mp.host_producers()
    # Other hosts' exporters are scraped even where this one's is not installed.
    elsewhere = {"monitoring_node_exporter_enabled": False, "monitoring_node_targets": ["db:9100"]}
    assert catalogue.SOURCE_NODE_EXPORTER in mp.host_producers(overrides=elsewhere)


def test_production_scrapes_the_node_exporters_of_the_monitoring_and_database_servers():
    assert mp.node_exporter_scrapes() == [
        ("monitor-1.campus.example.edu", "127.0.0.1:9100", "monitor-1.campus.example.edu"),
        ("monitor-1.campus.example.edu", "10.20.10.11:9100", "db-1.campus.example.edu"),
    ]
    # The database server alone is enough for the disk alerts to have a producer.
    own_off = {"monitoring_node_exporter_enabled": False}
    assert mp.scraped_node_exporters(overrides=own_off) == {"db-1.campus.example.edu"}
    assert catalogue.SOURCE_NODE_EXPORTER in mp.host_producers(overrides=own_off)


def test_the_single_host_scrapes_the_count_of_nginx_refusals_and_production_has_none():
    assert catalogue.SOURCE_MTAIL in mp.host_producers("staging")
    assert catalogue.SOURCE_MTAIL not in mp.host_producers()
    unscraped = {"monitoring_proxy_targets": []}
    assert catalogue.SOURCE_MTAIL not in mp.host_producers("staging", overrides=unscraped)


def test_staging_scrapes_the_node_exporter_of_its_one_server():
    assert mp.scraped_node_exporters("staging") == {"staging-campus-1.campus.example.edu"}


def test_a_database_server_without_its_node_exporter_is_not_counted_as_scraped():
    assert "db-1.campus.example.edu" not in mp.scraped_node_exporters(
        overrides={"node_exporter_enabled": False}
    )


def _without(records, change):
    copied = copy.deepcopy(records)
    for record in copied:
        change(record)
    return copied


def _node_exporter_without_textfile(record):
    if (
        record["type"] == "kubernetes:helm.sh/v3:Release"
        and record["name"] == "kube-prometheus-stack"
    ):
        exporter = record["inputs"]["values"]["prometheus-node-exporter"]
        exporter["extraArgs"] = [a for a in exporter["extraArgs"] if "textfile" not in a]


def _no_pod_monitor(record):
    if record["type"].endswith(":PodMonitor"):
        record["custom"] = False


def _falco_without_service_monitor(record):
    if record["type"] == "kubernetes:helm.sh/v3:Release" and record["name"] == "falco":
        record["inputs"]["values"]["serviceMonitor"] = {"create": False}


def _gate_writing_elsewhere(record):
    if record["type"].endswith(":CronJob"):
        pod = record["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        for volume in pod["volumes"]:
            if volume["name"] == "textfile":
                volume["hostPath"]["path"] = "/var/tmp/elsewhere"


def _cluster_without_barman_plugin(record):
    if record["type"].endswith(":Cluster"):
        record["inputs"]["spec"]["plugins"] = []


def _stack_values(change):
    def edit(record):
        if (
            record["type"] == "kubernetes:helm.sh/v3:Release"
            and record["name"] == "kube-prometheus-stack"
        ):
            change(record["inputs"]["values"])

    return edit


def _node_exporter_disabled(values):
    values["nodeExporter"] = {"enabled": False}


def _node_exporter_not_scraped(values):
    values["prometheus-node-exporter"]["prometheus"] = {"monitor": {"enabled": False}}


def _filesystem_collector_off(values):
    values["prometheus-node-exporter"]["extraArgs"].append("--no-collector.filesystem")


def _default_collectors_off(values):
    values["prometheus-node-exporter"]["extraArgs"].append("--collector.disable-defaults")


@pytest.mark.parametrize(
    "change",
    [
        _node_exporter_disabled,
        _node_exporter_not_scraped,
        _filesystem_collector_off,
        _default_collectors_off,
    ],
)
def test_a_node_exporter_off_unscraped_or_without_filesystems_is_not_counted(captured, change):
    records = _without(captured["prod"], _stack_values(change))
    assert catalogue.SOURCE_NODE_EXPORTER not in mp.kubernetes_producers(records)


def test_a_node_exporter_that_collects_filesystems_among_other_collectors_is_counted(captured):
    def only_filesystems(values):
        values["prometheus-node-exporter"]["extraArgs"] += [
            "--collector.disable-defaults",
            "--collector.filesystem",
        ]

    records = _without(captured["prod"], _stack_values(only_filesystems))
    assert catalogue.SOURCE_NODE_EXPORTER in mp.kubernetes_producers(records)


@pytest.mark.parametrize(
    "overrides",
    [
        {"monitoring_node_targets": []},
        {"monitoring_node_exporter_enabled": False, "node_exporter_enabled": False},
    ],
    ids=["no-node-targets", "no-exporter-installed"],
)
def test_hosts_without_a_node_exporter_to_scrape_do_not_count_it(overrides):
    assert catalogue.SOURCE_NODE_EXPORTER not in mp.host_producers(overrides=overrides)


def test_the_disk_alerts_are_reported_when_no_deployment_scrapes_a_node_exporter(
    captured, app_metrics
):
    records = _without(captured["prod"], _stack_values(_node_exporter_disabled))
    present = mp.kubernetes_producers(records) | mp.host_producers(
        overrides={"monitoring_node_targets": []}
    )
    missing = _missing(_rule_expressions() + _dashboard_expressions(), app_metrics.names, present)
    reported = {m.split(":")[0] for m in missing if catalogue.SOURCE_NODE_EXPORTER in m}
    assert reported == {"CampusDiskFillingUp", "CampusDiskAlmostFull"}


@pytest.mark.parametrize(
    ("change", "lost"),
    [
        (_cluster_without_barman_plugin, catalogue.SOURCE_BARMAN_CLOUD),
        (_node_exporter_without_textfile, catalogue.SOURCE_KUBE_BENCH),
        (_gate_writing_elsewhere, catalogue.SOURCE_KUBE_BENCH),
        (_no_pod_monitor, catalogue.SOURCE_CNPG),
        (_falco_without_service_monitor, catalogue.SOURCE_FALCO),
    ],
)
def test_a_producer_that_is_not_wired_is_not_counted(captured, app_metrics, change, lost):
    records = _without(captured["prod"], change)
    present = mp.kubernetes_producers(records) | mp.host_producers()
    assert lost not in present
    missing = _missing(_rule_expressions() + _dashboard_expressions(), app_metrics.names, present)
    # Each of these sources feeds an alert or a dashboard today, which is now reported.
    assert any(f"(needs {lost})" in m for m in missing), missing
