"""What an exam-period archive holds, read from the database in one transaction.

The period's own rows (its exams, registrations with their exams and deferrals, attendance,
payments), the configuration they were priced and documented with (modalities with their
fees, centres, the certificate signatory) and the rows its documents print (the learners
registered, the elements examined). With these the archive is self-contained: notices,
attendance sheets and certificates can be rebuilt from it without the live database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, Table, func, inspect, or_, select, text

from app.store.schema import element, learner
from app.store.schema_exams import (
    certificate_signatory,
    exam,
    exam_allowed_modality,
    exam_attendance,
    exam_centre,
    exam_modality,
    exam_payment,
    exam_period,
    exam_registration,
    exam_registration_exam,
)
from platform_tools.exam_period.archive_format import table_file

# Statuses of a registration that staff or the learner may still move: an archive taken
# while some remain freezes them half-way, so it needs --force and a reason.
IN_PROGRESS = ("draft", "submitted", "verified")
_BATCH = 5_000


def period_queries(period_id: int) -> dict[str, Select[Any]]:
    """One query per archived table, each in primary-key order (the archive is reproducible)."""
    registrations = select(exam_registration.c.id).where(exam_registration.c.period_id == period_id)
    # The exams of the period, and those its registrations name in another period (deferrals).
    exam_ids = select(exam.c.id).where(
        or_(
            exam.c.period_id == period_id,
            exam.c.id.in_(
                select(exam_registration_exam.c.exam_id).where(
                    exam_registration_exam.c.registration_id.in_(registrations)
                )
            ),
        )
    )
    return {
        "exam_period": select(exam_period).where(exam_period.c.id == period_id),
        "exam": select(exam).where(exam.c.id.in_(exam_ids)).order_by(exam.c.id),
        "exam_allowed_modality": select(exam_allowed_modality)
        .where(exam_allowed_modality.c.exam_id.in_(exam_ids))
        .order_by(exam_allowed_modality.c.exam_id, exam_allowed_modality.c.modality_id),
        "exam_registration": select(exam_registration)
        .where(exam_registration.c.period_id == period_id)
        .order_by(exam_registration.c.id),
        "exam_registration_exam": select(exam_registration_exam)
        .where(exam_registration_exam.c.registration_id.in_(registrations))
        .order_by(exam_registration_exam.c.registration_id, exam_registration_exam.c.exam_id),
        "exam_attendance": select(exam_attendance)
        .where(exam_attendance.c.registration_id.in_(registrations))
        .order_by(exam_attendance.c.registration_id, exam_attendance.c.exam_id),
        "exam_payment": select(exam_payment)
        .where(exam_payment.c.registration_id.in_(registrations))
        .order_by(exam_payment.c.id),
        "exam_modality": select(exam_modality).order_by(exam_modality.c.id),
        "exam_centre": select(exam_centre).order_by(exam_centre.c.id),
        "certificate_signatory": select(certificate_signatory),
        "learner": select(learner)
        .where(
            learner.c.id.in_(
                select(exam_registration.c.learner_id).where(
                    exam_registration.c.period_id == period_id
                )
            )
        )
        .order_by(learner.c.id),
        "element": select(element)
        .where(element.c.id.in_(select(exam.c.element_id).where(exam.c.id.in_(exam_ids))))
        .order_by(element.c.id),
    }


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        exam_period,
        exam,
        exam_allowed_modality,
        exam_registration,
        exam_registration_exam,
        exam_attendance,
        exam_payment,
        exam_modality,
        exam_centre,
        certificate_signatory,
        learner,
        element,
    )
}


def json_value(value: Any) -> Any:
    """A column value as JSON: instants and dates in ISO 8601, the rest as they are."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _rows(conn: Connection, query: Select[Any]) -> Iterator[dict[str, Any]]:
    # Per statement: Connection.execution_options would change the connection itself.
    result = conn.execute(query.execution_options(yield_per=_BATCH)).mappings()
    for row in result:
        yield {key: json_value(value) for key, value in row.items()}


def export_period(conn: Connection, period_id: int, directory: Path) -> dict[str, int]:
    """Write each table's rows as JSON lines under `directory`; the row count per table.

    Files are fsynced: the manifest that names them is written only after them.
    """
    counts = {}
    for table, query in period_queries(period_id).items():
        path = directory / table_file(table)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = 0
        with path.open("w", encoding="utf-8") as stream:
            for row in _rows(conn, query):
                stream.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")
                rows += 1
            stream.flush()
            os.fsync(stream.fileno())
        counts[table] = rows
    return counts


def in_progress_counts(conn: Connection, period_id: int) -> dict[str, int]:
    """Registrations of the period still moving, by status (only the statuses present)."""
    found = conn.execute(
        select(exam_registration.c.status, func.count())
        .where(
            exam_registration.c.period_id == period_id,
            exam_registration.c.status.in_(IN_PROGRESS),
        )
        .group_by(exam_registration.c.status)
    ).all()
    return {status: int(n) for status, n in sorted(found)}


def schema_revision(conn: Connection) -> str | None:
    """The database's Alembic revision, or None before the first migration."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
