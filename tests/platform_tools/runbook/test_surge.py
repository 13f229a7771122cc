"""`runbook surge-prepare` and `surge-end`: the HPA floor raised, remembered and restored."""

from __future__ import annotations

import json
from pathlib import Path

from platform_tools.runbook.targets import SURGE_ANNOTATION
from tests.platform_tools.kube_api_standin import KubeApiStandIn
from tests.platform_tools.runbook.invoke import document, runbook


def _hpa(standin: KubeApiStandIn) -> dict:
    return standin.get("HorizontalPodAutoscaler", "campus", "campus-app")


def test_dry_run_shows_the_change_and_writes_nothing(standin: KubeApiStandIn, kubeconfig: Path):
    result = runbook(kubeconfig, "surge-prepare", "--min-replicas", "20")
    assert result.exit_code == 0, result.output
    assert "Would change campus/campus-app: min 3 -> 20, max 10 -> 20" in result.stdout
    assert standin.writes() == []
    assert _hpa(standin)["spec"]["minReplicas"] == 3


def test_prepare_then_end_restores_the_previous_floor_and_ceiling(
    standin: KubeApiStandIn, kubeconfig: Path
):
    result = runbook(kubeconfig, "surge-prepare", "--min-replicas", "20", "--yes")
    assert result.exit_code == 0, result.output
    hpa = _hpa(standin)
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (20, 20)
    saved = json.loads(hpa["metadata"]["annotations"][SURGE_ANNOTATION])
    assert saved == {"minReplicas": 3, "maxReplicas": 10}
    # Raising the floor again keeps what was saved the first time, not the surge values.
    assert runbook(kubeconfig, "surge-prepare", "--min-replicas", "30", "--yes").exit_code == 0
    assert json.loads(_hpa(standin)["metadata"]["annotations"][SURGE_ANNOTATION]) == saved
    result = runbook(kubeconfig, "surge-end", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert document(result)["min_after"] == 3
    hpa = _hpa(standin)
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert SURGE_ANNOTATION not in hpa["metadata"].get("annotations", {})


def test_surge_end_without_a_surge_changes_nothing(standin: KubeApiStandIn, kubeconfig: Path):
    result = runbook(kubeconfig, "surge-end", "--yes")
    assert result.exit_code == 0
    assert "changes nothing" in result.stdout
    assert standin.writes() == []


def test_a_concurrent_change_409_is_recomputed_from_a_fresh_read(
    standin: KubeApiStandIn, kubeconfig: Path
):
    standin.fail_next("PATCH", r"/horizontalpodautoscalers/campus-app$", 409)
    result = runbook(kubeconfig, "surge-prepare", "--min-replicas", "12", "--yes")
    assert result.exit_code == 0, result.output
    patches = [r for r in standin.writes() if r.method == "PATCH"]
    assert len(patches) == 2
    assert patches[0].content_type == "application/merge-patch+json"
    assert _hpa(standin)["spec"]["minReplicas"] == 12


def test_a_stale_resource_version_is_refused_by_the_server_not_overwritten(
    standin: KubeApiStandIn, kubeconfig: Path
):
    # Someone edits the HPA between our read and our write, on every attempt.
    def meddler(server: KubeApiStandIn) -> None:
        last = server.requests[-1]
        if last.method == "PATCH":
            hpa = server.get("HorizontalPodAutoscaler", "campus", "campus-app")
            hpa["metadata"]["resourceVersion"] = str(int(hpa["metadata"]["resourceVersion"]) + 1)

    standin.controllers.append(meddler)
    result = runbook(kubeconfig, "surge-prepare", "--min-replicas", "12", "--yes")
    assert result.exit_code == 3
    assert "kept changing" in result.stderr
    assert _hpa(standin)["spec"]["minReplicas"] == 3


def test_a_floor_that_does_not_rise_is_refused_naming_the_option(
    standin: KubeApiStandIn, kubeconfig: Path
):
    result = runbook(kubeconfig, "surge-prepare", "--min-replicas", "2", "--yes")
    assert result.exit_code == 2
    assert "--min-replicas" in result.stderr
    assert standin.writes() == []


def test_a_missing_hpa_is_a_usage_error_naming_the_option(
    standin: KubeApiStandIn, kubeconfig: Path
):
    result = runbook(kubeconfig, "surge-prepare", "--min-replicas", "20", "--hpa", "nope", "--yes")
    assert result.exit_code == 2
    assert "--hpa" in result.stderr and "campus/nope" in result.stderr


def test_out_of_range_min_replicas_is_refused_by_the_cli(kubeconfig: Path):
    result = runbook(kubeconfig, "surge-prepare", "--min-replicas", "0")
    assert result.exit_code == 2
    assert "--min-replicas" in result.output


def test_a_mangled_annotation_is_reported_not_guessed(standin: KubeApiStandIn, kubeconfig: Path):
    _hpa(standin)["metadata"]["annotations"] = {SURGE_ANNOTATION: "min=3"}
    result = runbook(kubeconfig, "surge-end", "--yes")
    assert result.exit_code == 1
    assert SURGE_ANNOTATION in result.stderr
    assert standin.writes() == []
