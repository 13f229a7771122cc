"""Bearer-token authentication for /api/, and role checks for resources."""

from __future__ import annotations

import falcon
from sqlalchemy import Engine

from app.domain.errors import Forbidden, Unauthorized
from app.services.tokens import Principal, authenticate
from app.store.engine import read_transaction


class AuthMiddleware:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def process_resource(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        params: dict[str, object],
    ) -> None:
        # After routing: an unknown path is a plain 404, and metrics know the route.
        if not req.path.startswith("/api/") or resource is None:
            return
        header = req.get_header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or len(token) > 256:
            resp.set_header("WWW-Authenticate", 'Bearer realm="campus"')
            raise Unauthorized.of("Authorization", "send Authorization: Bearer TOKEN")
        with read_transaction(self._engine) as conn:
            principal = authenticate(conn, token.strip())
        if principal is None:
            resp.set_header("WWW-Authenticate", 'Bearer realm="campus", error="invalid_token"')
            raise Unauthorized.of("Authorization", "unknown or revoked token")
        req.context.principal = principal


def require(req: falcon.Request, *roles: str) -> Principal:
    """The caller, if its role is one of `roles`; 403 otherwise."""
    principal: Principal = req.context.principal
    if principal.role not in roles:
        raise Forbidden.of("Authorization", f"this call needs one of the roles: {', '.join(roles)}")
    return principal


def require_learner_access(req: falcon.Request, learner_id: int) -> Principal:
    """Staff and admins see every learner; a student sees only their own."""
    principal = require(req, "admin", "staff", "student")
    if principal.role == "student" and principal.learner_id != learner_id:
        raise Forbidden.of("Authorization", "a student token reads only its own learner's data")
    return principal
