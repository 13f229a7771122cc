"""Learners: create and read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from app.domain import values
from app.domain.errors import Conflict, NotFound
from app.store.schema import learner
from app.store.upsert import insert_for


def create_learner(conn: Connection, body: dict[str, Any]) -> dict[str, int]:
    """Create a learner; 409 when the external id is taken.

    One statement: the insert itself finds a taken id (ON CONFLICT DO NOTHING returns no row),
    instead of a look-up first and an insert inside a savepoint, three more round trips.
    """
    values.email(body["email"], "email")
    row = {k: body[k] for k in ("external_id", "first_name", "last_name", "email")}
    created = conn.execute(
        insert_for(conn, learner)
        .values(**row)
        .on_conflict_do_nothing(index_elements=[learner.c.external_id])
        .returning(learner.c.id)
    ).scalar()
    if created is not None:
        return {"id": created}
    taken = conn.execute(
        select(learner.c.id).where(learner.c.external_id == body["external_id"])
    ).scalar()
    raise Conflict.of("external_id", f"a learner with this external id exists (id {taken})")


def get_learner(conn: Connection, learner_id: int) -> dict[str, Any]:
    """One learner, or 404."""
    row = conn.execute(select(learner).where(learner.c.id == learner_id)).mappings().first()
    if row is None:
        raise NotFound.of("learner_id", f"no learner {learner_id}")
    return dict(row)
