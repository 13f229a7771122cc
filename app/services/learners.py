"""Learners: create and read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from app.domain import values
from app.domain.errors import Conflict, NotFound
from app.services.unique_rows import insert_unique
from app.store.schema import learner


def create_learner(conn: Connection, body: dict[str, Any]) -> dict[str, int]:
    """Create a learner; 409 when the external id is taken."""
    values.email(body["email"], "email")
    taken = conn.execute(
        select(learner.c.id).where(learner.c.external_id == body["external_id"])
    ).first()
    if taken:
        raise Conflict.of("external_id", f"a learner with this external id exists (id {taken.id})")
    row = {k: body[k] for k in ("external_id", "first_name", "last_name", "email")}
    # Another request may take the external id between our check and our insert.
    taken_now = "a learner with this external id exists"
    return {"id": insert_unique(conn, learner, row, "external_id", taken_now)}


def get_learner(conn: Connection, learner_id: int) -> dict[str, Any]:
    """One learner, or 404."""
    row = conn.execute(select(learner).where(learner.c.id == learner_id)).mappings().first()
    if row is None:
        raise NotFound.of("learner_id", f"no learner {learner_id}")
    return dict(row)
