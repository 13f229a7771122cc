"""`runbook restart app`: the pod template annotation, then waiting for the rollout."""

from __future__ import annotations

from pathlib import Path

from platform_tools.runbook.targets import RESTARTED_AT_ANNOTATION
from tests.platform_tools.kube_api_standin import KubeApiStandIn
from tests.platform_tools.runbook.invoke import document, runbook


def rollout_controller(server: KubeApiStandIn) -> None:
    """The Deployment controller, one step per API request: observe, then replace pods."""
    deployment = server.get("Deployment", "campus", "campus-app")
    meta, spec, status = deployment["metadata"], deployment["spec"], deployment["status"]
    if status["observedGeneration"] < meta["generation"]:
        status.update(observedGeneration=meta["generation"], updatedReplicas=0)
        status["replicas"] = spec["replicas"] + 1  # maxSurge: one new pod beside the old ones
    elif status["updatedReplicas"] < spec["replicas"]:
        status["updatedReplicas"] += 1
        status["availableReplicas"] = spec["replicas"]
        if status["updatedReplicas"] == spec["replicas"]:
            status["replicas"] = spec["replicas"]


def test_dry_run_names_the_deployment_and_writes_nothing(standin: KubeApiStandIn, kubeconfig: Path):
    result = runbook(kubeconfig, "restart", "app")
    assert result.exit_code == 0, result.output
    assert "Would restart campus/campus-app (3 replicas" in result.stdout
    assert standin.writes() == []


def test_restart_stamps_the_pod_template_and_waits_for_every_replica(
    standin: KubeApiStandIn, kubeconfig: Path
):
    standin.controllers.append(rollout_controller)
    result = runbook(kubeconfig, "restart", "app", "--yes", "--interval", "0", "--json")
    assert result.exit_code == 0, result.output
    deployment = standin.get("Deployment", "campus", "campus-app")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations[RESTARTED_AT_ANNOTATION] == document(result)["restarted_at"]
    assert deployment["metadata"]["generation"] == 2
    assert deployment["status"]["updatedReplicas"] == 3
    assert document(result)["updated"] == 3
    # The template labels are kept: the merge patch only adds the annotation.
    assert deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]


def test_a_rollout_that_does_not_finish_in_time_exits_1(standin: KubeApiStandIn, kubeconfig: Path):
    result = runbook(kubeconfig, "restart", "app", "--yes", "--timeout", "0", "--interval", "0")
    assert result.exit_code == 1
    assert "not finished after 0 s" in result.stderr
    assert "rollout status deployment/campus-app" in result.stderr


def test_a_stuck_rollout_is_reported_with_its_reason(standin: KubeApiStandIn, kubeconfig: Path):
    def stuck(server: KubeApiStandIn) -> None:
        status = server.get("Deployment", "campus", "campus-app")["status"]
        status["conditions"] = [
            {
                "type": "Progressing",
                "status": "False",
                "reason": "ProgressDeadlineExceeded",
                "message": 'ReplicaSet "campus-app-7d9" has timed out progressing.',
            }
        ]

    standin.controllers.append(stuck)
    result = runbook(kubeconfig, "restart", "app", "--yes", "--interval", "0")
    assert result.exit_code == 1
    assert "progress deadline" in result.stderr


def test_unknown_target_exits_2_naming_it(standin: KubeApiStandIn, kubeconfig: Path):
    result = runbook(kubeconfig, "restart", "database", "--yes")
    assert result.exit_code == 2
    assert "TARGET" in result.stderr
    assert standin.writes() == []


def test_a_missing_deployment_exits_2_naming_the_namespace(
    standin: KubeApiStandIn, kubeconfig: Path
):
    result = runbook(kubeconfig, "restart", "app", "--namespace", "elsewhere", "--yes")
    assert result.exit_code == 2
    assert "--namespace" in result.stderr
