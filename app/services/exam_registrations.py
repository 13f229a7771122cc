"""Exam registrations: create, submit, verify, reject, cancel, record a payment, read.

Every change runs in one transaction through the state machine of
app.domain.exam_registration_states; the fee comes from app.domain.exam_fees.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app import clock
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound, collect
from app.domain.exam_fees import FeeSchedule, registration_fee
from app.domain.exam_registration_states import LIVE_STATES, next_state
from app.domain.pages import page
from app.propagation.eligibility_sql import on_the_enrolments_path
from app.services.exam_config import RESIT_PERIOD, ensure_open, ensure_writable, load_period
from app.store.schema import (
    element,
    enrolment,
    learner,
)
from app.store.schema_exams import (
    exam,
    exam_allowed_modality,
    exam_centre,
    exam_modality,
    exam_payment,
    exam_period,
    exam_registration,
    exam_registration_exam,
)

TIMESTAMP_OF = {
    "submitted": "submitted_at",
    "verified": "verified_at",
    "paid": "paid_at",
    "final": "final_at",
    "rejected": "closed_at",
    "cancelled": "closed_at",
}


# --- reading ----------------------------------------------------------------------------------


def registration_learner(conn: Connection, registration_id: int) -> int | None:
    """The learner a registration belongs to, or None when it does not exist."""
    return conn.execute(
        select(exam_registration.c.learner_id).where(exam_registration.c.id == registration_id)
    ).scalar()


def _load(conn: Connection, registration_id: int, lock: bool = False) -> RowMapping:
    query = select(exam_registration).where(exam_registration.c.id == registration_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound.of("registration_id", f"no exam registration {registration_id}")
    return row


def get_registration(conn: Connection, registration_id: int) -> dict[str, Any]:
    """One registration with the exams it sits and the exams it defers."""
    row = _load(conn, registration_id)
    lines = conn.execute(
        select(exam_registration_exam)
        .where(exam_registration_exam.c.registration_id == registration_id)
        .order_by(exam_registration_exam.c.exam_id)
    ).all()
    return _view(row, lines)


def _view(row: RowMapping, lines: Any) -> dict[str, Any]:
    def when(key: str) -> str | None:
        return row[key].isoformat() if row[key] is not None else None

    return {
        "id": row["id"],
        "learner_id": row["learner_id"],
        "period_id": row["period_id"],
        "modality_id": row["modality_id"],
        "centre_id": row["centre_id"],
        "status": row["status"],
        "fee_cents": row["fee_cents"],
        "rejection_reason": row["rejection_reason"],
        "exams": [line.exam_id for line in lines if not line.deferred],
        "deferred": [line.exam_id for line in lines if line.deferred],
        "created_at": when("created_at"),
        "submitted_at": when("submitted_at"),
        "verified_at": when("verified_at"),
        "final_at": when("final_at"),
    }


def list_learner_registrations(
    conn: Connection, learner_id: int, limit: int, after: int
) -> dict[str, Any]:
    """A learner's registrations, in id order (lines read in one query for the page)."""
    rows = (
        conn.execute(
            select(exam_registration)
            .where(exam_registration.c.learner_id == learner_id, exam_registration.c.id > after)
            .order_by(exam_registration.c.id)
            .limit(limit + 1)
        )
        .mappings()
        .all()
    )
    ids = [r["id"] for r in rows[:limit]]
    lines: dict[int, list[Any]] = {i: [] for i in ids}
    if ids:
        for line in conn.execute(
            select(exam_registration_exam)
            .where(exam_registration_exam.c.registration_id.in_(ids))
            .order_by(exam_registration_exam.c.exam_id)
        ):
            lines[line.registration_id].append(line)
    return page(rows, limit, lambda r: r["id"], lambda r: _view(r, lines[r["id"]]))


# --- creating ---------------------------------------------------------------------------------


def create_registration(conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """A draft registration of a learner for an open period.

    Refused with 422 naming the field for: a period that is not open, an unknown learner,
    modality or centre, a centre of another modality (or a missing one), an exam of another
    period or not offered in the modality, an exam whose element is not in the learner's
    active enrolments of the year, a deferral without a resit period, a full centre or room;
    409 when the learner already has a live registration for the period, or the period is
    archived.
    """
    # FOR SHARE: registrations proceed side by side, but a period being closed or archived
    # waits for them (and they for it).
    period = (
        conn.execute(
            select(exam_period)
            .where(exam_period.c.id == body["period_id"])
            .with_for_update(read=True)
        )
        .mappings()
        .first()
    )
    if period is None:
        raise InvalidInput.of("period_id", f"no exam period {body['period_id']}")
    ensure_open(period)

    errors: list[FieldError] = []
    learner_id = body["learner_id"]
    if conn.execute(select(learner.c.id).where(learner.c.id == learner_id)).first() is None:
        errors.append(FieldError("learner_id", f"no learner {learner_id}"))
    modality = (
        conn.execute(select(exam_modality).where(exam_modality.c.id == body["modality_id"]))
        .mappings()
        .first()
    )
    if modality is None:
        errors.append(FieldError("modality_id", f"no modality {body['modality_id']}"))
    centre_id = body.get("centre_id")
    centre = None
    if centre_id is not None:
        centre = (
            conn.execute(select(exam_centre).where(exam_centre.c.id == centre_id).with_for_update())
            .mappings()
            .first()
        )
        if centre is None:
            errors.append(FieldError("centre_id", f"no centre {centre_id}"))
    if modality is not None:
        if modality["needs_centre"] and centre_id is None:
            errors.append(FieldError("centre_id", f"modality {modality['code']} needs a centre"))
        elif not modality["needs_centre"] and centre_id is not None:
            errors.append(FieldError("centre_id", f"modality {modality['code']} has no centres"))
        elif centre is not None and centre["modality_id"] != modality["id"]:
            errors.append(
                FieldError("centre_id", f"centre {centre_id} is not a centre of this modality")
            )

    sat_ids: list[int] = body.get("exam_ids", [])
    deferred_ids: list[int] = body.get("deferred_exam_ids", [])
    errors.extend(_duplicates("exam_ids", sat_ids))
    errors.extend(_duplicates("deferred_exam_ids", deferred_ids))
    both = set(sat_ids) & set(deferred_ids)
    errors.extend(
        FieldError(f"deferred_exam_ids[{i}]", f"exam {e} is also in exam_ids")
        for i, e in enumerate(deferred_ids)
        if e in both
    )
    if not sat_ids and not deferred_ids:
        errors.append(FieldError("exam_ids", "name at least one exam, sat or deferred"))
    collect(errors)

    # Seats are counted under row locks taken in id order, so concurrent registrations for
    # the same exams neither oversubscribe them nor deadlock.
    wanted = sorted(set(sat_ids) | set(deferred_ids))
    exams = {
        row["id"]: row
        for row in conn.execute(
            select(exam).where(exam.c.id.in_(wanted)).order_by(exam.c.id).with_for_update()
        ).mappings()
    }
    allowed = {
        (link.exam_id, link.modality_id)
        for link in conn.execute(
            select(exam_allowed_modality).where(exam_allowed_modality.c.exam_id.in_(wanted))
        )
    }
    outside = _elements_outside_enrolments(
        conn, learner_id, period["academic_year"], [e["element_id"] for e in exams.values()]
    )
    for field, ids in (("exam_ids", sat_ids), ("deferred_exam_ids", deferred_ids)):
        for i, exam_id in enumerate(ids):
            name = f"{field}[{i}]"
            row = exams.get(exam_id)
            if row is None:
                errors.append(FieldError(name, f"no exam {exam_id}"))
            elif row["period_id"] != period["id"]:
                errors.append(FieldError(name, f"exam {exam_id} is not in period {period['id']}"))
            elif row["element_id"] in outside:
                errors.append(
                    FieldError(
                        name,
                        f"exam {exam_id} is not part of the learner's active enrolments in "
                        f"{period['academic_year']}",
                    )
                )
            elif field == "exam_ids" and (exam_id, modality["id"]) not in allowed:
                errors.append(
                    FieldError(
                        name, f"exam {exam_id} is not offered in modality {modality['code']}"
                    )
                )
    if deferred_ids:
        errors.extend(_deferral_errors(conn, period))
    collect(errors)

    duplicate = conn.execute(
        select(exam_registration.c.id).where(
            exam_registration.c.learner_id == learner_id,
            exam_registration.c.period_id == period["id"],
            exam_registration.c.status.in_(LIVE_STATES),
        )
    ).first()
    if duplicate is not None:
        raise Conflict.of(
            "learner_id",
            f"the learner already has registration {duplicate.id} for period {period['id']}",
        )
    collect(_seat_errors(conn, sat_ids, exams, centre))

    try:
        with conn.begin_nested():
            new_id = conn.execute(
                insert(exam_registration)
                .values(
                    learner_id=learner_id,
                    period_id=period["id"],
                    modality_id=modality["id"],
                    centre_id=centre_id,
                    status="draft",
                    created_at=clock.now(),
                )
                .returning(exam_registration.c.id)
            ).scalar_one()
    except IntegrityError:
        # Another request registered the same learner between our check and our insert.
        raise Conflict.of(
            "learner_id", f"the learner already has a registration for period {period['id']}"
        ) from None
    conn.execute(
        insert(exam_registration_exam),
        [{"registration_id": new_id, "exam_id": e, "deferred": False} for e in sat_ids]
        + [{"registration_id": new_id, "exam_id": e, "deferred": True} for e in deferred_ids],
    )
    return get_registration(conn, new_id)


def _duplicates(field: str, ids: list[int]) -> list[FieldError]:
    seen: set[int] = set()
    errors = []
    for i, value in enumerate(ids):
        if value in seen:
            errors.append(FieldError(f"{field}[{i}]", f"exam {value} is named twice"))
        seen.add(value)
    return errors


def _deferral_errors(conn: Connection, period: RowMapping) -> list[FieldError]:
    if period["number"] == RESIT_PERIOD:
        return [FieldError("deferred_exam_ids", "the resit period's exams cannot be deferred")]
    resit = conn.execute(
        select(exam_period.c.id).where(
            exam_period.c.academic_year == period["academic_year"],
            exam_period.c.number == RESIT_PERIOD,
        )
    ).first()
    if resit is None:
        return [
            FieldError(
                "deferred_exam_ids",
                f"{period['academic_year']} has no resit period (3) to defer to yet",
            )
        ]
    return []


def _elements_outside_enrolments(
    conn: Connection, learner_id: int, academic_year: str, element_ids: list[int]
) -> set[int]:
    """Which of `element_ids` are not in any active enrolment of the learner that year.

    In an enrolment means: in its step's tree, every optional element on the path chosen,
    no element on the path exempted (DOMAIN.md rules 1 to 4, as for activities).
    """
    if not element_ids:
        return set()
    e = enrolment
    inside = conn.execute(
        select(element.c.id)
        .join(e, and_(e.c.step_id == element.c.step_id))
        .where(
            element.c.id.in_(element_ids),
            e.c.learner_id == learner_id,
            e.c.academic_year == academic_year,
            e.c.status == "active",
            on_the_enrolments_path(e, element.c.id),
        )
    ).scalars()
    return set(element_ids) - set(inside)


def _seat_errors(
    conn: Connection, sat_ids: list[int], exams: dict[int, RowMapping], centre: RowMapping | None
) -> list[FieldError]:
    """422 for an exam whose room, or whose sitting at the centre, has no seat left."""
    if not sat_ids:
        return []
    line = exam_registration_exam
    live = and_(
        exam_registration.c.id == line.c.registration_id,
        exam_registration.c.status.in_(LIVE_STATES),
        line.c.deferred.is_(False),
        line.c.exam_id.in_(sat_ids),
    )
    taken = dict(
        conn.execute(
            select(line.c.exam_id, func.count())
            .select_from(line.join(exam_registration, live))
            .group_by(line.c.exam_id)
        ).all()
    )
    errors = []
    for i, exam_id in enumerate(sat_ids):
        capacity = exams[exam_id]["capacity"]
        if capacity is not None and taken.get(exam_id, 0) >= capacity:
            errors.append(FieldError(f"exam_ids[{i}]", f"exam {exam_id} is full ({capacity})"))
    if centre is not None:
        at_centre = dict(
            conn.execute(
                select(line.c.exam_id, func.count())
                .select_from(line.join(exam_registration, live))
                .where(exam_registration.c.centre_id == centre["id"])
                .group_by(line.c.exam_id)
            ).all()
        )
        full = [e for e in sat_ids if at_centre.get(e, 0) >= centre["capacity"]]
        if full:
            errors.append(
                FieldError(
                    "centre_id",
                    f"centre {centre['code']} is full ({centre['capacity']} seats) for exam "
                    + ", ".join(map(str, full)),
                )
            )
    return errors


# --- moving through the state machine ---------------------------------------------------------


def _move(conn: Connection, registration_id: int, action: str, **changes: Any) -> RowMapping:
    """Lock the registration, check the period and the transition, and apply it."""
    row = _load(conn, registration_id, lock=True)
    # FOR SHARE: an archive of the period in progress waits for this change, or it for it.
    period = load_period(conn, row["period_id"], share=True)
    ensure_writable(period)
    target = next_state(row["status"], action)
    if action == "submit":
        ensure_open(period)
    conn.execute(
        update(exam_registration)
        .where(exam_registration.c.id == registration_id)
        .values(status=target, **{TIMESTAMP_OF[target]: clock.now()}, **changes)
    )
    return row


def submit_registration(conn: Connection, registration_id: int) -> dict[str, Any]:
    """draft → submitted, with the fee computed now from the modality and the exams sat."""
    row = _load(conn, registration_id)
    modality = (
        conn.execute(select(exam_modality).where(exam_modality.c.id == row["modality_id"]))
        .mappings()
        .one()
    )
    hours = conn.execute(
        select(exam.c.supervised_hours)
        .join(exam_registration_exam, exam_registration_exam.c.exam_id == exam.c.id)
        .where(
            exam_registration_exam.c.registration_id == registration_id,
            exam_registration_exam.c.deferred.is_(False),
        )
    ).scalars()
    fee = registration_fee(
        FeeSchedule(modality["fixed_fee_cents"], modality["fee_per_hour_cents"]), hours
    )
    _move(conn, registration_id, "submit", fee_cents=fee)
    return get_registration(conn, registration_id)


def verify_registration(conn: Connection, registration_id: int) -> dict[str, Any]:
    """submitted → verified (staff)."""
    _move(conn, registration_id, "verify")
    return get_registration(conn, registration_id)


def reject_registration(conn: Connection, registration_id: int, reason: str) -> dict[str, Any]:
    """submitted or verified → rejected, with the reason the learner will read."""
    if not reason.strip():
        raise InvalidInput.of("reason", "must not be blank")
    _move(conn, registration_id, "reject", rejection_reason=reason.strip())
    return get_registration(conn, registration_id)


def cancel_registration(conn: Connection, registration_id: int) -> dict[str, Any]:
    """draft, submitted or verified → cancelled; seats are freed."""
    _move(conn, registration_id, "cancel")
    return get_registration(conn, registration_id)


def record_payment(conn: Connection, registration_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """verified → paid → final when the amount equals the fee.

    A reference is recorded once: the same payment again (same registration, same amount)
    answers the registration as it is and changes nothing; the reference used for another
    registration or another amount is 409.
    """
    reference, amount = body["reference"].strip(), body["amount_cents"]
    if not reference:
        raise InvalidInput.of("reference", "must not be blank")
    _load(conn, registration_id, lock=True)
    known = (
        conn.execute(select(exam_payment).where(exam_payment.c.reference == reference))
        .mappings()
        .first()
    )
    if known is not None:
        if known["registration_id"] == registration_id and known["amount_cents"] == amount:
            return get_registration(conn, registration_id)
        raise Conflict.of(
            "reference", f"payment {reference} is already recorded for another payment"
        )
    row = _move(conn, registration_id, "pay")
    if amount != row["fee_cents"]:
        raise InvalidInput.of(
            "amount_cents", f"the fee is {row['fee_cents']} cents; the amount must equal it"
        )
    try:
        with conn.begin_nested():
            conn.execute(
                insert(exam_payment).values(
                    registration_id=registration_id,
                    reference=reference,
                    amount_cents=amount,
                    recorded_at=clock.now(),
                )
            )
    except IntegrityError:
        raise Conflict.of("reference", f"payment {reference} is already recorded") from None
    _move(conn, registration_id, "finalise")
    return get_registration(conn, registration_id)
