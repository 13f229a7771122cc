"""Idempotency-Key: a replay returns the first answer and creates nothing twice."""

from __future__ import annotations

from sqlalchemy import func, select, update

from app.store.schema import enrolment, idempotency_record
from tests.app.fixtures import YEAR, School


def test_replay_returns_the_first_answer_and_creates_nothing(client, engine, staff):
    school = School(client, staff)
    body = {
        "learner_id": school.learner(),
        "step_id": school.step,
        "academic_year": YEAR,
        "start_date": "2026-09-01",
    }
    headers = {**staff, "Idempotency-Key": "enrol-42"}
    first = client.simulate_post("/api/v1/enrolments", json=body, headers=headers)
    replay = client.simulate_post("/api/v1/enrolments", json=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json == first.json
    assert replay.headers["idempotent-replayed"] == "true"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(enrolment)).scalar_one() == 1


def test_same_key_with_another_body_is_422(client, staff):
    headers = {**staff, "Idempotency-Key": "k"}
    body = {"external_id": "A", "first_name": "a", "last_name": "b", "email": "a@b.org"}
    assert client.simulate_post("/api/v1/learners", json=body, headers=headers).status_code == 201
    other = client.simulate_post(
        "/api/v1/learners", json={**body, "external_id": "B"}, headers=headers
    )
    assert other.status_code == 422
    assert other.json["errors"][0]["field"] == "Idempotency-Key"


def test_replay_while_the_first_runs_is_409(client, engine, staff):
    headers = {**staff, "Idempotency-Key": "slow"}
    body = {"external_id": "A", "first_name": "a", "last_name": "b", "email": "a@b.org"}
    client.simulate_post("/api/v1/learners", json=body, headers=headers)
    with engine.begin() as conn:  # as if the first request were still at work
        conn.execute(update(idempotency_record).values(state="running", response_status=None))
    assert client.simulate_post("/api/v1/learners", json=body, headers=headers).status_code == 409


def test_refused_request_is_replayed_as_refused(client, staff):
    headers = {**staff, "Idempotency-Key": "bad"}
    body = {"external_id": "A", "first_name": "a", "last_name": "b", "email": "not-an-email"}
    first = client.simulate_post("/api/v1/learners", json=body, headers=headers)
    again = client.simulate_post("/api/v1/learners", json=body, headers=headers)
    assert first.status_code == again.status_code == 422
    assert again.json == first.json


def test_keys_belong_to_their_token(client, engine, staff):
    from tests.app.conftest import token_for

    other = token_for(engine, "staff")
    body = {"external_id": "A", "first_name": "a", "last_name": "b", "email": "a@b.org"}
    assert (
        client.simulate_post(
            "/api/v1/learners", json=body, headers={**staff, "Idempotency-Key": "k"}
        ).status_code
        == 201
    )
    second = client.simulate_post(
        "/api/v1/learners",
        json={**body, "external_id": "B"},
        headers={**other, "Idempotency-Key": "k"},
    )
    assert second.status_code == 201
