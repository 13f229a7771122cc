"""`runbook db-switchover`: the CloudNativePG plugin's status patch, then the new primary."""

from __future__ import annotations

from pathlib import Path

from tests.platform_tools.kube_api_standin import KubeApiStandIn
from tests.platform_tools.runbook.invoke import document, runbook


def operator(server: KubeApiStandIn) -> None:
    """The CloudNativePG operator: carries out a requested switchover on the next request."""
    status = server.get("Cluster", "campus-db", "campus-db")["status"]
    if status["targetPrimary"] != status["currentPrimary"]:
        status.update(currentPrimary=status["targetPrimary"], phase="Cluster in healthy state")


def _cluster_status(standin: KubeApiStandIn) -> dict:
    return standin.get("Cluster", "campus-db", "campus-db")["status"]


def test_dry_run_picks_a_healthy_standby_and_writes_nothing(
    standin: KubeApiStandIn, kubeconfig: Path
):
    result = runbook(kubeconfig, "db-switchover", "--json")
    assert result.exit_code == 0, result.output
    plan = document(result)
    assert (plan["current_primary"], plan["target"]) == ("campus-db-1", "campus-db-2")
    assert standin.writes() == []


def test_switchover_patches_the_status_as_the_plugin_does_and_waits(
    standin: KubeApiStandIn, kubeconfig: Path
):
    patched: list[dict] = []

    def capture(server: KubeApiStandIn) -> None:
        last = server.requests[-1]
        if last.method == "PATCH":
            patched.append(last.body)

    standin.controllers.append(capture)
    standin.controllers.append(operator)
    result = runbook(kubeconfig, "db-switchover", "--to", "3", "--yes", "--interval", "0")
    assert result.exit_code == 0, result.output
    assert "campus-db-3 is the primary" in result.stdout
    status_patches = [r for r in standin.writes() if r.path.endswith("/clusters/campus-db/status")]
    assert len(status_patches) == 1
    assert status_patches[0].content_type == "application/merge-patch+json"
    sent = patched[0]["status"]
    assert sent["targetPrimary"] == "campus-db-3"
    assert sent["phase"] == "Switchover in progress"
    assert sent["phaseReason"] == "Switching over to campus-db-3"
    assert sent["targetPrimaryTimestamp"].endswith("Z") and "." in sent["targetPrimaryTimestamp"]
    assert sent["conditions"][-1]["type"] == "Ready" and sent["conditions"][-1]["status"] == "False"
    assert patched[0]["metadata"]["resourceVersion"]
    assert _cluster_status(standin)["currentPrimary"] == "campus-db-3"


def test_a_409_on_the_status_patch_is_retried(standin: KubeApiStandIn, kubeconfig: Path):
    standin.fail_next("PATCH", r"/clusters/campus-db/status$", 409)
    result = runbook(kubeconfig, "db-switchover", "--yes", "--no-wait")
    assert result.exit_code == 0, result.output
    assert _cluster_status(standin)["targetPrimary"] == "campus-db-2"
    assert len([r for r in standin.writes() if r.method == "PATCH"]) == 2


def test_a_switchover_already_under_way_is_refused(standin: KubeApiStandIn, kubeconfig: Path):
    _cluster_status(standin).update(targetPrimary="campus-db-2", phase="Switchover in progress")
    result = runbook(kubeconfig, "db-switchover", "--yes")
    assert result.exit_code == 1
    assert "already under way" in result.stderr
    assert standin.writes() == []


def test_an_unhealthy_cluster_is_refused_unless_forced(standin: KubeApiStandIn, kubeconfig: Path):
    _cluster_status(standin)["phase"] = "Waiting for the instances to become active"
    result = runbook(kubeconfig, "db-switchover", "--yes")
    assert result.exit_code == 1
    assert "not healthy" in result.stderr
    assert standin.writes() == []


def test_a_switchover_the_operator_does_not_finish_in_time_exits_1(
    standin: KubeApiStandIn, kubeconfig: Path
):
    result = runbook(kubeconfig, "db-switchover", "--yes", "--timeout", "0", "--interval", "0")
    assert result.exit_code == 1
    assert "not finished after 0 s" in result.stderr
    assert _cluster_status(standin)["targetPrimary"] == "campus-db-2"


def test_the_current_primary_as_target_changes_nothing(standin: KubeApiStandIn, kubeconfig: Path):
    result = runbook(kubeconfig, "db-switchover", "--to", "campus-db-1", "--yes")
    assert result.exit_code == 0
    assert "already the primary" in result.stdout
    assert standin.writes() == []


def test_an_unknown_instance_or_cluster_exits_2_naming_the_option(
    standin: KubeApiStandIn, kubeconfig: Path
):
    result = runbook(kubeconfig, "db-switchover", "--to", "campus-db-9", "--yes")
    assert result.exit_code == 2 and "--to" in result.stderr
    result = runbook(kubeconfig, "db-switchover", "--cluster", "other-db", "--yes")
    assert result.exit_code == 2 and "--cluster" in result.stderr
    assert standin.writes() == []
