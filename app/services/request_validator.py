"""The automatic validator: judges submitted requests, oldest first, set-based.

One run is one transaction with a fixed number of statements, whatever the number of
requests and employees: claim the oldest submitted requests, read their facts in one query,
judge each with the rule in force on its submission date (plain Python, no I/O), write the
outcomes, create learners and enrolments of the approved ones in bulk, queue the messages.

Safe twice at once: on PostgreSQL the claim skips rows another run has locked (SKIP LOCKED),
and organisations are locked in id order before their totals are read; SQLite runs one
writer at a time. Safe after a crash: an interrupted run commits nothing, so its requests
are still `submitted` and the next run judges them.

Runs meant to work side by side each take a `Share` of the organisations: two runs that
share an organisation wait for each other's commit at its lock, so only runs on disjoint
organisations really overlap (PostgreSQL uses a core per session; `platform-tools requests
validate --workers`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, func, literal, select, update

from app import clock
from app.domain import employer_messages
from app.domain.validation_rules import Reason, RequestFacts, judge, rule_in_force
from app.services.outbox import Message, enqueue
from app.services.request_approval import active_enrolment_for_request, approve_requests
from app.services.validation_rules import load_rules
from app.store.json_rows import id_rows, json_rows
from app.store.schema import learner
from app.store.schema_employers import employer_request, organisation, request_employee
from app.store.types import UtcDateTime

DEFAULT_LIMIT = 1_000
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class Share:
    """The organisations whose id is `index` modulo `of`: one of `of` disjoint shares."""

    index: int
    of: int


@dataclass(frozen=True)
class ValidationRun:
    """What one run decided."""

    approved: int
    referred: int
    enrolments: int

    def as_dict(self) -> dict[str, int]:
        return {"approved": self.approved, "referred": self.referred}


def validate_submitted(
    conn: Connection, limit: int = DEFAULT_LIMIT, share: Share | None = None
) -> ValidationRun:
    """Judge up to `limit` submitted requests, oldest first, in the caller's transaction; only
    those of the organisations in `share` when given."""
    ids = _claim(conn, limit, share)
    if not ids:
        return ValidationRun(0, 0, 0)
    claimed = id_rows(conn.dialect.name, "claimed_ids", ids)
    facts = _facts(conn, claimed)
    rules = load_rules(conn)
    totals = _locked_organisation_hours(conn, claimed)

    outcomes: list[dict[str, Any]] = []
    messages: list[Message] = []
    approved: list[int] = []
    for row in facts:
        rule = rule_in_force(rules, row.submitted_at.date())
        reasons = judge(
            RequestFacts(
                step_id=row.step_id,
                employees=row.employees,
                total_hours=row.total_hours,
                max_employee_hours=row.max_hours or 0,
                already_enrolled=row.already_enrolled or 0,
                in_earlier_request=row.in_earlier or 0,
            ),
            rule,
            totals[row.organisation_id],
        )
        status = "referred" if reasons else "approved"
        if not reasons:
            totals[row.organisation_id] += row.total_hours
            approved.append(row.id)
        outcomes.append(
            {
                "id": row.id,
                "status": status,
                "rule_id": rule.id if rule else None,
                "reasons": json.dumps([r.as_dict() for r in reasons]),
            }
        )
        messages.append(_decision_message(row, status, reasons))

    _record_outcomes(conn, outcomes)
    _record_organisation_hours(conn, totals)
    enrolments = approve_requests(conn, approved)
    enqueue(conn, messages)
    return ValidationRun(len(approved), len(outcomes) - len(approved), enrolments)


def _claim(conn: Connection, limit: int, share: Share | None) -> list[int]:
    query = (
        select(employer_request.c.id)
        .where(employer_request.c.status == "submitted")
        .order_by(employer_request.c.submitted_at, employer_request.c.id)
        .limit(limit)
    )
    if share is not None and share.of > 1:
        query = query.where(employer_request.c.organisation_id % share.of == share.index)
    if conn.dialect.name == "postgresql":
        # A concurrent run has locked its own claim: take the next requests, never the same.
        query = query.with_for_update(skip_locked=True)
    return list(conn.execute(query).scalars())


def _facts(conn: Connection, claimed: Any) -> list[Any]:
    """Every claimed request with its facts, oldest first, in one grouped query."""
    r = employer_request
    in_claim = request_employee.c.request_id.in_(select(claimed.c.id))
    # An employee also in an older request of this run, for the same step and year: enrolling
    # both would collide, so the younger request goes to staff. Employees are distinct within
    # a request, so a rank above 1 means an older request of the run names them too.
    seen = (
        func.row_number()
        .over(
            partition_by=(request_employee.c.external_id, r.c.step_id, r.c.academic_year),
            order_by=(r.c.submitted_at, r.c.id),
        )
        .label("seen")
    )
    # Whether the employee already has an active enrolment in the request's step and year,
    # looked up per employee in the unique indexes (learner by external id, then its active
    # enrolment). A join let the planner pair every request with every enrolment of its step
    # when the statistics lagged a surge of requests (27 to 75 s a run in the furlough load test).
    enrolled = select(literal(1)).where(
        learner.c.external_id == request_employee.c.external_id,
        active_enrolment_for_request(r),
    )
    ranked = (
        select(
            request_employee.c.request_id,
            request_employee.c.hours,
            seen,
            case((enrolled.exists(), 1), else_=0).label("enrolled"),
        )
        .join(r, r.c.id == request_employee.c.request_id)
        .where(in_claim)
        .subquery("ranked")
    )
    per_request = (
        select(
            ranked.c.request_id,
            func.max(ranked.c.hours).label("max_hours"),
            func.count(case((ranked.c.seen > 1, 1))).label("in_earlier"),
            func.sum(ranked.c.enrolled).label("already_enrolled"),
        )
        .group_by(ranked.c.request_id)
        .subquery("per_request")
    )
    return conn.execute(
        select(
            r.c.id,
            r.c.organisation_id,
            r.c.reference,
            r.c.step_id,
            r.c.submitted_at,
            r.c.employees,
            r.c.total_hours,
            organisation.c.contact_email,
            per_request.c.max_hours,
            per_request.c.in_earlier,
            per_request.c.already_enrolled,
        )
        .join(organisation, organisation.c.id == r.c.organisation_id)
        .join(per_request, per_request.c.request_id == r.c.id)
        .where(r.c.id.in_(select(claimed.c.id)))
        .order_by(r.c.submitted_at, r.c.id)
    ).all()


def _locked_organisation_hours(conn: Connection, claimed: Any) -> dict[int, int]:
    query = (
        select(organisation.c.id, organisation.c.approved_hours)
        .where(
            organisation.c.id.in_(
                select(employer_request.c.organisation_id).where(
                    employer_request.c.id.in_(select(claimed.c.id))
                )
            )
        )
        .order_by(organisation.c.id)
    )
    if conn.dialect.name == "postgresql":
        # In id order, so two runs sharing organisations cannot deadlock; the totals read
        # after the lock include every approval committed before it.
        query = query.with_for_update(of=organisation)
    return {row.id: row.approved_hours for row in conn.execute(query)}


def _record_outcomes(conn: Connection, outcomes: list[dict[str, Any]]) -> None:
    rows = json_rows(
        conn.dialect.name,
        "outcomes",
        {"id": "int", "status": "str", "rule_id": "int", "reasons": "str"},
        outcomes,
    )
    conn.execute(
        update(employer_request)
        .where(employer_request.c.id == rows.c.id)
        .values(
            status=rows.c.status,
            rule_id=rows.c.rule_id,
            reasons=rows.c.reasons,
            decided_at=literal(clock.now(), UtcDateTime()),
        )
    )


def _record_organisation_hours(conn: Connection, totals: dict[int, int]) -> None:
    rows = json_rows(
        conn.dialect.name,
        "organisation_hours",
        {"id": "int", "approved_hours": "int"},
        ({"id": k, "approved_hours": v} for k, v in totals.items()),
    )
    conn.execute(
        update(organisation)
        .where(
            organisation.c.id == rows.c.id, organisation.c.approved_hours != rows.c.approved_hours
        )
        .values(approved_hours=rows.c.approved_hours)
    )


def _decision_message(row: Any, status: str, reasons: list[Reason]) -> Message:
    subject, text = employer_messages.request_decided(
        row.reference, row.id, status, [r.message for r in reasons]
    )
    return Message(f"request_{status}", row.contact_email, subject, text)
