"""`exam-period open-next`: the period after an archived one, set up like it, ready to edit.

Period 1 is followed by 2, 2 by the resit period 3, and 3 by period 1 of the next academic
year. The new period is `planned` with the window given; it gets the source period's exams
(same elements, hours, rooms, seats and allowed modalities) moved by the shift between the two
windows' openings. Modalities with their fees, centres and the certificate signatory are the
platform's configuration, shared by every period: the new period uses them as they are, and
the command compares them with the ones the source period's archive recorded.

Everything happens in one transaction, rolled back on a dry run: the dry run checks exactly
what `--yes` would do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, select

from app.domain import values
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.services.exam_config import create_exam, create_period, load_period
from app.store.schema import element
from app.store.schema_exams import (
    certificate_signatory,
    exam,
    exam_allowed_modality,
    exam_centre,
    exam_modality,
    exam_period,
)
from platform_tools.exam_period.archive_show import CENTRE_FIELDS, MODALITY_FIELDS
from platform_tools.run.errors import ProblemFound, UsageError

OPTION_OF = {"opens_at": "--opens-at", "closes_at": "--closes-at"}


def next_period_of(academic_year: str, number: int) -> tuple[str, int]:
    """The period after (year, number): 1 → 2 → 3 → next year's 1."""
    if number < 3:
        return academic_year, number + 1
    first = int(academic_year[:4]) + 1
    return f"{first}-{first + 1}", 1


def live_configuration(conn: Connection) -> dict[str, Any]:
    """Modalities (with fees), centres and signatory as the live database has them; the same
    shape as an archive's (`archive_show.configuration`)."""
    modalities = conn.execute(select(exam_modality).order_by(exam_modality.c.id)).mappings().all()
    codes = {row["id"]: row["code"] for row in modalities}
    centres = conn.execute(select(exam_centre).order_by(exam_centre.c.id)).mappings().all()
    signatory = conn.execute(select(certificate_signatory)).mappings().first()
    return {
        "modalities": [{k: row[k] for k in MODALITY_FIELDS} for row in modalities],
        "centres": [
            {**{k: row[k] for k in CENTRE_FIELDS}, "modality": codes[row["modality_id"]]}
            for row in centres
        ],
        "signatory": {k: signatory[k] for k in ("name", "title")} if signatory else None,
    }


def _source_exams(conn: Connection, period_id: int) -> list[dict[str, Any]]:
    rows = (
        conn.execute(
            select(exam, element.c.code.label("element_code"))
            .join(element, element.c.id == exam.c.element_id)
            .where(exam.c.period_id == period_id)
            .order_by(exam.c.id)
        )
        .mappings()
        .all()
    )
    allowed: dict[int, list[int]] = {row["id"]: [] for row in rows}
    for link in conn.execute(
        select(exam_allowed_modality)
        .where(exam_allowed_modality.c.exam_id.in_(list(allowed)))
        .order_by(exam_allowed_modality.c.modality_id)
    ):
        allowed[link.exam_id].append(link.modality_id)
    return [{**row, "modality_ids": allowed[row["id"]]} for row in rows]


def open_next(
    engine: Engine, source_id: int, opens_at: str, closes_at: str, apply: bool
) -> dict[str, Any]:
    """Create (or, without `apply`, try and roll back) the period after `source_id`."""
    errors = []
    window = {}
    for key, value in (("opens_at", opens_at), ("closes_at", closes_at)):
        try:
            window[key] = values.instant(value, key)
        except InvalidInput:
            errors.append(OPTION_OF[key])
    if errors:
        raise UsageError("expected an ISO 8601 time with its UTC offset", errors[0])
    with engine.connect().execution_options(writes=True) as conn:
        transaction = conn.begin()
        try:
            result = _open(conn, source_id, opens_at, closes_at, window)
            if apply:
                transaction.commit()
            else:
                transaction.rollback()
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
    result["applied"] = apply
    return result


def _open(
    conn: Connection, source_id: int, opens_at: str, closes_at: str, window: dict[str, Any]
) -> dict[str, Any]:
    try:
        source = load_period(conn, source_id, "--from", lock=True)
    except NotFound as exc:
        raise UsageError(exc.errors[0].message, "--from") from None
    if source["status"] != "archived":
        raise ProblemFound(
            f"period {source_id} is {source['status']}: archive it first "
            f"(platform-tools exam-period archive --period {source_id} --yes)"
        )
    year, number = next_period_of(source["academic_year"], source["number"])
    existing = conn.execute(
        select(exam_period.c.id).where(
            exam_period.c.academic_year == year, exam_period.c.number == number
        )
    ).scalar()
    if existing is not None:
        raise ProblemFound(f"{year} already has exam period {number} (id {existing})")
    try:
        created = create_period(
            conn,
            {"academic_year": year, "number": number, "opens_at": opens_at, "closes_at": closes_at},
        )
    except (InvalidInput, Conflict) as exc:
        first = exc.errors[0]
        raise UsageError(first.message, OPTION_OF.get(first.field, first.field)) from None
    shift = window["opens_at"] - source["opens_at"]
    copied = []
    for item in _source_exams(conn, source_id):
        starts_at = item["starts_at"] + shift
        create_exam(
            conn,
            {
                "element_id": item["element_id"],
                "period_id": created["id"],
                "supervised_hours": item["supervised_hours"],
                "starts_at": starts_at.isoformat(),
                "room": item["room"],
                "capacity": item["capacity"],
                "modality_ids": item["modality_ids"],
            },
        )
        copied.append(
            {
                "element_code": item["element_code"],
                "supervised_hours": item["supervised_hours"],
                "starts_at": starts_at.isoformat(),
                "room": item["room"],
                "capacity": item["capacity"],
                "modality_ids": item["modality_ids"],
            }
        )
    return {
        "from": {
            "id": source_id,
            "academic_year": source["academic_year"],
            "number": source["number"],
        },
        "period": created,
        "exams": copied,
        "configuration": live_configuration(conn),
    }
