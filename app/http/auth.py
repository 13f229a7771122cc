"""Bearer-token authentication and the route table's role rules, applied to every /api call.

The roles live in one place, the route table: this middleware enforces them before any
other work (body reads, idempotency records), so a caller without the role costs one token
lookup and leaves nothing behind. Checks that depend on the data (a student reads only their
own learner) stay with the resource.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

import falcon

from app.domain.errors import Forbidden, NotFound, Unauthorized
from app.http.entry import refuses_role
from app.http.operations import Op
from app.services.principal_cache import PrincipalCache, principal_for
from app.services.tokens import Principal

MAX_TOKEN_LENGTH = 256
T = TypeVar("T")


class AuthMiddleware:
    def __init__(self, ops: Mapping[type, Mapping[str, Op]], principals: PrincipalCache) -> None:
        self._ops = ops
        self._principals = principals

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
        op = self._ops.get(type(resource), {}).get(req.method)
        if op is None or op.public:
            # No such operation: Falcon answers 405 itself, with nothing read.
            return
        principal = self._authenticate(req, resp)
        # Before the roles: a staff token on the public entry is refused whatever the call.
        refuses_role(req, principal.role)
        if principal.role not in op.roles:
            raise Forbidden.of(
                "Authorization", f"this call needs one of the roles: {', '.join(op.roles)}"
            )
        req.context.principal = principal

    def _authenticate(self, req: falcon.Request, resp: falcon.Response) -> Principal:
        header = req.get_header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
            resp.set_header("WWW-Authenticate", 'Bearer realm="campus"')
            raise Unauthorized.of("Authorization", "send Authorization: Bearer TOKEN")
        principal = principal_for(req.context.db, token, self._principals)
        if principal is None:
            resp.set_header("WWW-Authenticate", 'Bearer realm="campus", error="invalid_token"')
            raise Unauthorized.of("Authorization", "unknown, expired or revoked token")
        return principal


def principal_of(req: falcon.Request) -> Principal:
    """The authenticated caller of this request."""
    principal: Principal = req.context.principal
    return principal


def ensure_learner_access(req: falcon.Request, learner_id: int | None) -> None:
    """A student reaches only their own learner; staff and admins reach every learner.

    `learner_id` is None when the record asked for does not exist: a student gets the same
    403 for it as for another learner's record, so ids cannot be probed.
    """
    principal = principal_of(req)
    if principal.role == "student" and (learner_id is None or principal.learner_id != learner_id):
        raise Forbidden.of("Authorization", "a student token reads only its own learner's data")


def ensure_organisation_access(req: falcon.Request, organisation_id: int | None) -> None:
    """An employer reaches only its own organisation and its requests; staff reach all.

    `organisation_id` is None when the record asked for does not exist: an employer gets the
    same 403 for it as for another organisation's record, so ids cannot be probed.
    """
    principal = principal_of(req)
    if principal.role == "employer" and (
        organisation_id is None or principal.organisation_id != organisation_id
    ):
        raise Forbidden.of("Authorization", "an employer token reads only its own organisation")


def read_owned(
    req: falcon.Request,
    read: Callable[[], T],
    owner: Callable[[T], int],
    ensure_access: Callable[[falcon.Request, int | None], None],
) -> T:
    """`read`'s record, once `ensure_access` allows the caller its owner; one read does both.

    A record that does not exist gets the 403 of another owner's (`ensure_access` with None),
    so ids cannot be probed.
    """
    try:
        found = read()
    except NotFound:
        ensure_access(req, None)
        raise
    ensure_access(req, owner(found))
    return found
