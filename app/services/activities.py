"""Teaching activities: create, change, remove, read. Every write propagates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from app import clock
from app.domain import values
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound, collect
from app.domain.pages import page
from app.observability import metrics
from app.propagation.propagate import propagate
from app.propagation.scope import Scope
from app.services.references import groups_of
from app.store.schema import activity, element, enrolment, participation

KINDS = ("lecture", "tutorial", "practical", "exam")


def _instant(body: dict[str, Any], key: str, errors: list[FieldError]) -> datetime | None:
    try:
        return values.instant(body[key], key)
    except InvalidInput as exc:
        errors.extend(exc.errors)
        return None


def _check_group(
    conn: Connection, group_id: int | None, step_id: int, errors: list[FieldError]
) -> None:
    if group_id is None:
        return
    group = groups_of(conn, [group_id]).get(group_id)
    if group is None or group.step_id != step_id:
        errors.append(
            FieldError("group_id", f"no group {group_id} in the element's step {step_id}")
        )


def create_activity(conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """Create an activity and seat its eligible learners."""
    errors: list[FieldError] = []
    try:
        values.academic_year(body["academic_year"], "academic_year")
    except InvalidInput as exc:
        errors.extend(exc.errors)
    starts_at = _instant(body, "starts_at", errors)
    ends_at = _instant(body, "ends_at", errors)
    if starts_at and ends_at and ends_at <= starts_at:
        errors.append(FieldError("ends_at", "must be after starts_at"))
    step_id = conn.execute(
        select(element.c.step_id).where(element.c.id == body["element_id"])
    ).scalar()
    if step_id is None:
        errors.append(FieldError("element_id", f"no element {body['element_id']}"))
    else:
        _check_group(conn, body.get("group_id"), step_id, errors)
    collect(errors)
    new_id = conn.execute(
        activity.insert()
        .values(
            element_id=body["element_id"],
            academic_year=body["academic_year"],
            kind=body["kind"],
            group_id=body.get("group_id"),
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=body.get("capacity"),
        )
        .returning(activity.c.id)
    ).scalar_one()
    outcome = propagate(conn, Scope("activity_create", activity_ids=[new_id]))
    return {
        "id": new_id,
        "participations_created": outcome.created,
        "waitlisted": outcome.waitlisted,
    }


def _locked(conn: Connection, activity_id: int) -> Any:
    row = conn.execute(
        select(activity, element.c.step_id)
        .join(element, element.c.id == activity.c.element_id)
        .where(activity.c.id == activity_id)
        .with_for_update(of=activity)
    ).first()
    if row is None:
        raise NotFound.of("activity_id", f"no activity {activity_id}")
    return row


def update_activity(conn: Connection, activity_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Change group, times or capacity; then propagate (started activities keep their history)."""
    row = _locked(conn, activity_id)
    errors: list[FieldError] = []
    changes: dict[str, Any] = {}
    for key in ("starts_at", "ends_at"):
        if key in body:
            changes[key] = _instant(body, key, errors)
    if "group_id" in body:
        _check_group(conn, body["group_id"], row.step_id, errors)
        changes["group_id"] = body["group_id"]
    if "capacity" in body:
        changes["capacity"] = body["capacity"]
    starts_at = changes.get("starts_at", row.starts_at)
    ends_at = changes.get("ends_at", row.ends_at)
    if starts_at and ends_at and ends_at <= starts_at:
        errors.append(FieldError("ends_at", "must be after starts_at"))
    collect(errors)
    _refuse_rewriting_history(row, changes, clock.now())
    conn.execute(activity.update().where(activity.c.id == activity_id).values(**changes))
    outcome = propagate(conn, Scope("activity_update", activity_ids=[activity_id]))
    return {
        "id": activity_id,
        "participations_created": outcome.created,
        "participations_removed": outcome.removed,
    }


# Who takes part follows from these; starts_at decides whether the activity is history.
_PARTICIPATION_FIELDS = ("group_id", "capacity")


def _refuse_rewriting_history(row: Any, changes: dict[str, Any], now: datetime) -> None:
    """Started activities are history: no change may alter who took part in them.

    Propagation leaves started activities alone, so a change it cannot apply must be refused
    rather than stored: a new group or capacity, a start moved back into the future (that would
    make the history eligible for deletion), or a start moved into the past together with a
    change of who takes part (the change would never reach the participations).
    """
    changed = [k for k in _PARTICIPATION_FIELDS if k in changes and changes[k] != getattr(row, k)]
    starts_at = changes.get("starts_at", row.starts_at)
    if row.starts_at <= now:
        if starts_at > now:
            raise Conflict.of(
                "starts_at", "the activity has started: its start cannot move into the future"
            )
        if changed:
            raise Conflict.of(
                changed[0], "the activity has started: who took part in it is history"
            )
    elif starts_at <= now and changed:
        raise Conflict.of(changed[0], "change who takes part before moving the start into the past")


def delete_activity(conn: Connection, activity_id: int) -> dict[str, Any]:
    """Remove an activity that has not started, with its participations."""
    row = _locked(conn, activity_id)
    if row.starts_at <= clock.now():
        raise Conflict.of("activity_id", "the activity has started: its participations are history")
    removed = conn.execute(
        delete(participation).where(participation.c.activity_id == activity_id)
    ).rowcount
    conn.execute(delete(activity).where(activity.c.id == activity_id))
    metrics.PROPAGATION_REMOVED.labels("activity_delete").inc(removed)
    return {"id": activity_id, "participations_removed": removed}


def get_activity(conn: Connection, activity_id: int) -> dict[str, Any]:
    """One activity."""
    row = conn.execute(select(activity).where(activity.c.id == activity_id)).mappings().first()
    if row is None:
        raise NotFound.of("activity_id", f"no activity {activity_id}")
    result = dict(row)
    result["starts_at"] = row["starts_at"].isoformat()
    result["ends_at"] = row["ends_at"].isoformat()
    return result


def list_participants(conn: Connection, activity_id: int, limit: int, after: int) -> dict[str, Any]:
    """Who takes part, seated and waitlisted, by enrolment id."""
    if conn.execute(select(activity.c.id).where(activity.c.id == activity_id)).first() is None:
        raise NotFound.of("activity_id", f"no activity {activity_id}")
    rows = conn.execute(
        select(participation.c.enrolment_id, enrolment.c.learner_id, participation.c.status)
        .join(enrolment, enrolment.c.id == participation.c.enrolment_id)
        .where(participation.c.activity_id == activity_id, participation.c.enrolment_id > after)
        .order_by(participation.c.enrolment_id)
        .limit(limit + 1)
    ).all()
    return page(
        rows,
        limit,
        lambda r: r.enrolment_id,
        lambda r: {"enrolment_id": r.enrolment_id, "learner_id": r.learner_id, "status": r.status},
    )
