"""Enrolments: create (one or a batch), change, cancel, read. Every write propagates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError

from app import clock
from app.domain import values
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound, collect
from app.domain.pages import page
from app.propagation.propagate import Outcome, propagate
from app.propagation.scope import Scope
from app.services.enrolment_lookup import look_up
from app.services.enrolment_rules import Selection, check_selections, judge_selections
from app.store.json_rows import json_rows
from app.store.schema import (
    enrolment,
    enrolment_choice,
    enrolment_exemption,
    enrolment_group,
    learner,
    participation,
)
from app.store.types import UtcDateTime

MAX_BATCH = 10_000
LINKS = (
    ("groups", enrolment_group, "group_id"),
    ("choices", enrolment_choice, "element_id"),
    ("exemptions", enrolment_exemption, "element_id"),
)


def create_enrolment(conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """One enrolment: the batch path with a batch of one, so both behave the same."""
    ids, outcome = _create(conn, [body], batch=False)
    return {
        "id": ids[0],
        "participations_created": outcome.created,
        "waitlisted": outcome.waitlisted,
    }


def create_enrolments(conn: Connection, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Up to MAX_BATCH enrolments, all or nothing, in a constant number of statements."""
    ids, outcome = _create(conn, items, batch=True)
    return {"ids": ids, "participations_created": outcome.created, "waitlisted": outcome.waitlisted}


def enrol_selected(
    conn: Connection, rows: Select, link: Callable[[CTE], Any] | None = None
) -> tuple[list[int], Outcome]:
    """Enrol every row `rows` selects, in its order, without groups, choices or exemptions,
    and propagate: one statement plus propagation's, whatever the number of rows, and no row
    travels through Python.

    `rows` starts with (learner_id, step_id, academic_year, start_date); further columns
    travel with the new enrolments for `link`. On PostgreSQL, `link` receives the new
    enrolments (their id, then the columns of `rows`) and returns a data-modifying statement
    that runs in the statement that creates them (`INSERT … SELECT` cannot return the
    columns it did not write). On SQLite it is not called: the caller links by a lookup.

    For callers whose rows come from the database and were checked there (approved employer
    requests): learners and steps exist by construction. A learner already actively enrolled
    in the step and year is refused by the unique index, all or nothing.
    """
    columns = ["learner_id", "step_id", "academic_year", "start_date", "created_at"]
    now = literal(clock.now(), UtcDateTime())
    try:
        if conn.dialect.name == "postgresql":
            ids = _insert_numbered(conn, rows, columns, now, link)
        else:
            wanted = rows.with_only_columns(*list(rows.selected_columns)[:4])
            ids = list(
                conn.execute(
                    insert(enrolment)
                    .from_select(columns, wanted.add_columns(now))
                    .returning(enrolment.c.id)
                ).scalars()
            )
    except IntegrityError:
        raise Conflict.of(
            "learner_id", "an active enrolment already exists for this step and year"
        ) from None
    if not ids:
        return [], Outcome(run_id=0, created=0, removed=0, waitlisted=0)
    return ids, propagate(conn, Scope("enrolment_batch", enrolment_ids=ids))


def _insert_numbered(
    conn: Connection,
    rows: Select,
    columns: list[str],
    now: ColumnElement[Any],
    link: Callable[[CTE], Any] | None,
) -> list[int]:
    """PostgreSQL: draw each row's id from the sequence in the rows' order, insert, link."""
    ordered = rows.subquery("ordered")
    # Drawn over the sorted rows, so ids follow their order (arrival order for seats).
    new = select(
        func.nextval(func.pg_get_serial_sequence("enrolment", "id")).label("id"), *ordered.c
    ).cte("new_enrolments")
    picked = [new.c[c.name] for c in list(ordered.c)[:4]]
    inserted = (
        insert(enrolment)
        .from_select(["id", *columns], select(new.c.id, *picked, now))
        .cte("inserted")
    )
    ctes = [inserted] if link is None else [inserted, link(new).cte("linked")]
    return list(conn.execute(select(new.c.id).add_cte(*ctes)).scalars())


def _create(
    conn: Connection, items: list[dict[str, Any]], *, batch: bool
) -> tuple[list[int], Outcome]:
    """Check every item, insert them all, link their selections, propagate: all or nothing."""

    def prefix(i: int) -> str:
        return f"enrolments[{i}]." if batch else ""

    rows = _parse(items, prefix)
    taken = _check_references(conn, items, rows, prefix)
    keys = _refuse_repeats(rows, prefix)
    _refuse_existing(taken, keys, prefix)
    ids = _insert_enrolments(conn, rows, keys)
    _insert_selections(conn, ids, items)
    outcome = propagate(
        conn, Scope("enrolment_batch" if batch else "enrolment_create", enrolment_ids=ids)
    )
    return ids, outcome


def _parse(items: list[dict[str, Any]], prefix: Callable[[int], str]) -> list[dict[str, Any]]:
    """The enrolment rows, with the academic year and start date checked."""
    errors: list[FieldError] = []
    rows: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        try:
            year = values.academic_year(item["academic_year"], prefix(i) + "academic_year")
            start = values.calendar_date(item["start_date"], prefix(i) + "start_date")
        except InvalidInput as exc:
            errors.extend(exc.errors)
            continue
        rows.append(
            {
                "learner_id": item["learner_id"],
                "step_id": item["step_id"],
                "academic_year": year,
                "start_date": start,
            }
        )
    collect(errors)
    return rows


def _check_references(
    conn: Connection,
    items: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    prefix: Callable[[int], str],
) -> dict[tuple[int, int, str], int]:
    """Every learner and step exists; every selection fits its step. Read in one statement
    with the active enrolments already holding one of the rows' keys, which are returned."""
    errors: list[FieldError] = []
    found = look_up(
        conn,
        (r["learner_id"] for r in rows),
        (r["step_id"] for r in rows),
        (g for item in items for g in item.get("groups", [])),
        (e for item in items for k in ("choices", "exemptions") for e in item.get(k, [])),
        [(r["learner_id"], r["step_id"], r["academic_year"]) for r in rows],
    )
    selections = []
    for i, (item, row) in enumerate(zip(items, rows, strict=True)):
        if row["learner_id"] not in found.learners:
            errors.append(FieldError(prefix(i) + "learner_id", f"no learner {row['learner_id']}"))
        if row["step_id"] not in found.steps:
            errors.append(FieldError(prefix(i) + "step_id", f"no step {row['step_id']}"))
            continue
        selections.append(_selection(prefix(i), row["step_id"], item))
    errors.extend(judge_selections(selections, found.groups, found.elements, found.limits))
    collect(errors)
    return found.taken


def _refuse_repeats(
    rows: list[dict[str, Any]], prefix: Callable[[int], str]
) -> list[tuple[int, int, str]]:
    """Each row's (learner, step, year) key; 409 when the batch names one twice."""
    keys = [(r["learner_id"], r["step_id"], r["academic_year"]) for r in rows]
    errors: list[FieldError] = []
    first_seen: dict[tuple[int, int, str], int] = {}
    for i, key in enumerate(keys):
        if key in first_seen:
            errors.append(
                FieldError(
                    prefix(i) + "learner_id",
                    f"same learner, step and year as enrolments[{first_seen[key]}]",
                )
            )
        first_seen.setdefault(key, i)
    collect(errors, Conflict)
    return keys


def _insert_enrolments(
    conn: Connection, rows: list[dict[str, Any]], keys: list[tuple[int, int, str]]
) -> list[int]:
    """Insert every row in one statement; the new ids in the rows' order."""
    new = json_rows(
        conn.dialect.name,
        "new_enrolments",
        {"learner_id": "int", "step_id": "int", "academic_year": "str", "start_date": "date"},
        rows,
    )
    columns = ["learner_id", "step_id", "academic_year", "start_date", "created_at"]
    try:
        inserted = conn.execute(
            insert(enrolment)
            .from_select(
                columns,
                select(
                    new.c.learner_id,
                    new.c.step_id,
                    new.c.academic_year,
                    new.c.start_date,
                    literal(clock.now(), UtcDateTime()),
                ),
            )
            .returning(
                enrolment.c.id,
                enrolment.c.learner_id,
                enrolment.c.step_id,
                enrolment.c.academic_year,
            )
        ).all()
    except IntegrityError:
        # A concurrent request enrolled one of these learners between our check and insert.
        raise Conflict.of(
            "learner_id", "an active enrolment already exists for this step and year"
        ) from None
    id_of = {(r.learner_id, r.step_id, r.academic_year): r.id for r in inserted}
    return [id_of[key] for key in keys]


def _insert_selections(conn: Connection, ids: list[int], items: list[dict[str, Any]]) -> None:
    """The groups, choices and exemptions of every new enrolment, one statement per kind."""
    for key, table, column in LINKS:
        _insert_links(
            conn,
            table,
            column,
            [
                {"enrolment_id": enrolment_id, column: value}
                for enrolment_id, item in zip(ids, items, strict=True)
                for value in item.get(key, [])
            ],
        )


def _selection(prefix: str, step_id: int, item: dict[str, Any]) -> Selection:
    return Selection(
        prefix, step_id, item.get("groups", []), item.get("choices", []), item.get("exemptions", [])
    )


def _refuse_existing(
    taken: dict[tuple[int, int, str], int],
    keys: list[tuple[int, int, str]],
    prefix: Callable[[int], str],
) -> None:
    """409 naming each row whose learner already has an active enrolment in that step and year."""
    collect(
        [
            FieldError(
                prefix(i) + "learner_id",
                f"already enrolled in this step and year (enrolment {taken[key]})",
            )
            for i, key in enumerate(keys)
            if key in taken
        ],
        Conflict,
    )


def _insert_links(conn: Connection, table, column: str, rows: list[dict[str, int]]) -> None:  # type: ignore[no-untyped-def]
    if rows:
        links = json_rows(conn.dialect.name, "links", {"enrolment_id": "int", column: "int"}, rows)
        conn.execute(
            insert(table).from_select(
                ["enrolment_id", column], select(links.c.enrolment_id, links.c[column])
            )
        )


def _locked(conn: Connection, enrolment_id: int) -> Any:
    row = conn.execute(
        select(enrolment).where(enrolment.c.id == enrolment_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound.of("enrolment_id", f"no enrolment {enrolment_id}")
    if row.status != "active":
        raise Conflict.of("enrolment_id", f"enrolment {enrolment_id} is cancelled")
    return row


def update_enrolment(conn: Connection, enrolment_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Replace groups, choices or exemptions, or move the start date; then propagate."""
    row = _locked(conn, enrolment_id)
    changes: dict[str, date] = {}
    if "start_date" in body:
        changes["start_date"] = values.calendar_date(body["start_date"], "start_date")
    current = {key: [] for key, _, _ in LINKS}
    current.update({k: v for k, v in body.items() if k in current})
    collect(check_selections(conn, [Selection("", row.step_id, **current)]))
    if changes:
        conn.execute(enrolment.update().where(enrolment.c.id == enrolment_id).values(**changes))
    for key, table, column in LINKS:
        if key in body:
            conn.execute(delete(table).where(table.c.enrolment_id == enrolment_id))
            _insert_links(
                conn, table, column, [{"enrolment_id": enrolment_id, column: v} for v in body[key]]
            )
    outcome = propagate(conn, Scope("enrolment_update", enrolment_ids=[enrolment_id]))
    return {
        "id": enrolment_id,
        "participations_created": outcome.created,
        "participations_removed": outcome.removed,
    }


def cancel_enrolment(conn: Connection, enrolment_id: int) -> dict[str, Any]:
    """Cancel; future participations go, past ones stay as history, freed seats are refilled."""
    _locked(conn, enrolment_id)
    conn.execute(
        enrolment.update()
        .where(enrolment.c.id == enrolment_id)
        .values(status="cancelled", cancelled_at=clock.now())
    )
    outcome = propagate(conn, Scope("enrolment_cancel", enrolment_ids=[enrolment_id]))
    return {"id": enrolment_id, "participations_removed": outcome.removed}


def enrolment_learner(conn: Connection, enrolment_id: int) -> int | None:
    """The learner an enrolment belongs to, or None when there is no such enrolment."""
    return conn.execute(
        select(enrolment.c.learner_id).where(enrolment.c.id == enrolment_id)
    ).scalar()


def _enrolment_with_links() -> Select:
    links = union_all(
        *(
            select(
                table.c.enrolment_id.label("owner"),
                literal(key).label("key"),
                table.c[column].label("value"),
            ).where(table.c.enrolment_id == bindparam("enrolment_id"))
            for key, table, column in LINKS
        )
    ).subquery("links")
    return (
        select(
            enrolment.c.id,
            enrolment.c.learner_id,
            enrolment.c.step_id,
            enrolment.c.academic_year,
            enrolment.c.status,
            enrolment.c.start_date,
            links.c.key,
            links.c.value,
        )
        .select_from(enrolment.outerjoin(links, links.c.owner == enrolment.c.id))
        .where(enrolment.c.id == bindparam("enrolment_id"))
        .order_by(links.c.key, links.c.value)
    )


# Built once: building and keying this statement cost more than running it.
_ENROLMENT_WITH_LINKS = _enrolment_with_links()


def get_enrolment(conn: Connection, enrolment_id: int) -> dict[str, Any]:
    """One enrolment with its groups, choices and exemptions, in one statement.

    One statement, so a reader outside a transaction still sees one snapshot (the served read
    costs one round trip): the enrolment joined to the union of its three link lists, a row
    per link, or one row with no link.
    """
    rows = conn.execute(_ENROLMENT_WITH_LINKS, {"enrolment_id": enrolment_id}).all()
    if not rows:
        raise NotFound.of("enrolment_id", f"no enrolment {enrolment_id}")
    first = rows[0]
    result: dict[str, Any] = {
        "id": first.id,
        "learner_id": first.learner_id,
        "step_id": first.step_id,
        "academic_year": first.academic_year,
        "status": first.status,
        "start_date": first.start_date.isoformat(),
    }
    for key, _table, _column in LINKS:
        result[key] = []
    for row in rows:
        if row.key is not None:
            result[row.key].append(row.value)
    return result


# Built once (see _ENROLMENT_WITH_LINKS): the enrolment's learner, for the access check, with
# a page of its participations; one row with no participation when the page is empty.
_PARTICIPATIONS_PAGE = (
    select(enrolment.c.learner_id, participation.c.activity_id, participation.c.status)
    .select_from(
        enrolment.outerjoin(
            participation,
            and_(
                participation.c.enrolment_id == enrolment.c.id,
                participation.c.activity_id > bindparam("after"),
            ),
        )
    )
    .where(enrolment.c.id == bindparam("enrolment_id"))
    .order_by(participation.c.activity_id)
    .limit(bindparam("rows"))
)


def list_participations(
    conn: Connection, enrolment_id: int, limit: int, after: int
) -> tuple[int, dict[str, Any]]:
    """The enrolment's learner and its participations, past ones included, by activity id: one
    statement."""
    rows = conn.execute(
        _PARTICIPATIONS_PAGE, {"enrolment_id": enrolment_id, "after": after, "rows": limit + 1}
    ).all()
    if not rows:
        raise NotFound.of("enrolment_id", f"no enrolment {enrolment_id}")
    found = [r for r in rows if r.activity_id is not None]
    return rows[0].learner_id, page(
        found,
        limit,
        lambda r: r.activity_id,
        lambda r: {"activity_id": r.activity_id, "status": r.status},
    )


def list_learner_enrolments(
    conn: Connection, learner_id: int, limit: int, after: int
) -> dict[str, Any]:
    """A learner's enrolments, cancelled ones included, by id."""
    if conn.execute(select(learner.c.id).where(learner.c.id == learner_id)).first() is None:
        raise NotFound.of("learner_id", f"no learner {learner_id}")
    rows = conn.execute(
        select(enrolment)
        .where(enrolment.c.learner_id == learner_id, enrolment.c.id > after)
        .order_by(enrolment.c.id)
        .limit(limit + 1)
    ).all()
    return page(
        rows,
        limit,
        lambda r: r.id,
        lambda r: {
            "id": r.id,
            "step_id": r.step_id,
            "academic_year": r.academic_year,
            "start_date": r.start_date.isoformat(),
            "status": r.status,
        },
    )
