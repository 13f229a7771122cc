"""Validation rules for employer requests: which rule applies, and what it says of a request.

Plain functions over plain values, no I/O: the validator gathers the facts of every request
of a run in a fixed number of queries, then judges each one here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from app.domain.employer_limits import MAX_BIGINT


@dataclass(frozen=True)
class Rule:
    """One version of the rules, in force from `effective_from` until a later one."""

    id: int
    effective_from: date
    max_hours_per_employee: int
    max_employees_per_request: int
    max_total_hours_per_organisation: int
    allowed_step_ids: frozenset[int] | None


@dataclass(frozen=True)
class RequestFacts:
    """What the rules look at in one request."""

    step_id: int
    employees: int
    total_hours: int
    max_employee_hours: int
    already_enrolled: int
    in_earlier_request: int


@dataclass(frozen=True)
class Reason:
    """Why a request is not approved automatically: a stable `code` and a sentence."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


NO_RULE = "no_rule_in_force"
STEP_NOT_ALLOWED = "step_not_allowed"
TOO_MANY_EMPLOYEES = "too_many_employees"
HOURS_PER_EMPLOYEE = "hours_per_employee_exceeded"
ORGANISATION_TOTAL = "organisation_total_exceeded"
ALREADY_ENROLLED = "employee_already_enrolled"
IN_EARLIER_REQUEST = "employee_in_earlier_request"


def rule_in_force(rules: Sequence[Rule], day: date) -> Rule | None:
    """The rule with the latest `effective_from` on or before `day` (the latest created when
    several share that date), or None before the first rule."""
    best: Rule | None = None
    for rule in rules:
        if rule.effective_from <= day and (
            best is None or (rule.effective_from, rule.id) > (best.effective_from, best.id)
        ):
            best = rule
    return best


def judge(facts: RequestFacts, rule: Rule | None, organisation_hours: int) -> list[Reason]:
    """The reasons to refer the request to staff; none means approve.

    `organisation_hours` is what the organisation has had approved so far, this run included.
    Every sum is a Python integer compared with the bound, so nothing overflows here and the
    organisation's stored total never passes the largest 64-bit integer.
    """
    if rule is None:
        return [Reason(NO_RULE, "no validation rule was in force on the submission date")]
    reasons = []
    if rule.allowed_step_ids is not None and facts.step_id not in rule.allowed_step_ids:
        reasons.append(
            Reason(STEP_NOT_ALLOWED, f"step {facts.step_id} is not open to employer requests")
        )
    if facts.employees > rule.max_employees_per_request:
        reasons.append(
            Reason(
                TOO_MANY_EMPLOYEES,
                f"{facts.employees} employees, at most {rule.max_employees_per_request}",
            )
        )
    if facts.max_employee_hours > rule.max_hours_per_employee:
        reasons.append(
            Reason(
                HOURS_PER_EMPLOYEE,
                f"{facts.max_employee_hours} hours for one employee, at most "
                f"{rule.max_hours_per_employee}",
            )
        )
    limit = min(rule.max_total_hours_per_organisation, MAX_BIGINT)
    if organisation_hours + facts.total_hours > limit:
        reasons.append(
            Reason(
                ORGANISATION_TOTAL,
                f"{organisation_hours} hours approved plus {facts.total_hours} requested "
                f"exceed {limit}",
            )
        )
    if facts.already_enrolled:
        reasons.append(
            Reason(
                ALREADY_ENROLLED,
                f"{facts.already_enrolled} employees already have an active enrolment in "
                "this step and year",
            )
        )
    if facts.in_earlier_request:
        reasons.append(
            Reason(
                IN_EARLIER_REQUEST,
                f"{facts.in_earlier_request} employees are also in an older request of this run",
            )
        )
    return reasons
