"""CampusOutboxStuck can fire on both deployments: on single hosts from the dispatcher's own
textfile (written by the timer or cron entry of the app_host role), on Kubernetes from
kube-state-metrics' view of the dispatcher's CronJob, whose name the rule must match."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from platform_tools import metrics_catalogue as catalogue
from tests.policies import metric_producers as mp
from tests.policies.promql_names import metric_names

RULES = Path(__file__).resolve().parents[2] / "policies/prometheus/rules/campus-employers.yml"
APP_HOST = Path(__file__).resolve().parents[2] / "playbooks/roles/app_host"


def _expression() -> str:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    (rule,) = [r for g in groups for r in g["rules"] if r.get("alert") == "CampusOutboxStuck"]
    return rule["expr"]


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
