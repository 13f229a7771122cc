"""Learners: create and read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select, text

from app.domain import values
from app.domain.errors import Conflict, NotFound
from app.store.schema import learner

# Written out once: SQLAlchemy compiles its dialect `INSERT … ON CONFLICT` constructs again on
# every call (they are not cacheable), which cost a quarter of a served write. The same text
# runs on PostgreSQL and SQLite.
_CREATE = text(
    "INSERT INTO learner (external_id, first_name, last_name, email) "
    "VALUES (:external_id, :first_name, :last_name, :email) "
    "ON CONFLICT (external_id) DO NOTHING RETURNING id"
)
_TAKEN = select(learner.c.id).where(learner.c.external_id == bindparam("external_id"))
_ONE = select(learner).where(learner.c.id == bindparam("learner_id"))


def create_learner(conn: Connection, body: dict[str, Any]) -> dict[str, int]:
    """Create a learner; 409 when the external id is taken.

    One writing statement: the insert itself finds a taken id (ON CONFLICT DO NOTHING returns
    no row), instead of a look-up first and an insert inside a savepoint, three more round
    trips. Only a refusal reads the taken id afterwards.
    """
    values.email(body["email"], "email")
    row = {k: body[k] for k in ("external_id", "first_name", "last_name", "email")}
    created = conn.execute(_CREATE, row).scalar()
    if created is not None:
        return {"id": created}
    taken = conn.execute(_TAKEN, {"external_id": body["external_id"]}).scalar()
    raise Conflict.of("external_id", f"a learner with this external id exists (id {taken})")


def get_learner(conn: Connection, learner_id: int) -> dict[str, Any]:
    """One learner, or 404."""
    row = conn.execute(_ONE, {"learner_id": learner_id}).mappings().first()
    if row is None:
        raise NotFound.of("learner_id", f"no learner {learner_id}")
    return dict(row)
