"""Bearer tokens: minted once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, select

from app import clock
from app.domain.errors import InvalidInput
from app.store.schema import api_token, learner

ROLES = ("admin", "staff", "student", "employer")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, role and binding."""

    token_id: int
    role: str
    name: str
    learner_id: int | None
    organisation_id: int | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    conn: Connection,
    role: str,
    name: str,
    learner_id: int | None = None,
    organisation_id: int | None = None,
) -> str:
    """Mint a token; only its SHA-256 is kept, so the caller must hand it over now."""
    if role not in ROLES:
        raise InvalidInput.of("role", f"one of {', '.join(ROLES)}")
    if not name.strip() or len(name) > 128:
        raise InvalidInput.of("name", "1 to 128 characters")
    if (role == "student") != (learner_id is not None):
        raise InvalidInput.of("learner", "a student token is bound to one learner, others to none")
    if (role == "employer") != (organisation_id is not None):
        raise InvalidInput.of("organisation", "an employer token is bound to one organisation")
    if (
        learner_id is not None
        and conn.execute(select(learner.c.id).where(learner.c.id == learner_id)).first() is None
    ):
        raise InvalidInput.of("learner", f"no learner {learner_id}")
    if organisation_id is not None and not 0 < organisation_id < 2**63:
        raise InvalidInput.of("organisation", "a positive id")
    token = "cp_" + secrets.token_urlsafe(32)
    conn.execute(
        api_token.insert().values(
            token_hash=_digest(token),
            role=role,
            name=name.strip(),
            learner_id=learner_id,
            organisation_id=organisation_id,
            created_at=clock.now(),
        )
    )
    return token


def authenticate(conn: Connection, token: str) -> Principal | None:
    """The principal behind a token, or None when it is unknown or revoked."""
    row = conn.execute(
        select(api_token).where(
            api_token.c.token_hash == _digest(token), api_token.c.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    return Principal(row.id, row.role, row.name, row.learner_id, row.organisation_id)
