"""The validator's facts query under a surge of requests, on PostgreSQL with statistics that lag
behind it (autovacuum had not analysed the tables since they were small): the plan must never
pair rows, each request with each enrolment of its step, as it did in the furlough load test
(27 to 75 s a run). Measured by the rows each step of the executed plan yielded:
none may yield more than the largest table the query reads holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text

from app.services.employer_requests import submit_request
from app.services.request_validator import validate_submitted
from app.store.engine import write_transaction
from app.store.schema import enrolment, learner
from app.store.schema_employers import employer_request, request_employee
from tests.app.employers.builders import employees, request_body, rule, sign_up
from tests.app.fixtures import School, post

TABLES = (employer_request, request_employee, learner, enrolment)


def _queue(engine: Engine, step: int, requests: int, prefix: str) -> None:
    with write_transaction(engine) as conn:
        for i in range(requests):
            people = employees(5, 7, f"{prefix}{i}-")
            submit_request(conn, 1, request_body(step, people, f"{prefix}{i}"))


def _plan_rows(node: dict[str, Any]) -> Iterator[int]:
    yield node["Actual Rows"] * node["Actual Loops"]
    for child in node.get("Plans", []):
        yield from _plan_rows(child)


@contextmanager
def _stale_statistics(engine: Engine) -> Iterator[None]:
    """The tables analysed now, and autovacuum kept from analysing them again."""
    names = ", ".join(table.name for table in TABLES)
    with engine.begin() as conn:
        conn.execute(text(f"ANALYZE {names}"))
        for table in TABLES:
            conn.execute(text(f"ALTER TABLE {table.name} SET (autovacuum_enabled = false)"))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for table in TABLES:
                conn.execute(text(f"ALTER TABLE {table.name} RESET (autovacuum_enabled)"))


@pytest.mark.postgres
@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_facts_of_a_run_never_pair_requests_with_enrolments(client, engine, staff):
    school = School(client, staff)
    post(client, "/api/v1/validation-rules", rule(), staff)
    sign_up(client, 1)
    for _ in range(20):
        school.enrol()
    with _stale_statistics(engine):
        # The surge: 300 requests approved (1,500 employees enrolled in the step), 100 more.
        _queue(engine, school.step, 300, "A")
        with write_transaction(engine) as conn:
            assert validate_submitted(conn, 10_000).approved == 300
        _queue(engine, school.step, 100, "B")
        facts: list[tuple[str, Any]] = []

        def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
            # The facts query: the claimed requests with their employees ranked.
            if statement.startswith("SELECT employer_request.id") and "row_number()" in statement:
                facts.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", record)
        try:
            with write_transaction(engine) as conn:
                assert validate_submitted(conn, 10_000).approved == 100
        finally:
            event.remove(engine, "before_cursor_execute", record)
        ((statement, parameters),) = facts
        with engine.connect() as conn:
            plan = conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
            ).scalar()
            largest = max(
                conn.execute(select(func.count()).select_from(table)).scalar() for table in TABLES
            )
    plan = json.loads(plan) if isinstance(plan, str) else plan
    rows = max(_plan_rows(plan[0]["Plan"]))
    assert rows <= largest, f"a step of the plan yielded {rows} rows, the largest table {largest}"
