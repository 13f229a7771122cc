"""The validator's facts query under a surge of requests, on PostgreSQL with statistics that lag
behind it (autovacuum had not analysed the tables since they were small): the plan must never
pair rows, each request with each enrolment of its step, as it did in the furlough load test
(27 to 75 s a run). Measured by the rows each step of the executed plan yielded: none may
yield more than the largest table the query reads holds."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from app.services.request_validator import validate_submitted
from app.store.engine import write_transaction
from app.store.schema import enrolment, learner
from app.store.schema_employers import employer_request, request_employee
from tests.app.employers.builders import rule, sign_up
from tests.app.employers.test_validator import _queue
from tests.app.fixtures import School, post
from tests.app.plans import executed_plan, rows_read, sent, stale_statistics

TABLES = (employer_request, request_employee, learner, enrolment)


def _validate(engine: Engine, approved: int) -> None:
    with write_transaction(engine) as conn:
        assert validate_submitted(conn, 10_000).approved == approved


def _is_facts_query(statement: str) -> bool:
    """The claimed requests with their employees ranked."""
    return statement.startswith("SELECT employer_request.id") and "row_number()" in statement


@pytest.mark.postgres
@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_facts_of_a_run_never_pair_requests_with_enrolments(client, engine, staff):
    school = School(client, staff)
    post(client, "/api/v1/validation-rules", rule(), staff)
    sign_up(client, 1)
    for _ in range(20):
        school.enrol()
    with stale_statistics(engine, TABLES):
        # The surge: 300 requests approved (600 employees enrolled in the step), 100 more.
        _queue(engine, 300, "A")
        _validate(engine, 300)
        _queue(engine, 100, "B")
        statement, parameters = sent(engine, _is_facts_query, lambda: _validate(engine, 100))
        plan = executed_plan(engine, statement, parameters, generic=False)
    with engine.connect() as conn:
        largest = max(
            conn.execute(select(func.count()).select_from(table)).scalar() for table in TABLES
        )
    rows = max(rows_read(plan))
    assert rows <= largest, f"a step of the plan read {rows} rows, the largest table {largest}"
