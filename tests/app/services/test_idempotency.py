"""Idempotency records: expiry and purge, a failed commit, and one taker for a stale claim."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from app import clock
from app.services import idempotency
from app.store import idempotency as records
from app.store.request_connection import RequestConnection
from app.store.schema import activity, idempotency_record
from tests.app.fixtures import YEAR, School

LEARNER = {"external_id": "A", "first_name": "a", "last_name": "b", "email": "a@b.org"}


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_key_expires_after_its_ttl_and_is_purged(client, engine, staff):
    headers = {**staff, "Idempotency-Key": "k"}
    assert (
        client.simulate_post("/api/v1/learners", json=LEARNER, headers=headers).status_code == 201
    )
    db = RequestConnection(engine)
    assert idempotency.purge_expired(db, apply=False) == 0
    clock.set_now(clock.now() + idempotency.TTL + timedelta(seconds=1))
    assert idempotency.purge_expired(db, apply=False) == 1
    # An expired key is a new key: another body runs instead of being refused.
    other = {**LEARNER, "external_id": "B"}
    assert client.simulate_post("/api/v1/learners", json=other, headers=headers).status_code == 201
    clock.set_now(clock.now() + idempotency.TTL + timedelta(seconds=1))
    assert idempotency.purge_expired(db) == 1
    assert count(engine, idempotency_record) == 0
    db.close()


def test_a_failed_commit_releases_the_key_so_the_retry_runs(client, engine, staff):
    headers = {**staff, "Idempotency-Key": "commit-fails"}
    failures = []

    def fail_once(conn) -> None:
        # Fails the work's commit (the third transaction: token read, claim, work).
        if conn.in_transaction() and not failures and _writes_learner(conn):
            failures.append(True)
            raise RuntimeError("the disk is full")

    event.listen(engine, "commit", fail_once)
    try:
        first = client.simulate_post("/api/v1/learners", json=LEARNER, headers=headers)
    finally:
        event.remove(engine, "commit", fail_once)
    assert failures and first.status_code == 500
    retry = client.simulate_post("/api/v1/learners", json=LEARNER, headers=headers)
    assert retry.status_code == 201 and "idempotent-replayed" not in retry.headers


def _writes_learner(conn) -> bool:
    from app.store.schema import learner

    return conn.execute(select(func.count()).select_from(learner)).scalar_one() > 0


@pytest.mark.postgres
def test_of_two_takers_of_a_stale_claim_only_one_wins(postgres_url):
    from app.settings import Settings
    from app.store.engine import build_engine
    from tests.app.conftest import reset, token_for

    engine = build_engine(Settings(database_url=postgres_url))
    reset(engine)
    token_for(engine, "staff")
    token_id = 1
    created = clock.now() - idempotency.STALE_AFTER - timedelta(seconds=1)
    with engine.begin() as conn:
        assert records.claim(conn, token_id, "k", "digest", created)
    first, second = engine.connect(), engine.connect()
    try:
        first.begin()
        assert records.take_over(first, token_id, "k", created, clock.now())
        outcome: list[bool] = []
        second.begin()
        waiter = threading.Thread(
            target=lambda: outcome.append(
                records.take_over(second, token_id, "k", created, clock.now())
            )
        )
        waiter.start()
        waiter.join(1)
        assert waiter.is_alive(), "the second taker waits for the first one's row lock"
        first.commit()
        waiter.join(10)
        assert outcome == [False]
        second.rollback()
    finally:
        first.close()
        second.close()
        engine.dispose()


@pytest.mark.postgres
def test_concurrent_retries_of_a_dead_request_run_the_work_once(postgres_url):
    import falcon.testing

    from app.http.app import create_app
    from app.settings import Settings
    from app.store.engine import build_engine
    from tests.app.conftest import reset, token_for

    settings = Settings(database_url=postgres_url, threads=16)
    engine = build_engine(settings)
    reset(engine)
    client = falcon.testing.TestClient(create_app(settings, engine))
    staff = token_for(engine, "staff")
    school = School(client, staff)
    body = {
        "element_id": school.element["LINFO-UE11"],
        "academic_year": YEAR,
        "kind": "lecture",
        "starts_at": "2026-09-10T08:00:00Z",
        "ends_at": "2026-09-10T10:00:00Z",
    }
    headers = {**staff, "Idempotency-Key": "crashed"}
    before = count(engine, activity)
    # The first attempt died after its claim: the claim is stale, its work never committed.
    first = client.simulate_post("/api/v1/activities", json=body, headers=headers)
    assert first.status_code == 201
    with engine.begin() as conn:
        conn.execute(activity.delete().where(activity.c.id == first.json["id"]))
        conn.execute(
            update(idempotency_record).values(
                state="running",
                response_status=None,
                response_body=None,
                created_at=clock.now() - idempotency.STALE_AFTER - timedelta(seconds=1),
            )
        )
    barrier = threading.Barrier(8)

    def retry(_: int):
        barrier.wait()
        return client.simulate_post("/api/v1/activities", json=body, headers=headers)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(retry, range(8)))
    ran = [a for a in answers if a.status_code == 201 and "idempotent-replayed" not in a.headers]
    assert len(ran) == 1, [a.status_code for a in answers]
    assert {a.status_code for a in answers} <= {201, 409}
    assert count(engine, activity) == before + 1
    engine.dispose()
