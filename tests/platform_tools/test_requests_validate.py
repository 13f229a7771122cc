"""`platform-tools requests validate`: the validator from the ops CLI, on both engines."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, date, datetime

import falcon.testing
import pytest
import structlog
from sqlalchemy import func, insert, select, text
from typer.testing import CliRunner

from app.http.app import create_app
from app.settings import Settings
from app.store.engine import build_engine
from app.store.schema import enrolment
from app.store.schema_employers import employer_request, outbox_message
from platform_tools.cli import app as cli
from tests.app.conftest import (
    engine,
    frozen_clock,
    postgres_url,
    reset,
    settings,
    sqlite_template,
    token_for,
)
from tests.app.employers.builders import employees, request_body, rule, sign_up
from tests.app.fixtures import YEAR, School, post

__all__ = ["engine", "frozen_clock", "postgres_url", "settings", "sqlite_template"]


@pytest.fixture(autouse=True)
def restore_logging():
    """A CLI run points the logs at its runner's stderr, closed afterwards: start from, and
    leave, the defaults, whatever ran before."""
    structlog.reset_defaults()
    logging.getLogger().handlers[:] = []
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers[:] = []


def _validate(settings, *args: str):
    return CliRunner().invoke(
        cli,
        ["requests", "validate", "--json", *args],
        env={"DATABASE_URL": settings.database_url},
    )


def test_the_cli_judges_oldest_first_up_to_the_limit_in_batches(settings, engine, tmp_path):
    client = falcon.testing.TestClient(create_app(settings, engine))
    staff = token_for(engine, "staff")
    school = School(client, staff)
    post(client, "/api/v1/validation-rules", rule(), staff)
    org = sign_up(client, 1)
    for i in range(5):
        post(
            client,
            "/api/v1/requests",
            request_body(school.step, employees(2, 5, f"P{i}-"), f"R{i}"),
            org["headers"],
        )
    prom = tmp_path / "campus_requests_validate.prom"
    first = _validate(settings, "--limit", "3", "--batch", "2", "--metrics-file", str(prom))
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"approved": 3, "referred": 0, "enrolments": 6, "runs": 2}
    assert 'campus_requests_validate_last_run_requests{outcome="approved"} 3.0' in prom.read_text()
    with engine.connect() as conn:
        statuses = (
            conn.execute(select(employer_request.c.status).order_by(employer_request.c.id))
            .scalars()
            .all()
        )
    assert statuses == ["approved"] * 3 + ["submitted"] * 2
    rest = _validate(settings)
    assert json.loads(rest.stdout)["approved"] == 2
    assert json.loads(_validate(settings).stdout)["approved"] == 0


def test_a_missing_database_file_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["requests", "validate"],
        env={"DATABASE_URL": f"sqlite:///{tmp_path}/absent.db"},
    )
    assert result.exit_code == 2


def _requests_of_organisations(client, staff, organisations: int, each: int) -> School:
    school = School(client, staff)
    post(client, "/api/v1/validation-rules", rule(), staff)
    for seed in range(1, organisations + 1):
        org = sign_up(client, seed)
        for i in range(each):
            body = request_body(school.step, employees(1 + i % 2, 5, f"O{seed}-{i}-"), f"R{i}")
            post(client, "/api/v1/requests", body, org["headers"])
    return school


def _statuses(engine) -> list[str]:
    with engine.connect() as conn:
        query = select(employer_request.c.status).order_by(employer_request.c.id)
        return conn.execute(query).scalars().all()


def test_workers_judge_every_request_once_between_them(settings, engine):
    client = falcon.testing.TestClient(create_app(settings, engine))
    _requests_of_organisations(client, token_for(engine, "staff"), organisations=4, each=5)

    done = _validate(settings, "--workers", "3", "--batch", "2")

    if engine.dialect.name == "sqlite":
        assert done.exit_code == 2, done.output
        assert "--workers: above 1 needs PostgreSQL" in done.stderr
        assert set(_statuses(engine)) == {"submitted"}
        return
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) | {"runs": 0} == {
        "approved": 20,
        "referred": 0,
        "enrolments": 4 * (1 + 2 + 1 + 2 + 1),
        "runs": 0,
    }
    assert _statuses(engine) == ["approved"] * 20
    with engine.connect() as conn:
        approvals = conn.execute(
            select(func.count()).where(outbox_message.c.kind == "request_approved")
        ).scalar()
    assert approvals == 20


@pytest.fixture
def on_postgres(postgres_url):
    """(settings, engine, API client) of an empty PostgreSQL database."""
    settings = Settings(database_url=postgres_url)
    engine = build_engine(settings)
    reset(engine)
    yield settings, engine, falcon.testing.TestClient(create_app(settings, engine))
    engine.dispose()


@pytest.mark.postgres
def test_workers_stop_at_the_limit_together(on_postgres):
    settings, engine, client = on_postgres
    _requests_of_organisations(client, token_for(engine, "staff"), organisations=3, each=4)

    done = _validate(settings, "--workers", "2", "--batch", "2", "--limit", "5")

    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["approved"] == 5
    assert _statuses(engine).count("approved") == 5


@pytest.mark.postgres
def test_a_run_that_loses_a_race_for_an_enrolment_is_judged_again(on_postgres):
    # Another validator enrols the same person in the same step and year and commits while this
    # run waits on its enrolment: the run fails whole, is run again, and refers the request.
    settings, engine, client = on_postgres
    staff = token_for(engine, "staff")
    school = School(client, staff)
    post(client, "/api/v1/validation-rules", rule(), staff)
    person = employees(1, 5, "RACE-")
    learner_id = post(
        client, "/api/v1/learners", {k: v for k, v in person[0].items() if k != "hours"}, staff
    )["id"]
    org = sign_up(client, 1)
    post(client, "/api/v1/requests", request_body(school.step, person, "R1"), org["headers"])

    other = engine.connect()
    other.begin()
    other.execute(
        insert(enrolment).values(
            learner_id=learner_id,
            step_id=school.step,
            academic_year=YEAR,
            start_date=date(2026, 9, 1),
            created_at=datetime.now(UTC),
        )
    )
    result = {}
    validator = threading.Thread(target=lambda: result.update(done=_validate(settings)))
    validator.start()
    try:
        _wait_for_a_lock_wait(engine)
    finally:
        other.commit()
        other.close()
    validator.join(timeout=60)

    done = result["done"]
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"approved": 0, "referred": 1, "enrolments": 0, "runs": 1}
    with engine.connect() as conn:
        reasons = conn.execute(select(employer_request.c.reasons)).scalar_one()
    assert "employee_already_enrolled" in reasons


def _wait_for_a_lock_wait(engine, seconds: float = 30) -> None:
    """Until a session of this database waits on a lock another holds."""
    deadline = time.monotonic() + seconds
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar()
            if waiting:
                return
            conn.rollback()
            time.sleep(0.05)
    raise AssertionError("the validator never waited on the other validator's enrolment")
