"""Check the whole database against the invariant, with the same eligibility query, seats
included; repair it with one propagation over every activity that has not started."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, case, exists, func, or_, select

from app import clock
from app.propagation.eligibility_sql import eligible_pairs, pair_is_eligible
from app.propagation.propagate import Outcome, propagate
from app.propagation.scope import Scope
from app.propagation.seats import has_waitlist
from app.store.schema import activity, enrolment, participation

# Each kind of difference, as `check-participations` names it.
KINDS = {
    "missing": "missing",
    "extra": "not eligible",
    "waitlisted_with_free_seat": "waitlisted while a seat is free",
    "over_capacity": "seated beyond capacity",
    "out_of_order": "waitlisted out of arrival order",
}


@dataclass(frozen=True)
class Drift:
    """Differences from the invariant over the activities that have not started."""

    missing: int
    extra: int
    waitlisted_with_free_seat: int = 0
    over_capacity: int = 0
    out_of_order: int = 0

    @property
    def total(self) -> int:
        """Every difference, whatever its kind."""
        return sum(getattr(self, kind) for kind in KINDS)

    def by_kind(self) -> dict[str, int]:
        """Each kind of difference with its count."""
        return {kind: getattr(self, kind) for kind in KINDS}


def reconcile(conn: Connection) -> Drift:
    """Eligible pairs without a participation, participations no longer eligible, and seats
    given against the rules, over activities that have not started."""
    now = clock.now()
    missing = conn.execute(
        select(func.count()).select_from(
            eligible_pairs(activity_filter=activity.c.starts_at > now)
            .where(
                ~exists().where(
                    participation.c.activity_id == activity.c.id,
                    participation.c.enrolment_id == enrolment.c.id,
                )
            )
            .subquery()
        )
    ).scalar_one()
    not_started = activity.alias("not_started")
    extra = conn.execute(
        select(func.count())
        .select_from(participation)
        .join(not_started, not_started.c.id == participation.c.activity_id)
        .where(
            not_started.c.starts_at > now,
            ~pair_is_eligible(participation.c.enrolment_id, participation.c.activity_id),
        )
    ).scalar_one()
    return Drift(missing, extra, *_seat_drift(conn, now))


def _seat_drift(conn: Connection, now) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """(waitlisted while a seat is free, seated beyond capacity, waitlisted out of arrival
    order), in one statement over the activities where seats can be wrong at all: those
    with a capacity or someone waiting."""
    seated = participation.c.status == "active"
    by_activity = {"partition_by": participation.c.activity_id}
    rows = (
        select(
            participation.c.id,
            participation.c.status,
            activity.c.capacity,
            # Rank among those of the same status, in arrival order.
            func.row_number()
            .over(
                partition_by=(participation.c.activity_id, participation.c.status),
                order_by=participation.c.id,
            )
            .label("rank"),
            func.sum(case((seated, 1), else_=0)).over(**by_activity).label("seats_taken"),
            func.max(case((seated, participation.c.id))).over(**by_activity).label("last_seated"),
        )
        .join(activity, activity.c.id == participation.c.activity_id)
        .where(
            activity.c.starts_at > now,
            or_(activity.c.capacity.isnot(None), has_waitlist().correlate(activity)),
        )
        .subquery("seats")
    )
    waiting = rows.c.status == "waitlisted"
    free_seat = waiting & (
        rows.c.capacity.is_(None) | (rows.c.rank <= rows.c.capacity - rows.c.seats_taken)
    )
    beyond = (rows.c.status == "active") & (rows.c.rank > rows.c.capacity)
    # Each wrong participation counts once: one left waiting with a seat free is that kind.
    out_of_order = waiting & ~free_seat & (rows.c.id < rows.c.last_seated)

    def count(condition) -> object:  # type: ignore[no-untyped-def]
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    result = conn.execute(select(count(free_seat), count(beyond), count(out_of_order))).one()
    return int(result[0]), int(result[1]), int(result[2])


def repair_all(conn: Connection) -> Outcome:
    """Propagate over every activity that has not started."""
    ids = list(
        conn.execute(select(activity.c.id).where(activity.c.starts_at > clock.now())).scalars()
    )
    if not ids:
        return Outcome(run_id=0, created=0, removed=0, waitlisted=0)
    return propagate(conn, Scope("reconcile", activity_ids=ids))
