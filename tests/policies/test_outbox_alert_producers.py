"""CampusOutboxStuck can fire on both deployments: everywhere from the backlog the app reads
from the database at each scrape; on single hosts from the dispatcher's own textfile too
(written by the timer or cron entry of the app_host role), on Kubernetes from
kube-state-metrics' view of the dispatcher's CronJob, whose name the rule must match."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from platform_tools import metrics_catalogue as catalogue
from tests.policies import metric_producers as mp
from tests.policies.promql_names import metric_names
from tests.policies.test_metric_names import app_metrics as app_metrics_fixture

RULES = Path(__file__).resolve().parents[2] / "policies/prometheus/rules/campus-employers.yml"
APP_HOST = Path(__file__).resolve().parents[2] / "playbooks/roles/app_host"


def _expression() -> str:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    (rule,) = [r for g in groups for r in g["rules"] if r.get("alert") == "CampusOutboxStuck"]
    return rule["expr"]


# The app's real /metrics, built once for this module as test_metric_names builds it.
app_metrics = pytest.fixture(scope="module", name="app_metrics")(app_metrics_fixture.__wrapped__)


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    return mp.capture_stack("prod", tmp_path_factory.mktemp("outbox") / "prod.json")


def test_on_kubernetes_the_rule_reads_the_dispatcher_cronjob_that_is_rendered(prod):
    present = mp.kubernetes_producers(prod)
    names = metric_names(_expression())
    kubernetes = {n for n in names if mp.producer_of(n, set()) in present}
    assert kubernetes == {"kube_cronjob_status_last_successful_time"}
    assert catalogue.CATALOGUE["kube_cronjob_status_last_successful_time"].source == (
        catalogue.SOURCE_KSM
    )
    crons = [
        r["inputs"]
        for r in prod
        if r["type"].endswith(":CronJob") and r["inputs"]["metadata"]["namespace"] == "campus"
    ]
    dispatchers = [
        c
        for c in crons
        if c["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0].get("args")
        == ["outbox", "dispatch"]
    ]
    assert len(dispatchers) == 1
    assert f'cronjob="{dispatchers[0]["metadata"]["name"]}"' in _expression()


def test_on_single_hosts_the_scheduled_dispatcher_writes_the_textfile_the_rule_reads():
    names = metric_names(_expression())
    assert {
        "campus_outbox_oldest_unsent_age_seconds",
        "campus_outbox_dispatch_last_run_timestamp_seconds",
    } <= names
    assert catalogue.SOURCE_OUTBOX in mp.host_producers()
    jobs = yaml.safe_load((APP_HOST / "vars/main.yml").read_text())["app_host_ops_jobs"]
    assert any(job["command"] == "outbox dispatch" for job in jobs)
    settings = (APP_HOST / "templates/ops.env.j2").read_text()
    assert "PLATFORM_TOOLS_TEXTFILE_DIR=" in settings


def test_on_every_deployment_the_rule_reads_the_backlog_the_app_reports(prod, app_metrics):
    names = metric_names(_expression())
    from_app = {n for n in names if mp.producer_of(n, app_metrics.names) == mp.APP}
    assert from_app == {"campus_outbox_oldest_unsent_seconds"}
    # Kubernetes: the app's ServiceMonitor; a single host (staging): the monitoring role's
    # campus-app job (production's hosts' Prometheus scrapes no app: it runs in the cluster).
    assert mp.APP in mp.kubernetes_producers(prod)
    assert mp.APP in mp.host_producers("staging")
    # Every app process reports the same database-wide age: a sum would grow with the pods.
    assert "max(campus_outbox_oldest_unsent_seconds)" in _expression()
    assert "sum(" not in _expression()
