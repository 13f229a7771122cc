"""Validation rules as data: staff publish new versions, nothing edits an old one."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select

from app import clock
from app.domain import values
from app.domain.errors import FieldError, InvalidInput, collect
from app.domain.validation_rules import Rule
from app.services.references import rows_by_id
from app.store.schema import step
from app.store.schema_employers import validation_rule


def create_rule(conn: Connection, body: dict[str, Any]) -> dict[str, int]:
    """Publish a rule version. Its date may not lie in the past: a rule published today must
    not change how requests submitted before today are judged."""
    effective = values.calendar_date(body["effective_from"], "effective_from")
    if effective < clock.now().date():
        raise InvalidInput.of(
            "effective_from", "a rule cannot take effect in the past; publish one from today on"
        )
    steps = body.get("allowed_step_ids")
    if steps is not None:
        known = rows_by_id(conn, step, steps)
        errors = [
            FieldError(f"allowed_step_ids[{i}]", f"no step {sid}")
            for i, sid in enumerate(steps)
            if sid not in known
        ]
        if len(set(steps)) != len(steps):
            errors.append(FieldError("allowed_step_ids", "a step is listed twice"))
        collect(errors)
    new_id = conn.execute(
        insert(validation_rule)
        .values(
            effective_from=effective,
            max_hours_per_employee=body["max_hours_per_employee"],
            max_employees_per_request=body["max_employees_per_request"],
            max_total_hours_per_organisation=body["max_total_hours_per_organisation"],
            allowed_step_ids=None if steps is None else json.dumps(sorted(steps)),
            created_at=clock.now(),
        )
        .returning(validation_rule.c.id)
    ).scalar_one()
    return {"id": new_id}


def load_rules(conn: Connection) -> list[Rule]:
    """Every rule version (a short table: one row per decree)."""
    return [
        Rule(
            id=row.id,
            effective_from=row.effective_from,
            max_hours_per_employee=row.max_hours_per_employee,
            max_employees_per_request=row.max_employees_per_request,
            max_total_hours_per_organisation=row.max_total_hours_per_organisation,
            allowed_step_ids=None
            if row.allowed_step_ids is None
            else frozenset(json.loads(row.allowed_step_ids)),
        )
        for row in conn.execute(select(validation_rule).order_by(validation_rule.c.id))
    ]


def rule_document(rule: Rule) -> dict[str, Any]:
    """A rule as the API shows it."""
    return {
        "id": rule.id,
        "effective_from": rule.effective_from.isoformat(),
        "max_hours_per_employee": rule.max_hours_per_employee,
        "max_employees_per_request": rule.max_employees_per_request,
        "max_total_hours_per_organisation": rule.max_total_hours_per_organisation,
        "allowed_step_ids": None
        if rule.allowed_step_ids is None
        else sorted(rule.allowed_step_ids),
    }


def list_rules(conn: Connection) -> dict[str, Any]:
    """Every rule version, oldest effective date first."""
    rules = sorted(load_rules(conn), key=lambda r: (r.effective_from, r.id))
    return {"items": [rule_document(r) for r in rules], "next_cursor": None}
