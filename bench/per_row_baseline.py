"""The naive per-row propagation the benchmark compares against (run on size S only).

What a first version typically does: enumerate the candidate pairs, ask the eligibility
rules about each pair with the queries that explain one decision, then insert or delete one
participation at a time, counting the seats taken before each insert. Correct, and one
statement or more per row: the ERP vendor's "4,000+ SQL queries" shape. It does not move
waitlisted learners into freed seats, which only flatters it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select

from app import clock
from app.services.eligibility import explain
from app.store.schema import activity, element, enrolment, participation, propagation_run


@dataclass(frozen=True)
class PerRow:
    """What the per-row propagation did, and what deciding every pair would have cost."""

    created: int
    removed: int
    decided: int
    pairs: int
    seconds: float

    @property
    def seconds_for_all(self) -> float:
        """The time to decide every pair, extrapolated linearly from those decided."""
        return self.seconds * self.pairs / self.decided if self.decided else 0.0


def propagate_per_row(
    conn: Connection,
    enrolment_ids: Sequence[int] = (),
    activity_ids: Sequence[int] = (),
    sample: int | None = None,
) -> PerRow:
    """Decide the candidate pairs one at a time (only the first `sample` of them if given:
    the cost per pair is flat, so the rest is extrapolated)."""
    started = time.perf_counter()
    now = clock.now()
    run_id = conn.execute(
        insert(propagation_run)
        .values(trigger="reconcile", started_at=now)
        .returning(propagation_run.c.id)
    ).scalar_one()
    pairs: list[tuple[int, int]] = []
    for enrolment_id in enrolment_ids:
        step_id = conn.execute(
            select(enrolment.c.step_id).where(enrolment.c.id == enrolment_id)
        ).scalar_one()
        for activity_id in conn.execute(
            select(activity.c.id)
            .join(element, element.c.id == activity.c.element_id)
            .where(element.c.step_id == step_id)
        ).scalars():
            pairs.append((enrolment_id, activity_id))
    for activity_id in activity_ids:
        step_id = conn.execute(
            select(element.c.step_id)
            .join(activity, activity.c.element_id == element.c.id)
            .where(activity.c.id == activity_id)
        ).scalar_one()
        for enrolment_id in conn.execute(
            select(enrolment.c.id).where(enrolment.c.step_id == step_id)
        ).scalars():
            pairs.append((enrolment_id, activity_id))
    created = removed = 0
    decided = pairs[:sample] if sample else pairs
    for enrolment_id, activity_id in decided:
        row = conn.execute(
            select(activity.c.starts_at, activity.c.capacity).where(activity.c.id == activity_id)
        ).one()
        if row.starts_at <= now:
            continue
        decision = explain(conn, enrolment_id, activity_id)
        if decision["eligible"] and decision["participation"] is None:
            taken = conn.execute(
                select(func.count()).where(
                    participation.c.activity_id == activity_id,
                    participation.c.status == "active",
                )
            ).scalar_one()
            seated = row.capacity is None or taken < row.capacity
            conn.execute(
                insert(participation).values(
                    activity_id=activity_id,
                    enrolment_id=enrolment_id,
                    status="active" if seated else "waitlisted",
                    run_id=run_id,
                )
            )
            created += 1
        elif not decision["eligible"] and decision["participation"] is not None:
            conn.execute(
                delete(participation).where(
                    participation.c.activity_id == activity_id,
                    participation.c.enrolment_id == enrolment_id,
                )
            )
            removed += 1
    return PerRow(created, removed, len(decided), len(pairs), time.perf_counter() - started)
