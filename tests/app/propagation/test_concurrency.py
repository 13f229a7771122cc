"""Concurrent writers in one step: seats are never given twice and no participation is missed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, insert, select

from app.propagation.reconcile import reconcile
from app.services import activities, curricula, enrolments
from app.store.engine import read_transaction, write_transaction
from app.store.schema import learner, participation
from tests.app.fixtures import YEAR, curriculum

WRITERS = 16


def test_parallel_enrolments_and_new_activities_keep_the_invariant(engine):
    with write_transaction(engine) as conn:
        ids = curricula.import_curriculum(conn, curriculum())
        lab = activities.create_activity(
            conn,
            {
                "element_id": ids["elements"]["LINFO-UE11"],
                "academic_year": YEAR,
                "kind": "practical",
                "starts_at": "2026-09-10T08:00:00Z",
                "ends_at": "2026-09-10T10:00:00Z",
                "capacity": 3,
            },
        )["id"]
        conn.execute(
            insert(learner),
            [
                {
                    "external_id": f"C{i}",
                    "first_name": "a",
                    "last_name": "b",
                    "email": f"c{i}@example.org",
                }
                for i in range(WRITERS)
            ],
        )
    step = ids["steps"]["LINFO-L1"]

    def enrol(i: int) -> None:
        with write_transaction(engine) as conn:
            enrolments.create_enrolment(
                conn,
                {
                    "learner_id": i + 1,
                    "step_id": step,
                    "academic_year": YEAR,
                    "start_date": "2026-09-01",
                },
            )

    def new_activity(i: int) -> None:
        with write_transaction(engine) as conn:
            activities.create_activity(
                conn,
                {
                    "element_id": ids["elements"]["LINFO-UE12"],
                    "academic_year": YEAR,
                    "kind": "lecture",
                    "starts_at": f"2026-09-{11 + i:02d}T08:00:00Z",
                    "ends_at": f"2026-09-{11 + i:02d}T10:00:00Z",
                },
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(enrol, i) for i in range(WRITERS)] + [
            pool.submit(new_activity, i) for i in range(4)
        ]
        for future in futures:
            future.result()

    with read_transaction(engine) as conn:
        seated = conn.execute(
            select(func.count())
            .select_from(participation)
            .where(participation.c.activity_id == lab, participation.c.status == "active")
        ).scalar_one()
        waiting = conn.execute(
            select(func.count())
            .select_from(participation)
            .where(participation.c.activity_id == lab, participation.c.status == "waitlisted")
        ).scalar_one()
        drift = reconcile(conn)
    assert (seated, waiting) == (3, WRITERS - 3)
    assert (drift.missing, drift.extra) == (0, 0)
