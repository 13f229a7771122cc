"""The app's HPA scales on requests in flight per pod (through the Prometheus adapter) as
well as CPU: under a rush the pods queue on the database before their CPU rises."""

from __future__ import annotations

from pathlib import Path

import pytest
from campus_infra.monitoring import in_flight_rule

from tests.infra.conftest import Rendered, capture_cli
from tests.policies.test_metric_names import app_metrics as app_metrics_fixture

app_metrics = pytest.fixture(scope="module", name="app_metrics")(app_metrics_fixture.__wrapped__)
METRIC = "campus_http_requests_in_flight"


def _pods_metric(rendered: Rendered) -> dict:
    metrics = rendered.one("HorizontalPodAutoscaler", "campus-app")["spec"]["metrics"]
    assert {m["type"] for m in metrics} == {"Resource", "Pods"}
    (pods,) = [m["pods"] for m in metrics if m["type"] == "Pods"]
    return pods


@pytest.mark.parametrize(("stack", "target"), [("prod", "12"), ("dev", "3")])
def test_hpa_scales_on_in_flight_requests_per_pod(rendered: dict[str, Rendered], stack, target):
    # Default target: four fifths of workers x threads of the stack (prod 4 x 4, dev 2 x 2).
    pods = _pods_metric(rendered[stack])
    assert pods["metric"] == {"name": METRIC}
    assert pods["target"] == {"type": "AverageValue", "averageValue": target}


def test_the_adapter_serves_that_metric_from_prometheus(rendered: dict[str, Rendered]):
    values = rendered["prod"].releases()["prometheus-adapter"]["values"]
    assert values["rules"]["default"] is False
    (rule,) = values["rules"]["custom"]
    assert rule == in_flight_rule()
    assert rule["name"]["as"] == _pods_metric(rendered["prod"])["metric"]["name"]
    assert values["prometheus"]["url"] == "http://kube-prometheus-stack-prometheus.monitoring.svc"
    stack = rendered["prod"].releases()["kube-prometheus-stack"]
    assert stack["namespace"] == rendered["prod"].releases()["prometheus-adapter"]["namespace"]


def test_the_metric_is_one_the_app_exports_per_pod(app_metrics):
    # The adapter's series query names it; the app's real /metrics must carry it.
    assert METRIC in app_metrics.names
    assert in_flight_rule()["seriesQuery"].startswith(METRIC + "{")


def test_a_bad_in_flight_target_is_refused_naming_the_key(tmp_path: Path):
    done = capture_cli("dev", "campus-platform:app.hpa.targetInFlight=0", out=tmp_path / "o")
    assert done.returncode == 2
    assert "campus-platform:app.hpa.targetInFlight" in done.stderr
    assert "Traceback" not in done.stderr
