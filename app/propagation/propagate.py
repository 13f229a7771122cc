"""Propagation: after a change, make the participations of every activity that has not
started exactly its eligible learners, capacity and waitlist included.

A fixed number of statements per change, whatever the number of learners and activities:
lock, delete what is no longer eligible, insert what is missing, settle seats, count. Never
a loop of per-row queries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from app import clock
from app.observability import metrics
from app.propagation.eligibility_sql import eligible_pairs, pair_is_eligible
from app.propagation.scope import Scope
from app.store.json_rows import id_rows
from app.store.schema import activity, element, enrolment, participation, propagation_run

# High bits of the PostgreSQL advisory lock keys that serialise propagations of one step.
_LOCK_NAMESPACE = 7301 << 40


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
        ids = id_rows(dialect, "scope_ids", scope.enrolment_ids)
        enrolment_in_scope = enrolment.c.id.in_(select(ids.c.id))
        activity_in_scope = None
        participation_in_scope = participation.c.enrolment_id.in_(select(ids.c.id))
        steps = select(enrolment.c.step_id).where(enrolment_in_scope)
    else:
        ids = id_rows(dialect, "scope_ids", scope.activity_ids)
        enrolment_in_scope = None
        activity_in_scope = activity.c.id.in_(select(ids.c.id))
        participation_in_scope = participation.c.activity_id.in_(select(ids.c.id))
        steps = (
            select(element.c.step_id)
            .join(activity, activity.c.element_id == element.c.id)
            .where(activity_in_scope)
        )

    run_id = conn.execute(
        insert(propagation_run)
        .values(trigger=scope.trigger, started_at=now)
        .returning(propagation_run.c.id)
    ).scalar_one()

    if dialect == "postgresql":
        # Propagations of one step run one after the other: each then sees what the previous
        # committed (a new activity, a new enrolment), and seats cannot be given twice. SQLite
        # writers already hold the database's single write lock (BEGIN IMMEDIATE).
        # Locks are taken in step order so that two batches never wait on each other.
        distinct_steps = steps.distinct().subquery("steps")
        conn.execute(
            select(func.pg_advisory_xact_lock(_LOCK_NAMESPACE + distinct_steps.c.step_id)).order_by(
                distinct_steps.c.step_id
            )
        ).all()

    not_started = activity.alias("not_started")
    removed = conn.execute(
        delete(participation).where(
            participation_in_scope,
            exists().where(
                not_started.c.id == participation.c.activity_id, not_started.c.starts_at > now
            ),
            ~pair_is_eligible(participation.c.enrolment_id, participation.c.activity_id).correlate(
                participation
            ),
        )
    ).rowcount

    missing = (
        eligible_pairs(enrolment_in_scope, activity_in_scope)
        .where(
            activity.c.starts_at > now,
            ~exists().where(
                participation.c.activity_id == activity.c.id,
                participation.c.enrolment_id == enrolment.c.id,
            ),
        )
        .add_columns(
            case((activity.c.capacity.is_(None), literal("active")), else_=literal("waitlisted")),
            literal(run_id),
        )
        # Fixed order: arrival order within a batch is deterministic, and rows are written in
        # the same order by every transaction.
        .order_by(activity.c.id, enrolment.c.id)
    )
    created = conn.execute(
        insert(participation)
        .from_select(["activity_id", "enrolment_id", "status", "run_id"], missing)
        # SQLAlchemy keeps an INSERT's row count only when asked.
        .execution_options(preserve_rowcount=True)
    ).rowcount

    touched = activity_in_scope if activity_in_scope is not None else _activities_of(steps)
    _settle_seats(conn, touched, now)

    waitlisted = conn.execute(
        select(func.count())
        .select_from(participation)
        .where(participation.c.run_id == run_id, participation.c.status == "waitlisted")
    ).scalar_one()
    conn.execute(
        update(propagation_run)
        .where(propagation_run.c.id == run_id)
        .values(
            participations_created=created, participations_removed=removed, waitlisted=waitlisted
        )
    )
    return Outcome(run_id=run_id, created=created, removed=removed, waitlisted=waitlisted)


def _activities_of(steps) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    """Activities whose element lies in one of `steps`."""
    return activity.c.element_id.in_(select(element.c.id).where(element.c.step_id.in_(steps)))


def _settle_seats(conn: Connection, touched: ColumnElement[bool], now: datetime) -> None:
    """Give seats in arrival order, seated learners first; one UPDATE over a ranking window.

    A seat once given is kept against newcomers; a freed seat goes to the earliest waiting
    arrival; a lowered capacity sends the latest seated arrivals back to the waitlist.
    """
    rank = (
        func.row_number()
        .over(
            partition_by=participation.c.activity_id,
            order_by=(case((participation.c.status == "active", 0), else_=1), participation.c.id),
        )
        .label("rank")
    )
    has_waitlist = exists().where(
        participation.c.activity_id == activity.c.id, participation.c.status == "waitlisted"
    )
    ranked = (
        select(participation.c.id, participation.c.status, activity.c.capacity, rank)
        .join(activity, activity.c.id == participation.c.activity_id)
        .where(
            touched,
            activity.c.starts_at > now,
            or_(activity.c.capacity.isnot(None), has_waitlist.correlate(activity)),
        )
        .subquery("ranked")
    )
    wanted = case(
        (or_(ranked.c.capacity.is_(None), ranked.c.rank <= ranked.c.capacity), "active"),
        else_="waitlisted",
    )
    conn.execute(
        update(participation)
        .where(and_(participation.c.id == ranked.c.id, ranked.c.status != wanted))
        .values(status=wanted)
    )
