"""Propagation: after a change, make the participations of every activity that has not
started exactly its eligible learners, capacity and waitlist included.

A fixed number of statements per change, whatever the number of learners and activities:
lock, delete what is no longer eligible, settle the seats of those present, insert what is
missing with its final seat and count it in the same statement. Never a loop of per-row
queries, and rows never travel through Python.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
)

from app import clock
from app.observability import metrics
from app.propagation import seats
from app.propagation.eligibility_sql import eligible_pairs
from app.propagation.scope import Scope, in_ids
from app.store.schema import activity, element, enrolment, participation, propagation_run

# High bits of the PostgreSQL advisory lock keys that serialise propagations of one step.
_LOCK_NAMESPACE = 7301 << 40
_COLUMNS = ["activity_id", "enrolment_id", "status", "run_id"]


@dataclass(frozen=True)
class Outcome:
    """What one propagation changed."""

    run_id: int
    created: int
    removed: int
    waitlisted: int


def propagate(conn: Connection, scope: Scope) -> Outcome:
    """Restore the invariant for everything `scope` touches, inside the caller's transaction."""
    started = time.perf_counter()
    try:
        outcome = _propagate(conn, scope, clock.now())
    except Exception:
        metrics.PROPAGATION_ERRORS.labels(scope.trigger).inc()
        raise
    metrics.record_propagation(
        scope.trigger,
        outcome.created,
        outcome.removed,
        outcome.waitlisted,
        time.perf_counter() - started,
    )
    return outcome


def _propagate(conn: Connection, scope: Scope, now: datetime) -> Outcome:
    dialect = conn.dialect.name
    if scope.enrolment_ids:
        enrolment_in_scope = in_ids(enrolment.c.id, scope.enrolment_ids, dialect)
        activity_in_scope = None
        participation_in_scope = in_ids(participation.c.enrolment_id, scope.enrolment_ids, dialect)
        steps = select(enrolment.c.step_id).where(enrolment_in_scope)
    else:
        enrolment_in_scope = None
        activity_in_scope = in_ids(activity.c.id, scope.activity_ids, dialect)
        participation_in_scope = in_ids(participation.c.activity_id, scope.activity_ids, dialect)
        steps = (
            select(element.c.step_id)
            .join(activity, activity.c.element_id == element.c.id)
            .where(activity_in_scope)
        )

    run_id: ColumnElement[int]
    if dialect == "postgresql":
        # The run's id is drawn here and its row written by the insert's own statement at the
        # end, with its counts: one statement fewer at each end of every propagation.
        # Propagations of one step run one after the other: each then sees what the previous
        # committed (a new activity, a new enrolment), and seats cannot be given twice. SQLite
        # writers already hold the database's single write lock (BEGIN IMMEDIATE).
        # Locks are taken in step order so that two batches never wait on each other.
        distinct_steps = steps.distinct().subquery("steps")
        locks = (
            select(func.pg_advisory_xact_lock(_LOCK_NAMESPACE + distinct_steps.c.step_id))
            .order_by(distinct_steps.c.step_id)
            .subquery("locks")
        )
        new_id, _ = conn.execute(
            select(
                func.nextval(func.pg_get_serial_sequence("propagation_run", "id")),
                select(func.count()).select_from(locks).scalar_subquery(),
            )
        ).one()
        run_id = literal(new_id, propagation_run.c.id.type)
    else:
        new_id = None
        # We hold the write lock until commit: the next id stays ours, and the run's row is
        # written at the end with its counts.
        run_id = _next_run_id()

    # What is no longer eligible: the scope's participations anti-joined with the scope's
    # eligible pairs, computed once (a set the planner can hash), not re-decided per row.
    not_started = activity.alias("not_started")
    still_eligible = eligible_pairs(enrolment_in_scope, activity_in_scope).subquery("still")
    removed = conn.execute(
        delete(participation).where(
            participation_in_scope,
            exists().where(
                not_started.c.id == participation.c.activity_id, not_started.c.starts_at > now
            ),
            ~exists().where(
                still_eligible.c.activity_id == participation.c.activity_id,
                still_eligible.c.enrolment_id == participation.c.enrolment_id,
            ),
        )
    ).rowcount

    touched = activity_in_scope if activity_in_scope is not None else _activities_of(steps)
    seats.settle_existing(conn, touched, now, capacity_may_drop=activity_in_scope is not None)

    missing = (
        eligible_pairs(enrolment_in_scope, activity_in_scope)
        .where(
            activity.c.starts_at > now,
            # Restated scope: any hash the planner builds holds the scope's rows, not the table.
            ~exists().where(
                participation_in_scope,
                participation.c.activity_id == activity.c.id,
                participation.c.enrolment_id == enrolment.c.id,
            ),
        )
        .add_columns(activity.c.capacity)
        .subquery("missing")
    )
    rows = seats.with_arrival_status(missing, touched, run_id)
    run = {"id": new_id, "trigger": scope.trigger, "started_at": now, "removed": removed}
    return _insert(conn, rows, run_id, run)


def _activities_of(steps) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    """Activities whose element lies in one of `steps`."""
    return activity.c.element_id.in_(select(element.c.id).where(element.c.step_id.in_(steps)))


def _next_run_id() -> ColumnElement[int]:
    return select(func.coalesce(func.max(propagation_run.c.id), 0) + 1).scalar_subquery()


def _run_row(run: dict[str, Any]) -> list[ColumnElement[Any]]:
    """The run's trigger, start and removals, typed as the table's columns."""
    return [
        literal(run["trigger"], propagation_run.c.trigger.type),
        literal(run["started_at"], propagation_run.c.started_at.type),
        literal(run["removed"], propagation_run.c.participations_removed.type),
    ]


_RUN_COLUMNS = [
    "id",
    "trigger",
    "started_at",
    "participations_removed",
    "participations_created",
    "waitlisted",
]


def _insert(
    conn: Connection, rows: Select, run_id: ColumnElement[int], run: dict[str, Any]
) -> Outcome:
    """Insert `rows` and the run's own row; (created, waitlisted) counted from the insert
    itself, never by reading the rows back into Python nor by a second scan of the table."""
    statement = insert(participation).from_select(_COLUMNS, rows)
    if conn.dialect.name == "postgresql":
        inserted = statement.returning(participation.c.status).cte("inserted")
        waiting = func.coalesce(func.sum(case((inserted.c.status == "waitlisted", 1), else_=0)), 0)
        counts = (
            select(func.count().label("created"), waiting.label("waitlisted"))
            .select_from(inserted)
            .cte("counts")
        )
        # The run's row in the same statement: PostgreSQL runs every data-modifying WITH.
        recorded = (
            insert(propagation_run)
            .from_select(
                _RUN_COLUMNS,
                select(run_id, *_run_row(run), counts.c.created, counts.c.waitlisted),
            )
            .cte("recorded")
        )
        created, waitlisted = conn.execute(
            select(counts.c.created, counts.c.waitlisted).add_cte(recorded)
        ).one()
        return Outcome(run["id"], created, run["removed"], waitlisted)
    # SQLite has no INSERT in a WITH clause. Its new rows take the ids just above the previous
    # largest (we hold the write lock), so the newcomers are the top `created` ids: a range
    # scan of the primary key over those rows only, counted by the run's own insert.
    created = conn.execute(statement.execution_options(preserve_rowcount=True)).rowcount
    newest = select(func.max(participation.c.id)).scalar_subquery()
    waiting = (
        select(func.count())
        .select_from(participation)
        .where(participation.c.id > newest - created, participation.c.status == "waitlisted")
        .scalar_subquery()
    )
    new_run, waitlisted = conn.execute(
        insert(propagation_run)
        .from_select(
            _RUN_COLUMNS,
            select(
                run_id,
                *_run_row(run),
                literal(created, propagation_run.c.participations_created.type),
                waiting,
            ),
        )
        .returning(propagation_run.c.id, propagation_run.c.waitlisted)
    ).one()
    return Outcome(run_id=new_run, created=created, removed=run["removed"], waitlisted=waitlisted)
