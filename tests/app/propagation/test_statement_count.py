"""Propagation is set-based: 10 and 10,000 participations cost the same number of statements."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, insert

from app.propagation.propagate import propagate
from app.propagation.scope import Scope
from app.services import activities, curricula, enrolments
from app.store.engine import write_transaction
from app.store.schema import learner
from tests.app.conftest import reset
from tests.app.fixtures import YEAR, curriculum


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """Every statement sent to the database while the block runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def school_of(engine: Engine, size: int) -> dict[str, Any]:
    """A step with one lecture (capacity half the learners) and `size` learners to enrol."""
    with write_transaction(engine) as conn:
        ids = curricula.import_curriculum(conn, curriculum())
        activities.create_activity(conn, lecture(ids, capacity=size // 2))
        conn.execute(
            insert(learner),
            [
                {
                    "external_id": f"L{i}",
                    "first_name": "a",
                    "last_name": "b",
                    "email": f"l{i}@example.org",
                }
                for i in range(size)
            ],
        )
    return ids


def lecture(ids: dict[str, Any], capacity: int | None = None) -> dict[str, Any]:
    return {
        "element_id": ids["elements"]["LINFO-UE11"],
        "academic_year": YEAR,
        "kind": "lecture",
        "starts_at": "2026-09-10T08:00:00Z",
        "ends_at": "2026-09-10T10:00:00Z",
        "capacity": capacity,
    }


def measure(engine: Engine, size: int) -> dict[str, int]:
    """Statements per use case for a school of `size` learners."""
    ids = school_of(engine, size)
    step = ids["steps"]["LINFO-L1"]
    counts: dict[str, int] = {}

    def count(name: str, work: Callable[[Connection], Any]) -> Any:
        with counting(engine) as statements, write_transaction(engine) as conn:
            result = work(conn)
        counts[name] = len(statements)
        return result

    batch = [
        {
            "learner_id": i + 1,
            "step_id": step,
            "academic_year": YEAR,
            "start_date": "2026-09-01",
            "groups": [ids["groups"]["LINFO-L1/TD-A"]],
        }
        for i in range(size)
    ]
    created = count("enrolment batch", lambda conn: enrolments.create_enrolments(conn, batch))
    assert created["participations_created"] == size
    assert created["waitlisted"] == size - size // 2
    new = count("activity create", lambda conn: activities.create_activity(conn, lecture(ids)))
    assert new["participations_created"] == size
    count("capacity raised", lambda conn: activities.update_activity(conn, 1, {"capacity": size}))
    removed = count(
        "activity group change",
        lambda conn: activities.update_activity(
            conn, new["id"], {"group_id": ids["groups"]["LINFO-L1/TD-B"]}
        ),
    )
    assert removed["participations_removed"] == size
    count("enrolment cancel", lambda conn: enrolments.cancel_enrolment(conn, created["ids"][0]))
    # Propagation alone, for every enrolment at once and for every activity at once.
    count(
        "propagation, enrolments",
        lambda conn: propagate(conn, Scope("enrolment_update", enrolment_ids=created["ids"])),
    )
    count(
        "propagation, activities",
        lambda conn: propagate(conn, Scope("reconcile", activity_ids=[1, new["id"]])),
    )
    return counts


@pytest.mark.slow
def test_statement_count_does_not_grow_with_participations(engine):
    small = measure(engine, 10)
    reset(engine)
    large = measure(engine, 10_000)
    print(f"\n{engine.dialect.name} statements, 10 vs 10,000 participations: {small} / {large}")
    assert small == large
    # The transaction's own BEGIN (SQLite) and COMMIT are not the propagation's.
    for name in ("propagation, enrolments", "propagation, activities"):
        assert large[name] - (engine.dialect.name == "sqlite") <= 10, large
