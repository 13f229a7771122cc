"""Attendance: staff record, from the signed sheet, who sat an exam; certificates need it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from app import clock
from app.domain.errors import Conflict, FieldError, NotFound, collect
from app.services.exam_config import ensure_writable, load_period
from app.store.json_rows import id_rows
from app.store.schema_exams import (
    exam,
    exam_attendance,
    exam_registration,
    exam_registration_exam,
)
from app.store.upsert import insert_for


def record_attendance(conn: Connection, exam_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Mark final registrations sitting the exam as present; recording one twice is harmless.

    422 naming `present[i]` for a registration that is not final or does not sit this exam;
    409 before the exam has started, or when its period is archived.
    """
    row = conn.execute(select(exam).where(exam.c.id == exam_id)).mappings().first()
    if row is None:
        raise NotFound.of("exam_id", f"no exam {exam_id}")
    ensure_writable(load_period(conn, row["period_id"], share=True))
    if row["starts_at"] > clock.now():
        raise Conflict.of("exam_id", f"exam {exam_id} has not started yet")
    present: list[int] = body["present"]
    wanted = id_rows(conn.dialect.name, "wanted", sorted(set(present)))
    sitting = set(
        conn.execute(
            select(exam_registration.c.id)
            .join(
                exam_registration_exam,
                exam_registration_exam.c.registration_id == exam_registration.c.id,
            )
            .where(
                exam_registration.c.id.in_(select(wanted.c.id)),
                exam_registration.c.status == "final",
                exam_registration_exam.c.exam_id == exam_id,
                exam_registration_exam.c.deferred.is_(False),
            )
        ).scalars()
    )
    collect(
        [
            FieldError(
                f"present[{i}]", f"registration {r} is not a final one sitting exam {exam_id}"
            )
            for i, r in enumerate(present)
            if r not in sitting
        ]
    )
    now = clock.now()
    rows = [{"registration_id": r, "exam_id": exam_id, "recorded_at": now} for r in sorted(sitting)]
    if rows:
        conn.execute(insert_for(conn, exam_attendance).values(rows).on_conflict_do_nothing())
    return {"exam_id": exam_id, "present": sorted(sitting)}
