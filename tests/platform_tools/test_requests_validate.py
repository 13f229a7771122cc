"""`platform-tools requests validate`: the validator from the ops CLI, on both engines."""

from __future__ import annotations

import json
import logging

import falcon.testing
import pytest
import structlog
from sqlalchemy import select
from typer.testing import CliRunner

from app.http.app import create_app
from app.store.schema_employers import employer_request
from platform_tools.cli import app as cli
from tests.app.conftest import (
    engine,
    frozen_clock,
    postgres_url,
    settings,
    sqlite_template,
    token_for,
)
from tests.app.employers.builders import employees, request_body, rule, sign_up
from tests.app.fixtures import School, post

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
