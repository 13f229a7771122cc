"""Settling seats after an enrolment, on PostgreSQL with statistics taken before a wave of
enrolments and the plan a prepared statement reuses (psycopg prepares a statement from its
fifth execution, and the server may then plan it once for any value): "does anyone wait
here?" must stay a lookup in the partial index of those who wait. With the waitlisted status
bound as a parameter, that index could not serve the plan, which then read every participant
of the activity once per participant: 0.4 s for each single enrolment in the start-of-year
load test, under the step's lock. Checked on the executed plan: it reads who waits from that
index, and none of its steps reads more rows than there are participations."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, insert, select

from app.services import activities, curricula, enrolments
from app.store.engine import write_transaction
from app.store.schema import activity, enrolment, learner, participation
from tests.app.fixtures import YEAR, curriculum
from tests.app.plans import executed_plan, index_names, rows_read, sent, stale_statistics
from tests.app.propagation.test_statement_count import lecture

SIZE = 400


def _enrol(engine, ids: dict[str, Any], learners: range) -> None:
    batch = [
        {
            "learner_id": i,
            "step_id": ids["steps"]["LINFO-L1"],
            "academic_year": YEAR,
            "start_date": "2026-09-01",
            "groups": [ids["groups"]["LINFO-L1/TD-A"]],
        }
        for i in learners
    ]
    with write_transaction(engine) as conn:
        enrolments.create_enrolments(conn, batch)


@pytest.mark.postgres
@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_an_enrolment_settles_seats_without_reading_each_participant_per_participant(engine):
    with write_transaction(engine) as conn:
        ids = curricula.import_curriculum(conn, curriculum())
        # Seats for everyone, in several activities: nobody waits, as in the load test.
        for _ in range(4):
            activities.create_activity(conn, lecture(ids, capacity=2 * SIZE))
        people = [
            {"external_id": f"L{i}", "first_name": "a", "last_name": "b", "email": f"{i}@x.org"}
            for i in range(SIZE + 1)
        ]
        conn.execute(insert(learner), people)
    _enrol(engine, ids, range(1, 6))
    with stale_statistics(engine, (participation, activity, enrolment, learner)):
        _enrol(engine, ids, range(6, SIZE + 1))
        statement, parameters = sent(
            engine,
            lambda statement: statement.startswith("UPDATE participation SET status=CASE"),
            lambda: _enrol(engine, ids, range(SIZE + 1, SIZE + 2)),
        )
        plan = executed_plan(engine, statement, parameters, generic=True)
    with engine.connect() as conn:
        participations = conn.execute(select(func.count()).select_from(participation)).scalar()
    assert participations == 4 * (SIZE + 1)
    assert "ix_participation_waitlisted" in set(index_names(plan)), "who waits: the partial index"
    rows = max(rows_read(plan))
    assert rows <= participations, f"a step of the plan read {rows} rows of {participations}"
