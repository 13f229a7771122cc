"""Idempotency-Key on POST: a retried request gets the first answer and creates nothing twice.

The record is claimed before the work (state `running`, its own transaction) and completed in
the same transaction as the write (`complete`), so a crash between the two leaves a claim whose
write never committed: once stale, a retry may take it over safely.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import falcon
from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from app import clock
from app.domain.errors import Conflict, InvalidInput
from app.http.body import raw_body
from app.store.engine import write_transaction
from app.store.schema import idempotency_record

HEADER = "Idempotency-Key"
STALE_AFTER = timedelta(minutes=5)


class IdempotencyMiddleware:
    def __init__(self, engine: Engine, max_body_bytes: int) -> None:
        self._engine = engine
        self._max_body_bytes = max_body_bytes

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict[str, Any]
    ) -> None:
        key = req.get_header(HEADER)
        if req.method != "POST" or key is None or resource is None:
            return
        if not 1 <= len(key) <= 255 or not key.isprintable():
            raise InvalidInput.of(HEADER, "1 to 255 printable characters")
        principal = req.context.get("principal")
        if principal is None:
            return
        digest = hashlib.sha256(
            b"\0".join(
                [req.method.encode(), req.path.encode(), raw_body(req, self._max_body_bytes)]
            )
        ).hexdigest()
        record_key = {"token_id": principal.token_id, "key": key}
        with write_transaction(self._engine) as conn:
            existing = conn.execute(select(idempotency_record).filter_by(**record_key)).first()
            if existing is None:
                if not _claim(conn, record_key, digest):
                    raise Conflict.of(HEADER, "a request with this key is still running")
            elif existing.request_hash != digest:
                raise InvalidInput.of(HEADER, "this key was used with a different request")
            elif existing.state == "done":
                resp.status = falcon.code_to_http_status(existing.response_status)
                resp.content_type = (
                    "application/problem+json"
                    if existing.response_status >= 400
                    else "application/json"
                )
                resp.text = existing.response_body
                resp.set_header("Idempotent-Replayed", "true")
                resp.complete = True
                return
            elif existing.created_at > clock.now() - STALE_AFTER:
                raise Conflict.of(HEADER, "a request with this key is still running")
            else:
                conn.execute(
                    update(idempotency_record)
                    .filter_by(**record_key)
                    .values(created_at=clock.now())
                )
        req.context.idempotency = record_key

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        record_key = req.context.get("idempotency")
        if record_key is None or req.context.get("idempotency_done"):
            return
        status = resp.status_code
        with write_transaction(self._engine) as conn:
            if status >= 500:
                # Nothing was written; let the client retry with the same key.
                conn.execute(delete(idempotency_record).filter_by(**record_key))
            else:
                _store(
                    conn, record_key, status, resp.media if resp.media is not None else resp.text
                )


def _claim(conn: Connection, record_key: dict[str, Any], digest: str) -> bool:
    try:
        with conn.begin_nested():
            conn.execute(
                idempotency_record.insert().values(
                    **record_key, request_hash=digest, state="running", created_at=clock.now()
                )
            )
        return True
    except IntegrityError:
        return False


def _store(conn: Connection, record_key: dict[str, Any], status: int, body: Any) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    conn.execute(
        update(idempotency_record)
        .filter_by(**record_key)
        .values(state="done", response_status=status, response_body=text)
    )


def complete(conn: Connection, req: falcon.Request, status: int, body: Any) -> None:
    """Record the answer in the write's own transaction: both commit, or neither."""
    record_key = req.context.get("idempotency")
    if record_key is not None:
        _store(conn, record_key, status, body)
        req.context.idempotency_done = True
