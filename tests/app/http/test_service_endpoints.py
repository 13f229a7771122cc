"""Health, readiness, metrics, the served contract, traces and logs."""

from __future__ import annotations

import io
import json
import logging

import falcon.testing
import pytest
import structlog
from jsonschema import Draft202012Validator
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from app.http.app import create_app
from app.http.routes import ROUTES
from app.observability.logging import configure_logging
from app.observability.tracing import tracer_provider_for
from app.settings import Settings
from tests.app.fixtures import School


def test_health_and_readiness(client):
    assert client.simulate_get("/healthz").json == {"status": "alive"}
    ready = client.simulate_get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok", "migrations": "ok"}


def test_not_ready_before_migrations(tmp_path):
    client = falcon.testing.TestClient(
        create_app(Settings(database_url=f"sqlite:///{tmp_path}/empty.db"))
    )
    assert client.simulate_get("/healthz").status_code == 200
    ready = client.simulate_get("/readyz")
    assert ready.status_code == 503
    assert "code at" in ready.json["checks"]["migrations"]


def test_not_ready_when_the_database_is_unreachable():
    settings = Settings(database_url="postgresql://nobody:x@127.0.0.1:1/none", pool_timeout=1)
    ready = falcon.testing.TestClient(create_app(settings)).simulate_get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["database"].startswith("unreachable")


def test_metrics_count_requests_by_route_and_propagations(client, staff):
    school = School(client, staff)
    school.activity()
    school.enrol()
    text = client.simulate_get("/metrics").text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    key = (
        "campus_http_requests_total",
        (("method", "POST"), ("route", "/api/v1/enrolments"), ("status", "201")),
    )
    assert samples[key] >= 1
    assert samples[("campus_propagation_runs_total", (("trigger", "enrolment_create"),))] >= 1
    names = {name for name, _ in samples}
    assert {
        "campus_http_request_duration_seconds_bucket",
        "campus_http_requests_in_flight",
        "campus_propagation_duration_seconds_count",
        "campus_app_info",
    } <= names


def test_openapi_describes_every_route_and_only_those(client):
    spec = client.simulate_get("/openapi.json").json
    served = {(r.path, m.lower()) for r in ROUTES for m in r.ops}
    documented = {(p, m) for p, item in spec["paths"].items() for m in item}
    assert served == documented
    for route in ROUTES:
        resource = route.resource.__dict__
        for method in ("get", "post", "patch", "delete", "put"):
            assert (f"on_{method}" in resource) == (method.upper() in route.ops), (
                route.path,
                method,
            )
    Draft202012Validator.check_schema({"$defs": spec["components"]["schemas"]})


def test_answers_match_their_documented_schemas(client, staff):
    spec = client.simulate_get("/openapi.json").json
    schemas = spec["components"]["schemas"]

    def check(result, name: str) -> None:
        schema = {**schemas[name], "$defs": schemas}
        text = json.dumps(schema).replace("#/components/schemas/", "#/$defs/")
        Draft202012Validator(json.loads(text)).validate(result.json)

    school = School(client, staff)
    lecture = school.activity()["id"]
    enrolment = school.enrol()["id"]
    check(client.simulate_get(f"/api/v1/enrolments/{enrolment}", headers=staff), "Enrolment")
    check(
        client.simulate_get(f"/api/v1/enrolments/{enrolment}/participations", headers=staff),
        "ParticipationPage",
    )
    check(
        client.simulate_get(f"/api/v1/activities/{lecture}/participants", headers=staff),
        "ParticipantPage",
    )
    check(client.simulate_get(f"/api/v1/activities/{lecture}", headers=staff), "Activity")
    check(
        client.simulate_patch(f"/api/v1/activities/{lecture}", json={"capacity": 3}, headers=staff),
        "ActivityChanged",
    )
    check(
        client.simulate_post(f"/api/v1/enrolments/{enrolment}/cancel", headers=staff),
        "EnrolmentCancelled",
    )
    check(client.simulate_get("/api/v1/learners/1", headers=staff), "Learner")
    check(client.simulate_post("/api/v1/learners", json={}, headers=staff), "Problem")


def test_requests_and_sql_are_traced(settings, engine, staff):
    exporter = InMemorySpanExporter()
    provider = tracer_provider_for(settings, SimpleSpanProcessor(exporter))
    client = falcon.testing.TestClient(create_app(settings, engine, provider))
    client.simulate_get("/api/v1/learners/1", headers=staff)
    spans = exporter.get_finished_spans()
    server = [s for s in spans if s.name == "GET /api/v1/learners/{learner_id}"]
    assert len(server) == 1
    assert server[0].attributes["http.response.status_code"] == 404
    sql = [
        s for s in spans if s.parent is not None and s.parent.span_id == server[0].context.span_id
    ]
    assert sql, [s.name for s in spans]


def _access_log(client, level: str) -> list[dict]:
    buffer = io.StringIO()
    configure_logging(level, stream=buffer)
    try:
        client.simulate_get("/healthz")
        client.simulate_get("/readyz")
        client.simulate_get("/api/v1/learners/1")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    return [line for line in lines if line.get("event") == "request"]


def test_access_log_is_one_json_object_per_line(client):
    (request,) = _access_log(client, "INFO")
    assert request["route"] == "/api/v1/learners/{learner_id}" and request["status"] == 401
    assert request["level"] == "info"
    assert "duration_ms" in request and "request_id" in request


def test_probes_are_logged_at_debug_only(client):
    routes = {(line["route"], line["level"]) for line in _access_log(client, "DEBUG")}
    assert {("/healthz", "debug"), ("/readyz", "debug")} <= routes


@pytest.mark.parametrize("url", ["mysql://x/y", "not a url at all"])
def test_unsupported_database_urls_are_refused_clearly(url):
    from app.settings import SettingsError
    from app.store.engine import normalise_url

    with pytest.raises(SettingsError, match="DATABASE_URL"):
        normalise_url(url)
