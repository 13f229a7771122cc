"""The eligibility rules of DOMAIN.md as a plain function, for one learner and one activity.

propagation/eligibility_sql.py states the same rules over sets; this form explains a single
decision to staff ("why is this learner not in that tutorial?").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time


@dataclass(frozen=True)
class EnrolmentFacts:
    step_id: int
    academic_year: str
    active: bool
    start_date: date
    groups: frozenset[int]
    choices: frozenset[int]
    exemptions: frozenset[int]


@dataclass(frozen=True)
class PathElement:
    """One element on the path from the step root down to the activity's element."""

    id: int
    optional: bool


@dataclass(frozen=True)
class ActivityFacts:
    step_id: int
    academic_year: str
    group_id: int | None
    ends_at: datetime
    path: tuple[PathElement, ...]


def reasons_not_eligible(enrolment: EnrolmentFacts, activity: ActivityFacts) -> list[str]:
    """Every rule the pair breaks, in the order of DOMAIN.md; empty when eligible."""
    reasons = []
    if enrolment.academic_year != activity.academic_year:
        reasons.append("the activity belongs to another academic year")
    if not enrolment.active:
        reasons.append("the enrolment is cancelled")
    if enrolment.step_id != activity.step_id:
        reasons.append("the activity's element is not in the enrolment's step")
    unchosen = [e.id for e in activity.path if e.optional and e.id not in enrolment.choices]
    if unchosen:
        reasons.append(f"optional elements on the path are not chosen: {unchosen}")
    exempted = [e.id for e in activity.path if e.id in enrolment.exemptions]
    if exempted:
        reasons.append(f"elements on the path are exempted: {exempted}")
    if activity.group_id is not None and activity.group_id not in enrolment.groups:
        reasons.append(f"the learner is not in group {activity.group_id}")
    if activity.ends_at < datetime.combine(enrolment.start_date, time(), UTC):
        reasons.append("the activity ends before the enrolment starts")
    return reasons


def is_eligible(enrolment: EnrolmentFacts, activity: ActivityFacts) -> bool:
    """True when every eligibility rule holds."""
    return not reasons_not_eligible(enrolment, activity)
