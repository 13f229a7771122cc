"""`platform-tools runbook status` against the API stand-in."""

from __future__ import annotations

from pathlib import Path

from tests.platform_tools.kube_api_standin import KubeApiStandIn
from tests.platform_tools.kube_objects import backup, hours_ago, hpa, kube_bench_job, pod
from tests.platform_tools.runbook.invoke import document, runbook


def _states(result) -> dict[tuple[str, str], str]:
    return {(f["check"], f["subject"]): f["state"] for f in document(result)["findings"]}


def test_healthy_cluster_reports_ok_and_exits_0(standin: KubeApiStandIn, kubeconfig: Path):
    standin.node_stats["node-a"] = {
        "node": {"nodeName": "node-a"},
        "pods": [
            {
                "podRef": {"name": "campus-db-1", "namespace": "campus-db"},
                "volume": [
                    {
                        "name": "pgdata",
                        "pvcRef": {"name": "campus-db-1", "namespace": "campus-db"},
                        "usedBytes": 2 * 2**30,
                        "capacityBytes": 10 * 2**30,
                    }
                ],
            }
        ],
    }
    result = runbook(kubeconfig, "status", "--json")
    assert result.exit_code == 0, result.output
    states = _states(result)
    assert states[("deployments", "campus/campus-app")] == "ok"
    assert states[("deployments", "cnpg-system/cnpg-controller-manager")] == "ok"
    assert states[("hpa", "campus/campus-app")] == "ok"
    assert states[("pvc", "campus-db/campus-db-1")] == "ok"
    assert states[("kube-bench", "kube-bench/kube-bench-29000")] == "ok"
    assert standin.writes() == []


def test_every_kind_of_trouble_is_reported_and_exits_1(standin: KubeApiStandIn, kubeconfig: Path):
    standin.add(pod("campus-app-9", waiting="CrashLoopBackOff", restarts=12))
    standin.add(hpa(current=10))
    standin.get("Deployment", "cnpg-system", "cnpg-controller-manager")["status"][
        "readyReplicas"
    ] = 0
    standin.remove("Backup", "campus-db", "campus-db-daily-last")
    standin.add(backup("campus-db-daily-old", hours_ago(30)))
    standin.add(kube_bench_job("kube-bench-29999", hours_ago(0.5), succeeded=False))
    standin.node_stats["node-b"] = {
        "node": {"nodeName": "node-b"},
        "pods": [
            {
                "volume": [
                    {
                        "name": "pgdata",
                        "pvcRef": {"name": "campus-db-2", "namespace": "campus-db"},
                        "usedBytes": 95,
                        "capacityBytes": 100,
                    }
                ]
            }
        ],
    }
    result = runbook(kubeconfig, "status", "--json")
    assert result.exit_code == 1
    states = _states(result)
    assert states[("pods", "campus/campus-app-9")] == "problem"
    assert states[("deployments", "cnpg-system/cnpg-controller-manager")] == "problem"
    assert states[("hpa", "campus/campus-app")] == "problem"
    assert states[("backup", "campus-db/campus-db")] == "problem"
    assert states[("kube-bench", "kube-bench/kube-bench-29999")] == "problem"
    assert states[("pvc", "campus-db/campus-db-2")] == "problem"


def test_a_refused_check_is_unknown_and_the_others_still_run(
    standin: KubeApiStandIn, kubeconfig: Path
):
    standin.fail_next("GET", r"/horizontalpodautoscalers/", 404)
    result = runbook(kubeconfig, "status", "--json")
    assert result.exit_code == 1
    findings = document(result)["findings"]
    unknown = [f for f in findings if f["state"] == "unknown"]
    assert [f["check"] for f in unknown] == ["hpa", "pvc"]
    assert any(f["check"] == "backup" and f["state"] == "ok" for f in findings)
    assert any(f["check"] == "deployments" and f["state"] == "ok" for f in findings)


def test_human_status_prints_a_table(standin: KubeApiStandIn, kubeconfig: Path):
    result = runbook(kubeconfig, "status")
    assert "campus/campus-app" in result.stdout
    assert "Campus platform status" in result.stdout
