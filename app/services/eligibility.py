"""Explain one decision: is this enrolment eligible for that activity, and if not, why."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from app.domain.eligibility import ActivityFacts, EnrolmentFacts, PathElement, reasons_not_eligible
from app.domain.errors import NotFound
from app.store.schema import (
    activity,
    element,
    element_closure,
    enrolment,
    enrolment_choice,
    enrolment_exemption,
    enrolment_group,
    participation,
)


def _ids(conn: Connection, table: Any, column: str, enrolment_id: int) -> frozenset[int]:
    return frozenset(
        conn.execute(select(table.c[column]).where(table.c.enrolment_id == enrolment_id)).scalars()
    )


def explain(conn: Connection, enrolment_id: int, activity_id: int) -> dict[str, Any]:
    """The rules the pair breaks (none when eligible) and the participation it has, if any."""
    e = conn.execute(select(enrolment).where(enrolment.c.id == enrolment_id)).first()
    if e is None:
        raise NotFound.of("enrolment_id", f"no enrolment {enrolment_id}")
    a = conn.execute(
        select(activity, element.c.step_id)
        .join(element, element.c.id == activity.c.element_id)
        .where(activity.c.id == activity_id)
    ).first()
    if a is None:
        raise NotFound.of("activity_id", f"no activity {activity_id}")
    path = conn.execute(
        select(element.c.id, element.c.optional)
        .join(element_closure, element_closure.c.ancestor_id == element.c.id)
        .where(element_closure.c.descendant_id == a.element_id)
        .order_by(element_closure.c.depth.desc())
    ).all()
    reasons = reasons_not_eligible(
        EnrolmentFacts(
            e.step_id,
            e.academic_year,
            e.status == "active",
            e.start_date,
            _ids(conn, enrolment_group, "group_id", enrolment_id),
            _ids(conn, enrolment_choice, "element_id", enrolment_id),
            _ids(conn, enrolment_exemption, "element_id", enrolment_id),
        ),
        ActivityFacts(
            a.step_id,
            a.academic_year,
            a.group_id,
            a.ends_at,
            tuple(PathElement(p.id, p.optional) for p in path),
        ),
    )
    status = conn.execute(
        select(participation.c.status).where(
            participation.c.enrolment_id == enrolment_id, participation.c.activity_id == activity_id
        )
    ).scalar()
    return {
        "enrolment_id": enrolment_id,
        "activity_id": activity_id,
        "eligible": not reasons,
        "reasons": reasons,
        "participation": status,
    }
