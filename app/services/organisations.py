"""Organisations: sign-up (the surge path) and reading one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select, text

from app import clock
from app.domain import employer_messages, values
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.siret import siret
from app.services.outbox import Message, enqueue
from app.services.tokens import create_token
from app.store.schema_employers import organisation
from app.store.types import UtcDateTime

# Written out once: SQLAlchemy compiles its dialect `INSERT … ON CONFLICT` constructs again on
# every call (they are not cacheable). The same text runs on PostgreSQL and SQLite.
_SIGN_UP = text(
    "INSERT INTO organisation (siret, name, contact_email, created_at) "
    "VALUES (:siret, :name, :contact_email, :created_at) "
    "ON CONFLICT (siret) DO NOTHING RETURNING id"
).bindparams(bindparam("created_at", type_=UtcDateTime()))


def sign_up(conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """Register an organisation and mint its employer token, in one short transaction.

    The unique index on `siret` is the duplicate check: the insert does nothing when the SIRET
    exists, so two simultaneous sign-ups cannot both pass a read-then-write check; the second
    waits for the first and gets 409.
    """
    number = siret(body["siret"], "siret")
    contact = values.email(body["contact_email"], "contact_email")
    name = body["name"].strip()
    if not name:
        raise InvalidInput.of("name", "must not be blank")
    new_id = conn.execute(
        _SIGN_UP,
        {"siret": number, "name": name, "contact_email": contact, "created_at": clock.now()},
    ).scalar()
    if new_id is None:
        raise Conflict.of("siret", "an organisation with this SIRET is already registered")
    token = create_token(conn, "employer", f"organisation {new_id}", organisation_id=new_id)
    subject, text = employer_messages.signup_confirmation(name, number, new_id)
    enqueue(conn, [Message("signup_confirmation", contact, subject, text)])
    return {"id": new_id, "token": token}


def get_organisation(conn: Connection, organisation_id: int) -> dict[str, Any]:
    """One organisation, or 404."""
    row = conn.execute(select(organisation).where(organisation.c.id == organisation_id)).first()
    if row is None:
        raise NotFound.of("organisation_id", f"no organisation {organisation_id}")
    return {
        "id": row.id,
        "siret": row.siret,
        "name": row.name,
        "contact_email": row.contact_email,
        "created_at": row.created_at.isoformat(),
    }


def organisation_exists(conn: Connection, organisation_id: int) -> bool:
    """True when the organisation exists."""
    found = conn.execute(select(organisation.c.id).where(organisation.c.id == organisation_id))
    return found.first() is not None
