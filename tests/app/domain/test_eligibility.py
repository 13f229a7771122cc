"""The eligibility rules as a plain function: each rule, alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from app.domain.eligibility import (
    ActivityFacts,
    EnrolmentFacts,
    PathElement,
    is_eligible,
    reasons_not_eligible,
)

ENROLMENT = EnrolmentFacts(
    step_id=1,
    academic_year="2026-2027",
    active=True,
    start_date=date(2026, 9, 1),
    groups=frozenset({7}),
    choices=frozenset({12}),
    exemptions=frozenset(),
)
ACTIVITY = ActivityFacts(
    step_id=1,
    academic_year="2026-2027",
    group_id=7,
    ends_at=datetime(2026, 9, 10, 10, tzinfo=UTC),
    path=(PathElement(12, optional=True), PathElement(11, optional=False)),
)


def test_a_pair_meeting_every_rule_is_eligible():
    assert is_eligible(ENROLMENT, ACTIVITY)


def test_each_broken_rule_is_named():
    cases = {
        "another academic year": replace(ACTIVITY, academic_year="2027-2028"),
        "not in the enrolment's step": replace(ACTIVITY, step_id=2),
        "not chosen": replace(ACTIVITY, path=(PathElement(13, optional=True),)),
        "not in group": replace(ACTIVITY, group_id=8),
        "ends before": replace(ACTIVITY, ends_at=datetime(2026, 8, 31, 23, 59, tzinfo=UTC)),
    }
    for words, activity in cases.items():
        reasons = reasons_not_eligible(ENROLMENT, activity)
        assert len(reasons) == 1 and words in reasons[0], (words, reasons)
    assert "cancelled" in reasons_not_eligible(replace(ENROLMENT, active=False), ACTIVITY)[0]
    assert (
        "exempted"
        in reasons_not_eligible(replace(ENROLMENT, exemptions=frozenset({11})), ACTIVITY)[0]
    )


def test_an_activity_ending_on_the_start_day_counts():
    assert is_eligible(ENROLMENT, replace(ACTIVITY, ends_at=datetime(2026, 9, 1, 0, 0, tzinfo=UTC)))
