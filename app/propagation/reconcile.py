"""Check the whole database against the invariant, with the same eligibility query."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, exists, func, select

from app import clock
from app.propagation.eligibility_sql import eligible_pairs, pair_is_eligible
from app.propagation.propagate import Outcome, propagate
from app.propagation.scope import Scope
from app.store.schema import activity, enrolment, participation


@dataclass(frozen=True)
class Drift:
    missing: int
    extra: int


def reconcile(conn: Connection) -> Drift:
    """Eligible pairs without a participation, and participations no longer eligible, over
    activities that have not started."""
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
    return Drift(missing, extra)


def repair_all(conn: Connection) -> Outcome:
    """Propagate over every activity that has not started."""
    ids = list(
        conn.execute(select(activity.c.id).where(activity.c.starts_at > clock.now())).scalars()
    )
    if not ids:
        return Outcome(run_id=0, created=0, removed=0, waitlisted=0)
    return propagate(conn, Scope("reconcile", activity_ids=ids))
