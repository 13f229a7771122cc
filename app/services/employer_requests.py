"""Employer requests: submit, read, list. Judging them is the validator's job."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, bindparam, insert, literal, select

from app import clock
from app.domain import employer_messages, values
from app.domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, collect
from app.domain.pages import page
from app.domain.validation_rules import rule_in_force
from app.services.outbox import Message, enqueue
from app.services.validation_rules import load_rules
from app.store.json_rows import json_rows
from app.store.schema import step
from app.store.schema_employers import employer_request, organisation, request_employee
from app.store.types import Id
from app.store.upsert import insert_for

EMPLOYEE_COLUMNS = {
    "position": "int",
    "external_id": "str",
    "first_name": "str",
    "last_name": "str",
    "email": "str",
    "hours": "int",
}


def submit_request(conn: Connection, organisation_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Record a request of up to 5,000 employees, checked against the hard bounds (schema) and
    the rule in force today; queue the "received" message in the same transaction."""
    errors: list[FieldError] = []
    for name, parse in (
        ("academic_year", values.academic_year),
        ("start_date", values.calendar_date),
    ):
        try:
            parse(body[name], name)
        except InvalidInput as exc:
            errors.extend(exc.errors)
    employees = body["employees"]
    seen: dict[str, int] = {}
    for i, person in enumerate(employees):
        try:
            values.email(person["email"], f"employees[{i}].email")
        except InvalidInput as exc:
            errors.extend(exc.errors)
        if person["external_id"] in seen:
            errors.append(
                FieldError(
                    f"employees[{i}].external_id",
                    f"same external_id as employees[{seen[person['external_id']]}]",
                )
            )
        seen.setdefault(person["external_id"], i)
    if conn.execute(select(step.c.id).where(step.c.id == body["step_id"])).first() is None:
        errors.append(FieldError("step_id", f"no step {body['step_id']}"))
    rule = rule_in_force(load_rules(conn), clock.now().date())
    if rule is not None:
        if len(employees) > rule.max_employees_per_request:
            errors.append(
                FieldError(
                    "employees",
                    f"the rule in force allows at most {rule.max_employees_per_request} "
                    "employees per request",
                )
            )
        errors.extend(
            FieldError(
                f"employees[{i}].hours",
                f"the rule in force allows at most {rule.max_hours_per_employee} hours per "
                "employee",
            )
            for i, person in enumerate(employees)
            if person["hours"] > rule.max_hours_per_employee
        )
    collect(errors)

    contact = conn.execute(
        select(organisation.c.contact_email).where(organisation.c.id == organisation_id)
    ).scalar()
    if contact is None:
        raise Forbidden.of("Authorization", "this token's organisation does not exist")
    # Each hour count is at most 1e6 and there are at most 5,000: the sum is exact in 64 bits.
    total = sum(person["hours"] for person in employees)
    request_id = conn.execute(
        insert_for(conn, employer_request)
        .values(
            organisation_id=organisation_id,
            reference=body["reference"],
            step_id=body["step_id"],
            academic_year=body["academic_year"],
            start_date=values.calendar_date(body["start_date"], "start_date"),
            employees=len(employees),
            total_hours=total,
            submitted_at=clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["organisation_id", "reference"])
        .returning(employer_request.c.id)
    ).scalar()
    if request_id is None:
        raise Conflict.of("reference", "this organisation already submitted a request with it")
    rows = json_rows(
        conn.dialect.name,
        "employees",
        EMPLOYEE_COLUMNS,
        ({**person, "position": i} for i, person in enumerate(employees)),
    )
    conn.execute(
        insert(request_employee).from_select(
            ["request_id", *EMPLOYEE_COLUMNS],
            select(literal(request_id, Id), *(rows.c[name] for name in EMPLOYEE_COLUMNS)),
        )
    )
    subject, text = employer_messages.request_received(
        body["reference"], request_id, len(employees), total
    )
    enqueue(conn, [Message("request_received", contact, subject, text)])
    return {
        "id": request_id,
        "status": "submitted",
        "employees": len(employees),
        "total_hours": total,
    }


def _document(row: Any, enrolment_ids: list[int]) -> dict[str, Any]:
    return {
        "id": row.id,
        "organisation_id": row.organisation_id,
        "reference": row.reference,
        "step_id": row.step_id,
        "academic_year": row.academic_year,
        "status": row.status,
        "submitted_at": row.submitted_at.isoformat(),
        "rule_id": row.rule_id,
        "employees": row.employees,
        "total_hours": row.total_hours,
        "reasons": json.loads(row.reasons),
        "enrolment_ids": enrolment_ids,
    }


# Built once: employers poll their requests' status through a surge.
_ONE_REQUEST = select(employer_request).where(employer_request.c.id == bindparam("request_id"))


def get_request(conn: Connection, request_id: int) -> dict[str, Any]:
    """One request with its reasons and, once approved, its enrolments in employee order: one
    statement."""
    row = conn.execute(_ONE_REQUEST, {"request_id": request_id}).first()
    if row is None:
        raise NotFound.of("request_id", f"no request {request_id}")
    return _document(row, json.loads(row.enrolment_ids))


def list_organisation_requests(
    conn: Connection, organisation_id: int, limit: int, after: int
) -> dict[str, Any]:
    """An organisation's requests by id (without their enrolment ids: read one for those)."""
    if (
        conn.execute(select(organisation.c.id).where(organisation.c.id == organisation_id)).first()
        is None
    ):
        raise NotFound.of("organisation_id", f"no organisation {organisation_id}")
    rows = conn.execute(
        select(employer_request)
        .where(
            employer_request.c.organisation_id == organisation_id,
            employer_request.c.id > after,
        )
        .order_by(employer_request.c.id)
        .limit(limit + 1)
    ).all()
    return page(rows, limit, lambda r: r.id, lambda r: _document(r, []))
