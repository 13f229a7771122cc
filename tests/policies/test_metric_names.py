"""Every metric the rules, dashboards and promtool tests use is exported by the app's real
/metrics or declared in platform_tools.metrics_catalogue, so a renamed metric breaks the build.
"""

from __future__ import annotations

import json

import falcon.testing
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.http.app import create_app
from app.settings import Settings
from app.store import migrate
from app.store.engine import build_engine
from platform_tools.metrics_catalogue import catalogue_sample_names
from tests.policies.policy_files import (
    DASHBOARDS_DIR,
    all_rules,
    load_yaml,
    promtool_test_files,
)
from tests.policies.promql_names import metric_names, selectors

# Labels Prometheus attaches when it scrapes a target, not exported by the app itself.
TARGET_LABELS = {"namespace", "pod", "instance", "job", "container", "service", "endpoint"}
PROBE_ROUTES = ("/healthz", "/readyz", "/metrics")


class AppMetrics:
    """Series names, label names and label values of the app's real /metrics output."""

    def __init__(self, text: str) -> None:
        self.names: set[str] = set()
        self.labels: dict[str, set[str]] = {}
        self.values: dict[tuple[str, str], set[str]] = {}
        for family in text_string_to_metric_families(text):
            # The parser names counters without _total and histograms without their suffixes.
            if family.type == "counter":
                exposed = {f"{family.name}_total", f"{family.name}_created"}
            elif family.type == "histogram":
                exposed = {f"{family.name}{s}" for s in ("_bucket", "_sum", "_count", "_created")}
            else:
                exposed = {family.name}
            self.names |= exposed
            for sample in family.samples:
                self.labels.setdefault(sample.name, set()).update(sample.labels)
                for label, value in sample.labels.items():
                    self.values.setdefault((sample.name, label), set()).add(value)


@pytest.fixture(scope="module")
def app_metrics(tmp_path_factory: pytest.TempPathFactory) -> AppMetrics:
    """The app built as in production, migrated, after one request of each probe."""
    path = tmp_path_factory.mktemp("metrics") / "x.db"
    settings = Settings(database_url=f"sqlite:///{path}")
    engine = build_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()
    client = falcon.testing.TestClient(create_app(settings))
    for route in PROBE_ROUTES:
        client.simulate_get(route)
    response = client.simulate_get("/metrics")
    assert response.status_code == 200
    return AppMetrics(response.text)


def _recorded() -> set[str]:
    return {rule["record"] for rule in all_rules() if "record" in rule}


def _rule_expressions() -> list[tuple[str, str]]:
    return [(rule.get("alert") or rule["record"], rule["expr"]) for rule in all_rules()]


def _dashboard_expressions() -> list[tuple[str, str]]:
    found = []
    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                found.append((f"{path.name}: {panel['title']}", target["expr"]))
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable.get("type") == "query":
                query = variable["query"]
                query = query["query"] if isinstance(query, dict) else query
                # label_values(metric, label): only the metric part is PromQL.
                if query.startswith("label_values(") and "," in query:
                    query = query[len("label_values(") : query.rindex(",")]
                found.append((f"{path.name}: ${variable['name']}", query))
    return found


def _promtool_series() -> list[tuple[str, str]]:
    found = []
    for path in promtool_test_files():
        for test in load_yaml(path)["tests"]:
            for series in test.get("input_series", []):
                found.append((path.name, series["series"]))
    return found


def _unknown(used: list[tuple[str, str]], allowed: set[str]) -> list[str]:
    return sorted(
        f"{where}: {name}"
        for where, expression in used
        for name in metric_names(expression)
        if name not in allowed
    )


def test_the_app_exports_the_metrics_the_platform_relies_on(app_metrics: AppMetrics) -> None:
    for name in (
        "campus_http_requests_total",
        "campus_http_request_duration_seconds_bucket",
        "campus_http_requests_shed_total",
        "campus_propagation_errors_total",
        "campus_outbox_unsent_messages",
        "campus_outbox_oldest_unsent_seconds",
        "campus_outbox_metrics_up",
    ):
        assert name in app_metrics.names


def test_every_metric_in_the_rules_is_exported_or_catalogued(app_metrics: AppMetrics) -> None:
    allowed = app_metrics.names | catalogue_sample_names() | _recorded()
    assert _unknown(_rule_expressions(), allowed) == []


def test_every_metric_in_the_dashboards_is_exported_or_catalogued(app_metrics: AppMetrics) -> None:
    used = _dashboard_expressions()
    assert used, "no dashboard queries found"
    allowed = app_metrics.names | catalogue_sample_names() | _recorded()
    assert _unknown(used, allowed) == []


def test_every_series_fed_to_promtool_is_exported_or_catalogued(app_metrics: AppMetrics) -> None:
    # A misspelt input series would make a "must not fire" case pass for the wrong reason.
    allowed = app_metrics.names | catalogue_sample_names()
    assert _unknown(_promtool_series(), allowed) == []


def test_label_matchers_on_app_metrics_use_labels_the_app_exports(
    app_metrics: AppMetrics,
) -> None:
    wrong = []
    for where, expression in _rule_expressions() + _dashboard_expressions():
        for name, matchers in selectors(expression):
            if name not in app_metrics.labels:
                continue
            for label in set(matchers) - app_metrics.labels[name] - TARGET_LABELS:
                wrong.append(f"{where}: {name} has no label {label!r}")
    assert wrong == []


def test_latency_thresholds_are_bucket_bounds_of_the_app_histogram(
    app_metrics: AppMetrics,
) -> None:
    bounds = app_metrics.values[("campus_http_request_duration_seconds_bucket", "le")]
    used = set()
    for _, expression in _rule_expressions() + _dashboard_expressions():
        for name, matchers in selectors(expression):
            if name == "campus_http_request_duration_seconds_bucket" and "le" in matchers:
                used.add(matchers["le"][1])
    assert used, "the latency SLO reads no bucket"
    assert used <= bounds, f"not bucket bounds of the app: {sorted(used - bounds)}"


def test_probe_routes_left_out_of_the_slos_are_the_app_route_labels(
    app_metrics: AppMetrics,
) -> None:
    routes = app_metrics.values[("campus_http_requests_total", "route")]
    excluded = set()
    for _, expression in _rule_expressions():
        for _, matchers in selectors(expression):
            operator, value = matchers.get("route", ("", ""))
            if operator == "!~":
                excluded |= set(value.split("|"))
    assert excluded == set(PROBE_ROUTES)
    assert excluded <= routes


def test_the_extractor_sees_through_functions_grouping_and_matchers() -> None:
    expression = (
        'sum by (route) (rate(campus_http_requests_total{status=~"5.."}[5m])) '
        "/ ignoring(le) campus_x:y offset 5m > 1e3 and absent(z_metric)"
    )
    assert metric_names(expression) == {"campus_http_requests_total", "campus_x:y", "z_metric"}


def test_a_misspelt_metric_is_reported_with_where_it_is_used(app_metrics: AppMetrics) -> None:
    allowed = app_metrics.names | catalogue_sample_names() | _recorded()
    used = [("CampusX", 'sum(rate(campus_http_request_total{status=~"5.."}[5m]))')]
    assert _unknown(used, allowed) == ["CampusX: campus_http_request_total"]
