"""The data of the exam documents, read from the store in a fixed number of queries.

One document on request (a notice, a sheet, a certificate) or every document of a period in a
batch: the batch readers fetch the whole period in one query per kind of row, never one query
per registration.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, select

from app import clock
from app.documents.model import (
    AttendanceSheet,
    Certificate,
    Notice,
    NoticeBlock,
    Person,
    Signatory,
    Sitting,
)
from app.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from app.domain.exam_notice_tokens import InvalidToken, NoticeClaim, sign, verify
from app.services.exam_config import load_period
from app.store.schema import element, learner
from app.store.schema_exams import (
    certificate_signatory,
    exam,
    exam_attendance,
    exam_centre,
    exam_modality,
    exam_period,
    exam_registration,
    exam_registration_exam,
)

# Only a final registration is convoked, listed on sheets and certified.
CONVOKED = "final"


def _lines() -> Select[Any]:
    """One row per (registration, exam): everything a document prints about a sitting."""
    return (
        select(
            exam_registration.c.id.label("registration_id"),
            exam_registration.c.status,
            exam_registration.c.centre_id,
            exam_registration_exam.c.deferred,
            exam_period.c.academic_year,
            exam_period.c.number.label("period_number"),
            learner.c.id.label("learner_id"),
            learner.c.external_id,
            learner.c.first_name,
            learner.c.last_name,
            exam.c.id.label("exam_id"),
            exam.c.starts_at,
            exam.c.supervised_hours,
            exam.c.room,
            element.c.code.label("element_code"),
            element.c.label.label("element_label"),
            exam_modality.c.label.label("modality"),
            exam_centre.c.label.label("centre"),
        )
        .select_from(exam_registration)
        .join(exam_period, exam_period.c.id == exam_registration.c.period_id)
        .join(learner, learner.c.id == exam_registration.c.learner_id)
        .join(
            exam_registration_exam,
            exam_registration_exam.c.registration_id == exam_registration.c.id,
        )
        .join(exam, exam.c.id == exam_registration_exam.c.exam_id)
        .join(element, element.c.id == exam.c.element_id)
        .join(exam_modality, exam_modality.c.id == exam_registration.c.modality_id)
        .outerjoin(exam_centre, exam_centre.c.id == exam_registration.c.centre_id)
    )


def _person(row: RowMapping) -> Person:
    return Person(row["learner_id"], row["external_id"], row["first_name"], row["last_name"])


def _sitting(row: RowMapping) -> Sitting:
    # The place: the centre for modalities that have centres, else the exam's room, else the
    # modality itself (a remote exam takes place wherever the learner is).
    place = row["centre"] or row["room"] or row["modality"]
    return Sitting(
        exam_id=row["exam_id"],
        element_code=row["element_code"],
        element_label=row["element_label"],
        starts_at=row["starts_at"],
        supervised_hours=row["supervised_hours"],
        place=place,
        modality=row["modality"],
    )


def _notices(rows: Iterable[RowMapping], key: str) -> list[Notice]:
    """Group (registration, exam) rows, ordered by registration then exam time, into notices."""
    grouped: dict[int, list[RowMapping]] = defaultdict(list)
    for row in rows:
        grouped[row["registration_id"]].append(row)
    notices = []
    for registration_id, lines in grouped.items():
        first = lines[0]
        sat = [r for r in lines if not r["deferred"]]
        blocks = tuple(
            NoticeBlock(
                _sitting(r),
                sign(key, NoticeClaim(registration_id, r["exam_id"], r["learner_id"])),
            )
            for r in sat
        )
        deferred = tuple(
            f"{r['element_code']} {r['element_label']}" for r in lines if r["deferred"]
        )
        notices.append(
            Notice(
                registration_id=registration_id,
                learner=_person(first),
                academic_year=first["academic_year"],
                period_number=first["period_number"],
                blocks=blocks,
                deferred=deferred,
            )
        )
    return notices


def _order(query: Select[Any]) -> Select[Any]:
    return query.order_by(exam_registration.c.id, exam.c.starts_at, exam.c.id)


def notice_for(conn: Connection, registration_id: int, key: str) -> Notice:
    """The notice of a final registration; 409 naming the state otherwise."""
    status = conn.execute(
        select(exam_registration.c.status).where(exam_registration.c.id == registration_id)
    ).scalar()
    if status is None:
        raise NotFound.of("registration_id", f"no exam registration {registration_id}")
    if status != CONVOKED:
        raise Conflict.of(
            "status", f"the registration is {status}: a notice is issued once it is final"
        )
    rows = conn.execute(
        _order(_lines().where(exam_registration.c.id == registration_id))
    ).mappings()
    return _notices(rows, key)[0]


def notices_for_period(conn: Connection, period_id: int, key: str) -> list[Notice]:
    """Every final registration's notice for a period, in registration order: one query."""
    load_period(conn, period_id, "--period")
    rows = conn.execute(
        _order(
            _lines().where(
                exam_registration.c.period_id == period_id,
                exam_registration.c.status == CONVOKED,
            )
        )
    ).mappings()
    return _notices(rows, key)


def _sheet(rows: list[RowMapping], sitting: Sitting | None = None) -> AttendanceSheet:
    first = rows[0]
    return AttendanceSheet(
        academic_year=first["academic_year"],
        period_number=first["period_number"],
        sitting=sitting or _sitting(first),
        learners=tuple(_person(r) for r in rows),
        centre_id=first["centre_id"],
    )


def sheet_for(conn: Connection, exam_id: int, centre_id: int | None) -> AttendanceSheet:
    """The sheet of an exam at a centre (or, without a centre, of those with none)."""
    exam_row = (
        conn.execute(
            select(
                exam,
                element.c.code.label("element_code"),
                element.c.label.label("element_label"),
                exam_period.c.academic_year,
                exam_period.c.number.label("period_number"),
            )
            .join(element, element.c.id == exam.c.element_id)
            .join(exam_period, exam_period.c.id == exam.c.period_id)
            .where(exam.c.id == exam_id)
        )
        .mappings()
        .first()
    )
    if exam_row is None:
        raise NotFound.of("exam_id", f"no exam {exam_id}")
    centre = None
    if centre_id is not None:
        centre = (
            conn.execute(
                select(exam_centre, exam_modality.c.label.label("modality"))
                .join(exam_modality, exam_modality.c.id == exam_centre.c.modality_id)
                .where(exam_centre.c.id == centre_id)
            )
            .mappings()
            .first()
        )
        if centre is None:
            raise InvalidInput.of("centre_id", f"no centre {centre_id}")
    where_centre = (
        exam_registration.c.centre_id == centre_id
        if centre_id is not None
        else exam_registration.c.centre_id.is_(None)
    )
    rows = (
        conn.execute(
            _lines().where(
                exam.c.id == exam_id,
                exam_registration.c.status == CONVOKED,
                exam_registration_exam.c.deferred.is_(False),
                where_centre,
            )
        )
        .mappings()
        .all()
    )
    sitting = Sitting(
        exam_id=exam_id,
        element_code=exam_row["element_code"],
        element_label=exam_row["element_label"],
        starts_at=exam_row["starts_at"],
        supervised_hours=exam_row["supervised_hours"],
        place=centre["label"] if centre else (exam_row["room"] or "Campus principal"),
        modality=centre["modality"] if centre else "",
    )
    return AttendanceSheet(
        academic_year=exam_row["academic_year"],
        period_number=exam_row["period_number"],
        sitting=sitting,
        learners=tuple(_person(r) for r in rows),
        centre_id=centre_id,
    )


def sheets_for_period(conn: Connection, period_id: int) -> list[AttendanceSheet]:
    """One sheet per exam and centre with final registrations in the period: one query."""
    load_period(conn, period_id, "--period")
    rows = conn.execute(
        _lines()
        .where(
            exam_registration.c.period_id == period_id,
            exam_registration.c.status == CONVOKED,
            exam_registration_exam.c.deferred.is_(False),
        )
        .order_by(exam.c.id, exam_registration.c.centre_id, exam_registration.c.id)
    ).mappings()
    grouped: dict[tuple[int, int | None], list[RowMapping]] = defaultdict(list)
    for row in rows:
        grouped[(row["exam_id"], row["centre_id"])].append(row)
    return [_sheet(lines) for lines in grouped.values()]


def certificate_for(conn: Connection, registration_id: int, exam_id: int) -> Certificate:
    """The certificate of a final registration's exam once it is over, signed by the
    configured signatory; 409 naming what is missing otherwise."""
    rows = (
        conn.execute(
            _lines().where(exam_registration.c.id == registration_id, exam.c.id == exam_id)
        )
        .mappings()
        .all()
    )
    if not rows:
        if (
            conn.execute(
                select(exam_registration.c.id).where(exam_registration.c.id == registration_id)
            ).first()
            is None
        ):
            raise NotFound.of("registration_id", f"no exam registration {registration_id}")
        raise InvalidInput.of("exam_id", f"exam {exam_id} is not in this registration")
    row = rows[0]
    if row["status"] != CONVOKED:
        raise Conflict.of(
            "status", f"the registration is {row['status']}: only a final one is certified"
        )
    if row["deferred"]:
        raise InvalidInput.of("exam_id", f"exam {exam_id} was deferred to the resit period")
    attended = conn.execute(
        select(exam_attendance.c.recorded_at).where(
            exam_attendance.c.registration_id == registration_id,
            exam_attendance.c.exam_id == exam_id,
        )
    ).first()
    if attended is None:
        raise Conflict.of(
            "exam_id", f"no attendance recorded for exam {exam_id}: staff record it first"
        )
    signatory = conn.execute(select(certificate_signatory)).mappings().first()
    if signatory is None:
        raise Conflict.of(
            "signatory",
            "no signatory configured: an admin sets it (PUT /api/v1/settings/signatory)",
        )
    return Certificate(
        registration_id=registration_id,
        learner=_person(row),
        academic_year=row["academic_year"],
        period_number=row["period_number"],
        sitting=_sitting(row),
        signatory=Signatory(signatory["name"], signatory["title"]),
        issued_on=clock.now().date(),
    )


def verify_notice_token(conn: Connection, key: str, token: str) -> dict[str, Any]:
    """The ids a notice token carries, if this site signed it and it names a sitting of a
    live registration; 400 for anything else (tampered, moved, forged, unknown)."""
    try:
        claim = verify(key, token)
    except InvalidToken as exc:
        raise DomainError.of("token", str(exc)) from None
    row = conn.execute(
        select(exam_registration.c.status, exam_registration_exam.c.deferred)
        .join(
            exam_registration_exam,
            exam_registration_exam.c.registration_id == exam_registration.c.id,
        )
        .where(
            exam_registration.c.id == claim.registration_id,
            exam_registration.c.learner_id == claim.learner_id,
            exam_registration_exam.c.exam_id == claim.exam_id,
        )
    ).first()
    if row is None or row.deferred or row.status != CONVOKED:
        raise DomainError.of("token", "no final registration sits this exam under this token")
    return {
        "registration_id": claim.registration_id,
        "exam_id": claim.exam_id,
        "learner_id": claim.learner_id,
        "status": row.status,
    }
