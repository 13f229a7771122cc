"""Exam configuration as data: periods, modalities, centres, exams and the certificate signatory.

Staff manage them through the API; nothing here is site-specific code. An `archived` period
(the ops archive command freezes it before the next period opens) refuses every write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from app import clock
from app.domain import values
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound, collect
from app.domain.pages import page
from app.services.references import rows_by_id
from app.services.unique_rows import insert_unique, page_by_id
from app.store.schema import element
from app.store.schema_exams import (
    certificate_signatory,
    exam,
    exam_allowed_modality,
    exam_centre,
    exam_modality,
    exam_period,
)
from app.store.upsert import insert_for

# Status changes staff may make; `archived` is set only by the archive command.
PERIOD_MOVES = {
    "planned": {"open", "closed"},
    "open": {"closed"},
    "closed": {"open"},
    "archived": set(),
}
RESIT_PERIOD = 3


# --- periods ----------------------------------------------------------------------------------


def period_view(row: RowMapping) -> dict[str, Any]:
    """A period as the API shows it."""
    return {
        "id": row["id"],
        "academic_year": row["academic_year"],
        "number": row["number"],
        "opens_at": row["opens_at"].isoformat(),
        "closes_at": row["closes_at"].isoformat(),
        "status": row["status"],
    }


def load_period(  # type: ignore[no-untyped-def]
    conn: Connection,
    period_id: int,
    field: str = "period_id",
    lock: bool = False,
    share: bool = False,
):
    """The period row; 404 naming `field` when it does not exist.

    `lock`: FOR UPDATE (the period itself changes); `share`: FOR SHARE, taken by writes to
    the period's data, so they wait for an archive in progress (and it for them).
    """
    query = select(exam_period).where(exam_period.c.id == period_id)
    if lock:
        query = query.with_for_update()
    elif share:
        query = query.with_for_update(read=True)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound.of(field, f"no exam period {period_id}")
    return row


def ensure_writable(period: RowMapping) -> None:
    """409 when the period is archived: its data is frozen history."""
    if period["status"] == "archived":
        raise Conflict.of(
            "period_id", f"exam period {period['id']} is archived: it can no longer change"
        )


def ensure_open(period: RowMapping, field: str = "period_id") -> None:
    """422 unless the period is open and now lies in its window."""
    ensure_writable(period)
    now = clock.now()
    if period["status"] != "open":
        raise InvalidInput.of(field, f"exam period {period['id']} is {period['status']}, not open")
    if not period["opens_at"] <= now < period["closes_at"]:
        raise InvalidInput.of(
            field,
            f"exam period {period['id']} takes registrations from {period['opens_at'].isoformat()}"
            f" to {period['closes_at'].isoformat()}",
        )


def _window(body: dict[str, Any], errors: list[FieldError]) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for key in ("opens_at", "closes_at"):
        if key in body:
            try:
                found[key] = values.instant(body[key], key)
            except InvalidInput as exc:
                errors.extend(exc.errors)
    return found


def create_period(conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """A new period in status `planned`; 409 when the year already has that period number."""
    errors: list[FieldError] = []
    try:
        year = values.academic_year(body["academic_year"], "academic_year")
    except InvalidInput as exc:
        errors.extend(exc.errors)
    window = _window(body, errors)
    if len(window) == 2 and window["closes_at"] <= window["opens_at"]:
        errors.append(FieldError("closes_at", "must be after opens_at"))
    collect(errors)
    row = {"academic_year": year, "number": body["number"], "status": "planned", **window}
    new_id = insert_unique(
        conn, exam_period, row, "number", f"{year} already has exam period {body['number']}"
    )
    return period_view(load_period(conn, new_id))


def update_period(conn: Connection, period_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Open or close a period, or move its dates; an archived period refuses with 409."""
    period = load_period(conn, period_id, lock=True)
    ensure_writable(period)
    errors: list[FieldError] = []
    window = _window(body, errors)
    collect(errors)
    opens = window.get("opens_at", period["opens_at"])
    closes = window.get("closes_at", period["closes_at"])
    if closes <= opens:
        collect(
            [
                FieldError(
                    "closes_at" if "closes_at" in window else "opens_at",
                    "closes_at must be after opens_at",
                )
            ]
        )
    changes: dict[str, Any] = dict(window)
    status = body.get("status")
    if status is not None and status != period["status"]:
        if status not in PERIOD_MOVES[period["status"]]:
            raise Conflict.of(
                "status", f"the period is {period['status']}: it cannot become {status}"
            )
        changes["status"] = status
    if changes:
        conn.execute(update(exam_period).where(exam_period.c.id == period_id).values(**changes))
    return period_view(load_period(conn, period_id))


def archive_period(conn: Connection, period_id: int, allow_open: bool = False) -> dict[str, Any]:
    """Freeze a closed period (the ops archive command calls this once its copy is written).

    `allow_open`: an open period archives too (the command's `--force`, with a reason).
    """
    period = load_period(conn, period_id, lock=True)
    allowed = ("closed", "open") if allow_open else ("closed",)
    if period["status"] not in allowed:
        raise Conflict.of("status", f"the period is {period['status']}: only a closed one archives")
    conn.execute(update(exam_period).where(exam_period.c.id == period_id).values(status="archived"))
    return period_view(load_period(conn, period_id))


def get_period(conn: Connection, period_id: int) -> dict[str, Any]:
    """One period, or 404."""
    return period_view(load_period(conn, period_id))


def list_periods(conn: Connection, limit: int, after: int) -> dict[str, Any]:
    """Every period, in id order."""
    return page_by_id(conn, exam_period, limit, after, period_view)


# --- modalities and centres -------------------------------------------------------------------


def _modality_view(row: RowMapping) -> dict[str, Any]:
    return {
        k: row[k]
        for k in ("id", "code", "label", "fixed_fee_cents", "fee_per_hour_cents", "needs_centre")
    }


def create_modality(conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """A modality with its prices in cents; 409 when the code is taken."""
    row = {
        k: body[k]
        for k in ("code", "label", "fixed_fee_cents", "fee_per_hour_cents", "needs_centre")
    }
    return {
        "id": insert_unique(
            conn, exam_modality, row, "code", f"a modality with code {body['code']} exists"
        )
    }


def list_modalities(conn: Connection, limit: int, after: int) -> dict[str, Any]:
    """Every modality, in id order."""
    return page_by_id(conn, exam_modality, limit, after, _modality_view)


def create_centre(conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """A centre of a modality that has centres; 409 when the code is taken."""
    modality = rows_by_id(conn, exam_modality, [body["modality_id"]], "needs_centre")
    if body["modality_id"] not in modality:
        raise InvalidInput.of("modality_id", f"no modality {body['modality_id']}")
    if not modality[body["modality_id"]].needs_centre:
        raise InvalidInput.of("modality_id", "this modality has no centres (needs_centre is false)")
    row = {k: body[k] for k in ("code", "label", "modality_id", "capacity")}
    return {
        "id": insert_unique(
            conn, exam_centre, row, "code", f"a centre with code {body['code']} exists"
        )
    }


def list_centres(conn: Connection, limit: int, after: int) -> dict[str, Any]:
    """Every centre, in id order."""
    return page_by_id(
        conn,
        exam_centre,
        limit,
        after,
        lambda r: {k: r[k] for k in ("id", "code", "label", "modality_id", "capacity")},
    )


# --- exams ------------------------------------------------------------------------------------


def create_exam(conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """An exam of an element in a period, with the modalities it may be sat in."""
    errors: list[FieldError] = []
    try:
        starts_at = values.instant(body["starts_at"], "starts_at")
    except InvalidInput as exc:
        errors.extend(exc.errors)
    if not rows_by_id(conn, element, [body["element_id"]]):
        errors.append(FieldError("element_id", f"no element {body['element_id']}"))
    modality_ids = sorted(set(body["modality_ids"]))
    known = rows_by_id(conn, exam_modality, modality_ids)
    errors.extend(
        FieldError(f"modality_ids[{body['modality_ids'].index(m)}]", f"no modality {m}")
        for m in modality_ids
        if m not in known
    )
    period = (
        conn.execute(
            select(exam_period).where(exam_period.c.id == body["period_id"]).with_for_update()
        )
        .mappings()
        .first()
    )
    if period is None:
        errors.append(FieldError("period_id", f"no exam period {body['period_id']}"))
    collect(errors)
    ensure_writable(period)
    row = {
        "element_id": body["element_id"],
        "period_id": body["period_id"],
        "supervised_hours": body["supervised_hours"],
        "starts_at": starts_at,
        "room": body.get("room"),
        "capacity": body.get("capacity"),
    }
    new_id = insert_unique(
        conn,
        exam,
        row,
        "element_id",
        f"exam period {body['period_id']} already has an exam of this element",
    )
    conn.execute(
        insert(exam_allowed_modality),
        [{"exam_id": new_id, "modality_id": m} for m in modality_ids],
    )
    return {"id": new_id}


def exam_view(conn: Connection, exam_id: int) -> dict[str, Any]:
    """One exam with its element and allowed modalities, or 404."""
    row = (
        conn.execute(
            select(
                exam, element.c.code.label("element_code"), element.c.label.label("element_label")
            )
            .join(element, element.c.id == exam.c.element_id)
            .where(exam.c.id == exam_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound.of("exam_id", f"no exam {exam_id}")
    modalities = (
        conn.execute(
            select(exam_allowed_modality.c.modality_id)
            .where(exam_allowed_modality.c.exam_id == exam_id)
            .order_by(exam_allowed_modality.c.modality_id)
        )
        .scalars()
        .all()
    )
    return _exam_item(row, list(modalities))


def _exam_item(row: RowMapping, modality_ids: list[int]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "element_id": row["element_id"],
        "element_code": row["element_code"],
        "element_label": row["element_label"],
        "period_id": row["period_id"],
        "supervised_hours": row["supervised_hours"],
        "starts_at": row["starts_at"].isoformat(),
        "room": row["room"],
        "capacity": row["capacity"],
        "modality_ids": modality_ids,
    }


def list_period_exams(conn: Connection, period_id: int, limit: int, after: int) -> dict[str, Any]:
    """The exams of a period, in id order, each with its allowed modalities."""
    load_period(conn, period_id)
    rows = (
        conn.execute(
            select(
                exam, element.c.code.label("element_code"), element.c.label.label("element_label")
            )
            .join(element, element.c.id == exam.c.element_id)
            .where(exam.c.period_id == period_id, exam.c.id > after)
            .order_by(exam.c.id)
            .limit(limit + 1)
        )
        .mappings()
        .all()
    )
    ids = [r["id"] for r in rows]
    allowed: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for link in conn.execute(
            select(exam_allowed_modality)
            .where(exam_allowed_modality.c.exam_id.in_(ids))
            .order_by(exam_allowed_modality.c.modality_id)
        ):
            allowed[link.exam_id].append(link.modality_id)
    return page(rows, limit, lambda r: r["id"], lambda r: _exam_item(r, allowed[r["id"]]))


# --- the certificate signatory ----------------------------------------------------------------


def set_signatory(conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """Replace the signatory of attendance certificates; the next certificate uses it."""
    name, title = body["name"].strip(), body["title"].strip()
    errors = [
        FieldError(k, "must not be blank") for k, v in (("name", name), ("title", title)) if not v
    ]
    collect(errors)
    row = {"name": name, "title": title, "updated_at": clock.now()}
    # One statement, so two admins saving at once cannot both try to insert the first row.
    statement = insert_for(conn, certificate_signatory).values(id=1, **row)
    conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=row))
    return get_signatory(conn)


def get_signatory(conn: Connection) -> dict[str, Any]:
    """The configured signatory; 404 until an admin sets one."""
    row = conn.execute(select(certificate_signatory)).mappings().first()
    if row is None:
        raise NotFound.of("signatory", "no signatory yet: an admin sets it with PUT")
    return {"name": row["name"], "title": row["title"], "updated_at": row["updated_at"].isoformat()}
