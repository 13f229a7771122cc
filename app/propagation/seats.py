"""Seats and waitlists, settled in SQL: who of an activity's participants holds a seat.

The order is the one DOMAIN.md gives: a seat once given is kept against newcomers, a freed
seat goes to the earliest waiting arrival, a lowered capacity sends the latest seated
arrivals back to the waitlist. Arrival order is `participation.id`; the seated of an
activity are always its earliest arrivals.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Select,
    and_,
    any_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)

from app.store.schema import activity, participation

# Written into the statement, not bound: the plan of a prepared statement, reused with any
# value, may not use the partial index of those who wait (its predicate names the value), and
# then walked every participant of the activity once per participant: 0.4 s for each single
# enrolment in the start-of-year load test, under the step's lock.
WAITLISTED = literal("waitlisted", literal_execute=True)


def has_waitlist() -> ColumnElement[bool]:
    """Someone waits for a seat in `activity` (a lookup in the small partial index)."""
    return exists().where(
        participation.c.activity_id == activity.c.id, participation.c.status == WAITLISTED
    )


def settle_existing(
    conn: Connection, touched: ColumnElement[bool], now: datetime, capacity_may_drop: bool
) -> None:
    """Give seats among the participants already present; one UPDATE over a ranking window.

    Run before newcomers are inserted: they arrive after everyone present, so their status
    depends only on how many are present (see `arrival_status`). Only activities where a seat
    can move are ranked: when the change may have lowered a capacity (an activity change, a
    repair), those with a capacity or someone waiting; after an enrolment change, only those
    where someone waits and a seat is free, since its deletions can only free seats.
    """
    # Arrival order alone: when the invariant holds, the seated are the earliest arrivals of
    # each activity (newcomers arrive last and are seated only when nobody waits), so ranking
    # by arrival keeps every seat given. A repair then also puts back in order a waitlist
    # that was left out of arrival order.
    rank = (
        func.row_number()
        .over(partition_by=participation.c.activity_id, order_by=participation.c.id)
        .label("rank")
    )
    if capacity_may_drop:
        movable = or_(activity.c.capacity.isnot(None), has_waitlist().correlate(activity))
    else:
        # Someone waits and a seat is free: counted only for activities with a waitlist.
        seated = participation.alias("seated")
        taken = (
            select(func.count())
            .select_from(seated)
            .where(seated.c.activity_id == activity.c.id, seated.c.status == "active")
            .scalar_subquery()
        )
        movable = and_(
            has_waitlist().correlate(activity),
            or_(activity.c.capacity.is_(None), taken < activity.c.capacity),
        )
    ranked = (
        select(participation.c.id, participation.c.status, activity.c.capacity, rank)
        .join(activity, activity.c.id == participation.c.activity_id)
        .where(touched, activity.c.starts_at > now, movable)
        .subquery("ranked")
    )
    wanted = case(
        (or_(ranked.c.capacity.is_(None), ranked.c.rank <= ranked.c.capacity), "active"),
        else_="waitlisted",
    )
    moving = select(ranked.c.id).where(ranked.c.status != wanted)
    # A participation that moves changes to the other of the two statuses. Its ids are
    # gathered first and each one looked up in the primary key: written as a join, the
    # planner hashed the whole participation table to update none of it (0.05 s in the first
    # of 30 validator runs, 1 s in the last).
    if conn.dialect.name == "postgresql":
        chosen = participation.c.id == any_(func.array(moving.scalar_subquery()))
    else:
        chosen = participation.c.id.in_(moving)
    conn.execute(
        update(participation)
        .where(chosen)
        .values(status=case((participation.c.status == "active", "waitlisted"), else_="active"))
    )


def with_arrival_status(
    missing: FromClause, touched: ColumnElement[bool], run_id: ColumnElement[int]
) -> Select:
    """The rows to insert for `missing` (activity_id, enrolment_id, capacity), each with its
    final status, in arrival order (activity, enrolment).

    Newcomers rank after everyone present, so the n-th newcomer of an activity is seated when
    the participants present plus n fit in the capacity. Those present are counted once per
    activity that has a capacity, before the insert: no pass over the new rows afterwards.
    """
    # An aggregate is computed once and then joined, whatever the planner guesses about
    # freshly written enrolments; a correlated count would run once per new row.
    present = (
        select(participation.c.activity_id, func.count().label("present"))
        .join(activity, activity.c.id == participation.c.activity_id)
        .where(touched, activity.c.capacity.isnot(None))
        .group_by(participation.c.activity_id)
        .subquery("present")
    )
    arrival = func.row_number().over(
        partition_by=missing.c.activity_id, order_by=missing.c.enrolment_id
    )
    status = case(
        (missing.c.capacity.is_(None), literal("active")),
        (func.coalesce(present.c.present, 0) + arrival <= missing.c.capacity, literal("active")),
        else_=literal("waitlisted"),
    )
    return (
        select(missing.c.activity_id, missing.c.enrolment_id, status, run_id)
        .select_from(missing.outerjoin(present, present.c.activity_id == missing.c.activity_id))
        # Fixed order: arrival order within a batch is deterministic, and rows are written in
        # the same order by every transaction.
        .order_by(missing.c.activity_id, missing.c.enrolment_id)
    )
