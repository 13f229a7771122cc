"""Idempotency-Key on POST, at the HTTP edge: hash the request, replay or claim, settle.

The rules live in app.services.idempotency. This middleware runs after authentication and the
route table's role check, so only callers allowed to make the request cost a body read or a
record.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import falcon

from app.domain.errors import InvalidInput
from app.http.body import raw_body
from app.services import idempotency
from app.services.idempotency import HEADER, Replay

# Expired records are purged by the app itself, at most this often per process.
PURGE_EVERY_SECONDS = 300.0


class IdempotencyMiddleware:
    def __init__(self, max_body_bytes: int) -> None:
        self._max_body_bytes = max_body_bytes
        self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict[str, Any]
    ) -> None:
        key = req.get_header(HEADER)
        principal = req.context.get("principal")
        if req.method != "POST" or key is None or resource is None or principal is None:
            return
        if not 1 <= len(key) <= 255 or not key.isprintable():
            raise InvalidInput.of(HEADER, "1 to 255 printable characters")
        body = raw_body(req, self._max_body_bytes)
        digest = hashlib.sha256(b"\0".join([req.method.encode(), req.path.encode(), body]))
        outcome = idempotency.begin(req.context.db, principal.token_id, key, digest.hexdigest())
        if isinstance(outcome, Replay):
            resp.status = falcon.code_to_http_status(outcome.status)
            resp.content_type = (
                "application/problem+json" if outcome.status >= 400 else "application/json"
            )
            resp.text = outcome.body
            resp.set_header("Idempotent-Replayed", "true")
            resp.complete = True
            return
        req.context.idempotency = outcome

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        claim = req.context.get("idempotency")
        if claim is not None:
            body = resp.media if resp.media is not None else resp.text
            idempotency.settle(req.context.db, claim, resp.status_code, body)
        if time.monotonic() >= self._next_purge and req.context.get("db") is not None:
            self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
            idempotency.purge_expired(req.context.db)
