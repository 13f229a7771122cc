"""Concurrent registrations, on SQLite and PostgreSQL: a centre's last seats are never given
twice, and a learner racing themself gets one registration for the period."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from app.domain.errors import Conflict, InvalidInput
from app.services.exam_registrations import create_registration
from app.store.engine import read_transaction, write_transaction
from app.store.schema_exams import exam_registration
from tests.app.exam_fixtures import ExamSchool

WRITERS = 10


def _race(engine, bodies):
    def register(body):
        try:
            with write_transaction(engine) as conn:
                return create_registration(conn, body)["id"]
        except (Conflict, InvalidInput) as exc:
            return exc

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return list(pool.map(register, bodies))


def _body(school: ExamSchool, learner_id: int, **extra):
    return {
        "learner_id": learner_id,
        "period_id": school.period,
        "modality_id": school.modality["CAMPUS"],
        "centre_id": None,
        "exam_ids": school.exams[:1],
        "deferred_exam_ids": [],
        **extra,
    }


def test_parallel_registrations_never_fill_a_centre_beyond_its_capacity(client, engine):
    school = ExamSchool(client, engine, units=1)
    learners = [school.learner() for _ in range(WRITERS)]
    abroad = {"modality_id": school.modality["ABROAD"], "centre_id": school.centre["DAKAR"]}
    outcomes = _race(engine, [_body(school, learner_id, **abroad) for learner_id in learners])
    placed = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if not isinstance(o, int)]
    assert len(placed) == 2  # Dakar seats 2
    assert all(isinstance(o, InvalidInput) and o.errors[0].field == "centre_id" for o in refused)
    with read_transaction(engine) as conn:
        assert conn.execute(select(func.count()).select_from(exam_registration)).scalar() == 2


def test_a_learner_registering_twice_at_once_gets_one_registration(client, engine):
    school = ExamSchool(client, engine, units=1)
    learner_id = school.learner()
    outcomes = _race(engine, [_body(school, learner_id) for _ in range(WRITERS)])
    assert sum(isinstance(o, int) for o in outcomes) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, int))
    with read_transaction(engine) as conn:
        assert conn.execute(select(func.count()).select_from(exam_registration)).scalar() == 1
