"""A batch-enrolment call costs the same few statements for 3 learners as for 300, whatever
groups, choices and exemptions they carry: the whole HTTP call, authentication included."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from app.store.engine import write_transaction
from app.store.schema import learner
from tests.app.fixtures import YEAR, School, post

MAX_STATEMENTS = 10


def _learners(engine, first: int, count: int) -> list[int]:
    with write_transaction(engine) as conn:
        return list(
            conn.execute(
                learner.insert().returning(learner.c.id),
                [
                    {
                        "external_id": f"B{first + i}",
                        "first_name": "Ada",
                        "last_name": "Lovelace",
                        "email": f"b{first + i}@example.org",
                    }
                    for i in range(count)
                ],
            ).scalars()
        )


def _statements_of_batch(client, engine, staff, school: School, ids: list[int]) -> list[str]:
    items: list[dict[str, Any]] = [
        {
            "learner_id": lid,
            "step_id": school.step,
            "academic_year": YEAR,
            "start_date": "2026-09-01",
            "groups": [school.group_a],
            "choices": [school.element["LINFO-EC111"]],
            "exemptions": [school.element["LINFO-UE12"]],
        }
        for lid in ids
    ]
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        # SQLite's BEGIN is sent as a statement (PostgreSQL's is not): transaction control,
        # not work, so both engines are counted alike.
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        created = post(client, "/api/v1/enrolments/batch", {"enrolments": items}, staff)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(created["ids"]) == len(ids)
    return statements


def test_a_batch_enrolment_call_is_a_constant_handful_of_statements(client, engine, staff):
    school = School(client, staff)
    school.activity("LINFO-UE11")
    school.activity("LINFO-EC111")
    small = _statements_of_batch(client, engine, staff, school, _learners(engine, 0, 3))
    large = _statements_of_batch(client, engine, staff, school, _learners(engine, 1000, 300))
    print(f"\n{engine.dialect.name}: {len(small)} statements for 3, {len(large)} for 300")
    for s in large:
        print("  ", " ".join(s.split())[:110])
    assert len(small) == len(large)
    assert len(large) <= MAX_STATEMENTS
