"""Bearer tokens: minted once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select, update

from app import clock
from app.domain.errors import InvalidInput, NotFound
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


def digest(token: str) -> str:
    """What is stored of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    conn: Connection,
    role: str,
    name: str,
    learner_id: int | None = None,
    organisation_id: int | None = None,
    expires_at: datetime | None = None,
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
    if expires_at is not None and expires_at <= clock.now():
        raise InvalidInput.of("expires", "must be in the future")
    token = "cp_" + secrets.token_urlsafe(32)
    conn.execute(
        api_token.insert().values(
            token_hash=digest(token),
            role=role,
            name=name.strip(),
            learner_id=learner_id,
            organisation_id=organisation_id,
            created_at=clock.now(),
            expires_at=expires_at,
        )
    )
    return token


# Built once: every authenticated request runs it, and building it cost more than running it.
_PRINCIPAL = select(
    api_token.c.id,
    api_token.c.role,
    api_token.c.name,
    api_token.c.learner_id,
    api_token.c.organisation_id,
    api_token.c.expires_at,
).where(
    api_token.c.token_hash == bindparam("digest"),
    api_token.c.revoked_at.is_(None),
    or_(api_token.c.expires_at.is_(None), api_token.c.expires_at > bindparam("now")),
)


def principal_by_digest(
    conn: Connection, token_digest: str
) -> tuple[Principal, datetime | None] | None:
    """The principal behind a token's digest and the token's expiry; None when it is unknown,
    revoked or expired."""
    row = conn.execute(_PRINCIPAL, {"digest": token_digest, "now": clock.now()}).first()
    if row is None:
        return None
    principal = Principal(row.id, row.role, row.name, row.learner_id, row.organisation_id)
    return principal, row.expires_at


_LISTED = (
    api_token.c.id,
    api_token.c.role,
    api_token.c.name,
    api_token.c.learner_id,
    api_token.c.organisation_id,
    api_token.c.created_at,
    api_token.c.expires_at,
    api_token.c.revoked_at,
)


def find_token(conn: Connection, token_id: int | None, token: str | None) -> dict[str, Any]:
    """A token's record (never its secret), by id or by the token itself; 404 when unknown."""
    if (token_id is None) == (token is None):
        raise InvalidInput.of("id", "name the token by --id or by --token, not both")
    where = api_token.c.id == token_id if token is None else api_token.c.token_hash == digest(token)
    row = conn.execute(select(*_LISTED).where(where)).mappings().first()
    if row is None:
        raise NotFound.of("id" if token is None else "token", "no such token")
    return dict(row)


def revoke_token(conn: Connection, token_id: int) -> bool:
    """Revoke a token from now on; False when it was revoked already (nothing changes)."""
    revoked = conn.execute(
        update(api_token)
        .where(api_token.c.id == token_id, api_token.c.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return revoked.rowcount == 1


def list_tokens(conn: Connection) -> list[dict[str, Any]]:
    """Every token's record, oldest first (never the secrets: only hashes are stored)."""
    return [dict(r) for r in conn.execute(select(*_LISTED).order_by(api_token.c.id)).mappings()]
