"""Reaching the cluster: kubeconfig and context refused by name, an absent API server exit 3."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from typer.testing import CliRunner

from platform_tools.cli import app
from tests.platform_tools.runbook.invoke import runbook


def test_a_missing_kubeconfig_file_exits_2_naming_the_option(tmp_path: Path):
    result = runbook(tmp_path / "absent", "status")
    assert result.exit_code == 2
    assert "--kubeconfig" in result.stderr


def test_no_kubeconfig_anywhere_exits_2_naming_the_option(tmp_path: Path):
    result = CliRunner().invoke(
        app,
        ["runbook", "status"],
        env={"KUBECONFIG": str(tmp_path / "none"), "KUBERNETES_SERVICE_HOST": ""},
    )
    assert result.exit_code == 2
    assert "--kubeconfig" in result.stderr


def test_an_unknown_context_exits_2_naming_the_option(kubeconfig: Path):
    result = CliRunner().invoke(
        app, ["runbook", "status", "--kubeconfig", str(kubeconfig), "--context", "prod-eu"]
    )
    assert result.exit_code == 2
    assert "--context" in result.stderr


def test_an_api_server_that_does_not_answer_exits_3(tmp_path: Path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "kubeconfig"
    config.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    result = runbook(config, "surge-end", "--yes")
    assert result.exit_code == 3
    assert "does not answer" in result.stderr


def test_a_runbook_run_writes_its_metrics(kubeconfig: Path, tmp_path: Path):
    from prometheus_client.parser import text_string_to_metric_families

    metrics = tmp_path / "runbook.prom"
    result = runbook(
        kubeconfig, "surge-prepare", "--min-replicas", "9", "--yes", "--metrics-file", str(metrics)
    )
    assert result.exit_code == 0, result.output
    samples = {
        family.name: family.samples[0]
        for family in text_string_to_metric_families(metrics.read_text())
    }
    assert samples["campus_ops_last_changed_objects"].labels == {"command": "runbook surge-prepare"}
    assert samples["campus_ops_last_changed_objects"].value == 1
    assert samples["campus_ops_last_run_success"].value == 1
