"""Admission control in the WSGI stack: queue waits are observed, and past the budget a request
is answered 503 with Retry-After before the app runs, except probes and scrapes. The served
process under real load is tested in tests/app/test_served_shedding.py."""

from __future__ import annotations

import json
import time

import falcon.testing
import pytest
from prometheus_client import REGISTRY

from app.http.app import create_app, served_app
from app.http.shedding import request_start_age
from app.http.worker import QUEUE_SECONDS
from app.settings import Settings


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def served(settings, engine):
    budget = Settings(database_url=settings.database_url, queue_budget=0.05)
    return falcon.testing.TestClient(served_app(create_app(budget, engine), budget))


def waited(seconds: float) -> dict:
    return {QUEUE_SECONDS: seconds}


def test_a_request_within_the_budget_is_served_and_its_wait_observed(served, staff):
    before = sample("campus_http_request_queue_seconds_count")
    within = served.simulate_get("/api/v1/learners/1", headers=staff, extras=waited(0.05))
    assert within.status_code == 404  # served: the app looked the learner up
    assert sample("campus_http_request_queue_seconds_count") == before + 1


def test_past_the_budget_a_request_is_shed_with_retry_after(served, staff):
    route = {"method": "GET", "route": "/api/v1/learners/{learner_id}", "status": "503"}
    shed_before = sample("campus_http_requests_shed_total", reason="queue")
    answered_before = sample("campus_http_requests_total", **route)
    shed = served.simulate_get("/api/v1/learners/1", headers=staff, extras=waited(0.0501))
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "1"
    assert shed.headers["content-type"] == "application/problem+json"
    assert json.loads(shed.text)["status"] == 503
    assert sample("campus_http_requests_shed_total", reason="queue") == shed_before + 1
    assert sample("campus_http_requests_total", **route) == answered_before + 1


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_and_scrapes_are_never_shed(served, path):
    assert served.simulate_get(path, extras=waited(30.0)).status_code == 200


def test_an_unknown_path_is_shed_under_the_unmatched_route(served):
    before = sample("campus_http_requests_total", method="GET", route="unmatched", status="503")
    assert served.simulate_get("/nowhere", extras=waited(1.0)).status_code == 503
    after = sample("campus_http_requests_total", method="GET", route="unmatched", status="503")
    assert after == before + 1


def test_without_a_server_stamp_nothing_is_shed(served, staff):
    # In-process callers (tests, tools) have no queue: the app serves them.
    assert served.simulate_get("/api/v1/learners/1", headers=staff).status_code == 404


def test_a_proxy_stamp_counts_only_when_trusted(settings, engine, staff):
    old = {"X-Request-Start": f"t={time.time() - 10:.3f}", **staff}  # long past the budget
    for trusted, status in ((False, 404), (True, 503)):
        budget = Settings(
            database_url=settings.database_url, queue_budget=0.05, trust_request_start=trusted
        )
        client = falcon.testing.TestClient(served_app(create_app(budget, engine), budget))
        answer = client.simulate_get("/api/v1/learners/1", headers=old, extras=waited(0.0))
        assert answer.status_code == status


NOW = 1_700_000_000.75


@pytest.mark.parametrize(
    ("header", "age"),
    [
        ("t=1700000000.250", 0.5),  # seconds, nginx's t=${msec}
        ("1700000000250", 0.5),  # milliseconds
        ("t=1700000000250000", 0.5),  # microseconds
        ("t=1700000001.0", None),  # from the future: never sheds by itself
        ("t=1690000000.0", None),  # hours old: a clock or a forgery, not a queue
        ("t=", None),
        ("soon", None),
        (None, None),
    ],
)
def test_request_start_stamps(header, age):
    result = request_start_age(header, NOW)
    assert result == (None if age is None else pytest.approx(age, abs=1e-3))
