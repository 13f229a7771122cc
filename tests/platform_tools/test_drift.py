"""`platform-tools drift`: offline on the stacks `make render` writes, live against the API
stand-in (the official client), and over single hosts' state files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from platform_tools.cli import app
from tests.platform_tools.kube_api_standin import KubeApiStandIn, running_standin
from tests.platform_tools.kube_objects import campus_cluster

REPO = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod", "site-b")


def drift(*args: str) -> Result:
    result = CliRunner().invoke(
        app, ["drift", *args], env={"KUBERNETES_SERVICE_HOST": ""}, terminal_width=200
    )
    assert "Traceback" not in result.output, result.output
    assert "internal error" not in result.output, result.output
    return result


@pytest.fixture(scope="session")
def rendered_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every stack rendered once, as `make render` does."""
    root = tmp_path_factory.mktemp("rendered")
    subprocess.run(
        [sys.executable, "-m", "campus_infra.render",
         "--out", str(root / "manifests"), "--platform-out", str(root / "platform"),
         "--releases-out", str(root / "helm-releases")],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO / "infra")},
        check=True, capture_output=True, timeout=900,
    )  # fmt: skip
    return root


@pytest.fixture
def tree(rendered_tree: Path, tmp_path: Path) -> Path:
    """A copy a test may change."""
    return Path(shutil.copytree(rendered_tree, tmp_path / "build"))


def _report(result: Result) -> dict[str, Any]:
    return json.loads(result.stdout)


def _component(report: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [c for c in report["components"] if c["name"] == name]
    return found


def test_todays_stacks_differ_in_sizes_only_and_no_version_skipped_testing(tree: Path):
    result = drift("--rendered", str(tree), "--json")
    assert result.exit_code == 0, result.output
    report = _report(result)
    assert report["stacks"] == ["dev", "staging", "prod", "site-b"]
    assert report["skipped"] == []
    # The PDB exists only where more than one pod runs.
    assert _component(report, "campus/PodDisruptionBudget/campus-app")["lacking"] == ["dev"]
    app_drift = _component(report, "campus/Deployment/campus-app")
    assert app_drift["images"] == {}
    replicas = {k["key"]: k["values"] for k in app_drift["config"]}["spec.replicas"]
    assert replicas == {"dev": "1", "staging": "2", "prod": "3", "site-b": "2"}
    # Charts are pinned in code: the same everywhere.
    assert all(not c["charts"] for c in report["components"])


def _set_app_image(tree: Path, stack: str, image: str) -> None:
    for path in (tree / "manifests" / stack).rglob("*.yaml"):
        text = path.read_text()
        path.write_text(text.replace("registry.example.org/campus/app:0.1.0", image))


def test_a_version_in_prod_that_staging_never_ran_fails_the_report(tree: Path):
    _set_app_image(tree, "prod", "registry.example.org/campus/app:0.2.0")
    result = drift("--rendered", str(tree), "--json", "--stacks", "dev,staging,prod")
    assert result.exit_code == 1, result.output
    skipped = _report(result)["skipped"]
    assert {(s["stack"], s["component"], s["version"]) for s in skipped} >= {
        ("prod", "campus/Deployment/campus-app", "registry.example.org/campus/app:0.2.0")
    }
    assert all(s["previous"] == ["staging"] for s in skipped)
    human = drift("--rendered", str(tree), "--stacks", "dev,staging,prod")
    assert human.exit_code == 1
    assert "which staging never ran" in human.stdout
    assert "images: dev=registry.example.org/campus/app:0.1.0" in human.stdout


def test_a_version_promoted_through_every_stage_passes(tree: Path):
    for stack in ("dev", "staging", "prod"):
        _set_app_image(tree, stack, "registry.example.org/campus/app:0.2.0")
    result = drift("--rendered", str(tree), "--json", "--stacks", "dev,staging,prod")
    assert result.exit_code == 0, result.output
    # Staging without dev: skipped the first stage.
    _set_app_image(tree, "dev", "registry.example.org/campus/app:0.1.0")
    (tree / "manifests" / "dev" / "campus" / "deployment-campus-app.yaml").write_text(
        (tree / "manifests" / "dev" / "campus" / "deployment-campus-app.yaml")
        .read_text()
        .replace("app:0.2.0", "app:0.1.0")
    )
    result = drift("--rendered", str(tree), "--json", "--stacks", "dev,staging,prod")
    assert result.exit_code == 1
    assert {s["stack"] for s in _report(result)["skipped"]} == {"staging"}


def test_a_chart_bumped_in_prod_alone_is_reported_and_fails(tree: Path):
    releases = tree / "helm-releases" / "prod.yaml"
    documents = list(yaml.safe_load_all(releases.read_text()))
    for document in documents:
        if document["chart"] == "falco":
            document["version"] = "9.2.0"
    releases.write_text(yaml.safe_dump_all(documents))
    result = drift("--rendered", str(tree), "--json")
    assert result.exit_code == 1
    falco = _component(_report(result), "falco/HelmRelease/falco")
    assert falco["charts"] == {
        "dev": "falco-9.1.0",
        "staging": "falco-9.1.0",
        "prod": "falco-9.2.0",
        "site-b": "falco-9.1.0",
    }
    assert [(s["stack"], s["version"]) for s in _report(result)["skipped"]] == [
        ("prod", "falco-9.2.0")
    ]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("--stacks", ""), "--stacks"),
        (("--stacks", "dev,dev"), "--stacks"),
        (("--stacks", "dev,qa"), "--rendered"),
        (("--context", "dev=x"), "--context"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_option(tree: Path, args, option):
    result = drift("--rendered", str(tree), *args)
    assert result.exit_code == 2, result.output
    assert option in result.output


def test_without_rendered_stacks_it_says_to_render(tmp_path: Path):
    result = drift("--rendered", str(tmp_path / "nothing"))
    assert result.exit_code == 2
    assert "make render" in result.output


def test_a_rendered_file_that_is_not_yaml_is_named(tree: Path):
    bad = tree / "manifests" / "dev" / "campus" / "deployment-campus-app.yaml"
    bad.write_text("kind: [unclosed")
    result = drift("--rendered", str(tree))
    assert result.exit_code == 2
    assert "deployment-campus-app.yaml" in result.output


# --- live -------------------------------------------------------------------------------


def _statefulset(chart: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": "alertmanager", "helm.sh/chart": chart}
    return {
        "kind": "StatefulSet",
        "metadata": {"name": "alertmanager", "namespace": "monitoring", "labels": labels},
        "spec": {
            "serviceName": "alertmanager",
            "selector": {"matchLabels": {"app.kubernetes.io/name": "alertmanager"}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "am", "image": "quay.io/am:v0.28.1"}]},
            },
        },
    }


@pytest.fixture
def clusters(tmp_path: Path) -> Iterator[tuple[dict[str, KubeApiStandIn], Path]]:
    """One stand-in per stack, and one kubeconfig with a context per stack."""
    with ExitStack() as stack:
        servers = {
            name: stack.enter_context(running_standin()) for name in ("dev", "staging", "prod")
        }
        for server in servers.values():
            campus_cluster(server)
            server.add(_statefulset("kube-prometheus-stack-88.5.3"))
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": n, "cluster": {"server": s.url}} for n, s in servers.items()],
            "users": [{"name": "oncall", "user": {"token": "standin-token"}}],
            "contexts": [{"name": n, "context": {"cluster": n, "user": "oncall"}} for n in servers],
            "current-context": "dev",
        }
        path = tmp_path / "kubeconfig"
        path.write_text(json.dumps(kubeconfig))
        yield servers, path


def _image(server: KubeApiStandIn, image: str) -> None:
    deployment = server.get("Deployment", "campus", "campus-app")
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = image


def test_live_reads_each_cluster_and_fails_on_a_version_staging_never_ran(clusters):
    servers, kubeconfig = clusters
    result = drift("--live", "--kubeconfig", str(kubeconfig), "--json")
    assert result.exit_code == 0, result.output
    assert _report(result)["components"] == []
    _image(servers["prod"], "campus/app:1.1")
    servers["prod"].get("StatefulSet", "monitoring", "alertmanager")["metadata"]["labels"][
        "helm.sh/chart"
    ] = "kube-prometheus-stack-89.0.0"
    servers["dev"].get("Cluster", "campus-db", "campus-db")["spec"]["instances"] = 1
    result = drift("--live", "--kubeconfig", str(kubeconfig), "--json")
    assert result.exit_code == 1, result.output
    report = _report(result)
    assert _component(report, "campus/Deployment/campus-app")["images"] == {
        "dev": ["campus/app:1.0"], "staging": ["campus/app:1.0"], "prod": ["campus/app:1.1"]
    }  # fmt: skip
    assert _component(report, "monitoring/StatefulSet/alertmanager")["charts"]["prod"] == (
        "kube-prometheus-stack-89.0.0"
    )
    instances = _component(report, "campus-db/Cluster/campus-db")["config"]
    assert instances == [
        {"key": "spec.instances", "values": {"dev": "1", "staging": "3", "prod": "3"}}
    ]
    assert {(s["stack"], s["version"]) for s in report["skipped"]} == {
        ("prod", "campus/app:1.1"),
        ("prod", "kube-prometheus-stack-89.0.0"),
    }
    # The official client only read: no write reached any cluster.
    assert all(not server.writes() for server in servers.values())


def test_live_names_a_context_per_stack(clusters):
    _, kubeconfig = clusters
    result = drift(
        "--live", "--kubeconfig", str(kubeconfig), "--stacks", "staging,site-b",
        "--context", "site-b=prod", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _report(result)["stacks"] == ["staging", "site-b"]
    unknown = drift("--live", "--kubeconfig", str(kubeconfig), "--stacks", "qa")
    assert unknown.exit_code == 2 and "--context" in unknown.output
    stray = drift("--live", "--kubeconfig", str(kubeconfig), "--context", "qa=dev")
    assert stray.exit_code == 2 and "--context" in stray.output


def test_live_when_an_api_server_does_not_answer_is_an_environment_failure(clusters):
    _, kubeconfig = clusters
    config = json.loads(kubeconfig.read_text())
    config["clusters"][2]["cluster"]["server"] = "http://127.0.0.1:9"
    kubeconfig.write_text(json.dumps(config))
    result = drift("--live", "--kubeconfig", str(kubeconfig))
    assert result.exit_code == 3, result.output
    assert "does not answer" in result.output


# --- single hosts -----------------------------------------------------------------------


def _host_state(path: Path, environment: str, app_version: str, workers: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "environment": environment,
                "host": f"{environment}-campus-1",
                "components": {
                    "campus-app": {
                        "versions": [app_version],
                        "config": {"APP_WORKERS": workers},
                    },
                    "nginx": {"versions": ["nginx 1.22.1-9"], "config": {}},
                },
            }
        )
    )
    return path


def test_single_hosts_are_compared_from_their_state_files(tmp_path: Path):
    dev = _host_state(tmp_path / "dev.json", "dev", "campus-platform 0.1.0 sha1:aa", "2")
    prod = _host_state(tmp_path / "prod.json", "prod", "campus-platform 0.1.0 sha1:bb", "5")
    result = drift("--host-state", str(dev), "--host-state", str(prod), "--json")
    assert result.exit_code == 1, result.output
    report = _report(result)
    assert report["stacks"] == ["dev", "prod"]
    assert _component(report, "campus-app")["config"] == [
        {"key": "APP_WORKERS", "values": {"dev": "2", "prod": "5"}}
    ]
    assert [(s["stack"], s["version"]) for s in report["skipped"]] == [
        ("prod", "campus-platform 0.1.0 sha1:bb")
    ]


@pytest.mark.parametrize(
    "content", ["not json", "[]", '{"environment": "", "components": {}}',
                '{"environment": "dev", "components": {"a": {"versions": [1]}}}']
)  # fmt: skip
def test_a_malformed_state_file_is_a_usage_error_naming_it(tmp_path: Path, content: str):
    path = tmp_path / "host.json"
    path.write_text(content)
    result = drift("--host-state", str(path))
    assert result.exit_code == 2, result.output
    assert "host.json" in result.output and "--host-state" in result.output


def test_a_run_logs_json_and_writes_its_metrics(tmp_path: Path):
    dev = _host_state(tmp_path / "dev.json", "dev", "campus-platform 0.1.0 sha1:aa", "2")
    staging = _host_state(
        tmp_path / "staging.json", "staging", "campus-platform 0.1.0 sha1:aa", "2"
    )
    metrics = tmp_path / "drift.prom"
    result = drift(
        "--host-state", str(dev), "--host-state", str(staging), "--metrics-file", str(metrics)
    )
    assert result.exit_code == 0, result.output
    assert "No component differs." in result.stdout
    text = metrics.read_text()
    assert 'campus_ops_last_run_success{command="drift"} 1.0' in text
    finished = [json.loads(line) for line in result.stderr.splitlines() if "run_finished" in line]
    assert finished and finished[-1]["command"] == "drift" and finished[-1]["exit_code"] == 0
