"""Staff decide the requests the validator referred to them: approve or reject."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select, update

from app import clock
from app.domain import employer_messages
from app.domain.employer_limits import MAX_BIGINT
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.services.employer_requests import get_request
from app.services.outbox import Message, enqueue
from app.services.request_approval import approve_requests
from app.store.schema_employers import employer_request, organisation


def decide(conn: Connection, request_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Approve (creating learners and enrolments) or reject a referred request; 409 naming
    the current status for any other."""
    reason = body["reason"].strip()
    if not reason:
        raise InvalidInput.of("reason", "must not be blank")
    row = conn.execute(
        select(employer_request).where(employer_request.c.id == request_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound.of("request_id", f"no request {request_id}")
    if row.status != "referred":
        raise Conflict.of(
            "status", f"only referred requests are decided by staff; this one is {row.status}"
        )
    status = "approved" if body["decision"] == "approve" else "rejected"
    org = conn.execute(
        select(organisation.c.approved_hours, organisation.c.contact_email)
        .where(organisation.c.id == row.organisation_id)
        .with_for_update()
    ).one()
    if status == "approved":
        # Staff may approve past the rules' bounds, never past what a 64-bit total can hold.
        if org.approved_hours + row.total_hours > MAX_BIGINT:
            raise Conflict.of("decision", "the organisation's approved hours would pass 2**63 - 1")
        conn.execute(
            update(organisation)
            .where(organisation.c.id == row.organisation_id)
            .values(approved_hours=organisation.c.approved_hours + row.total_hours)
        )
        approve_requests(conn, [request_id])
    reasons = [*json.loads(row.reasons), {"code": f"staff_{status}", "message": reason}]
    conn.execute(
        update(employer_request)
        .where(employer_request.c.id == request_id)
        .values(status=status, reasons=json.dumps(reasons), decided_at=clock.now())
    )
    subject, text = employer_messages.request_decided(row.reference, request_id, status, [reason])
    enqueue(conn, [Message(f"request_{status}", org.contact_email, subject, text)])
    return get_request(conn, request_id)
