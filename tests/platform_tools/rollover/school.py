"""A small school for rollover tests, built through the app's services like the API does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from app import clock
from app.services.activities import create_activity
from app.services.curricula import import_curriculum
from app.services.enrolments import create_enrolment
from app.services.learners import create_learner
from app.store.engine import write_transaction


def curriculum(
    version_code: str = "LINFO-2024",
    period: str = "2024-2029",
    prefix: str = "",
    label_suffix: str = "",
) -> dict[str, Any]:
    """A one-step licence: a semester with two units, one optional course, two groups."""
    return {
        "programme": {"code": "LINFO", "label": "Licence Informatique"},
        "version": {
            "code": version_code,
            "label": f"Licence Informatique {period}",
            "curriculum_period": period,
        },
        "steps": [
            {
                "code": f"{prefix}L1",
                "label": "Première année",
                "year_index": 1,
                "groups": [{"code": "TD-A", "label": "Groupe A"}, {"code": "TD-B", "label": "B"}],
                "choice_groups": [{"code": "OPT", "min": 0, "max": 1}],
                "elements": [
                    {
                        "code": f"{prefix}S1",
                        "label": "Semestre 1" + label_suffix,
                        "kind": "semester",
                        "optional": False,
                        "children": [
                            {
                                "code": f"{prefix}ALGO",
                                "label": "Algorithmique",
                                "kind": "unit",
                                "optional": False,
                                "hours": 60,
                            },
                            {
                                "code": f"{prefix}PROG",
                                "label": "Programmation",
                                "kind": "unit",
                                "optional": False,
                                "children": [
                                    {
                                        "code": f"{prefix}PY",
                                        "label": "Python",
                                        "kind": "course",
                                        "optional": True,
                                        "choice_group": "OPT",
                                    }
                                ],
                            },
                        ],
                    }
                ],
            }
        ],
    }


SET_UP_AT = datetime(2025, 8, 15, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class School:
    """Ids the tests need."""

    step_id: int
    groups: dict[str, int]
    elements: dict[str, int]
    past_enrolment_id: int
    new_enrolment_id: int
    activity_ids: list[int]


def build_school(engine: Engine) -> School:
    """2025-2026 timetable, set up before that year began, and one learner per year.

    By the tests' "now" (1 August 2026) every 2025-2026 activity has started: it is history.
    """
    with clock.frozen_at(SET_UP_AT), write_transaction(engine) as conn:
        imported = import_curriculum(conn, curriculum())
        step_id = imported["steps"]["L1"]
        groups = imported["groups"]
        elements = imported["elements"]
        learners = [
            create_learner(
                conn,
                {
                    "external_id": f"E{i}",
                    "first_name": "Ada",
                    "last_name": f"L{i}",
                    "email": f"ada{i}@example.org",
                },
            )["id"]
            for i in range(2)
        ]
        past = create_enrolment(
            conn,
            {
                "learner_id": learners[0],
                "step_id": step_id,
                "academic_year": "2025-2026",
                "start_date": "2025-09-01",
                "groups": [groups["L1/TD-A"]],
            },
        )["id"]
        new = create_enrolment(
            conn,
            {
                "learner_id": learners[1],
                "step_id": step_id,
                "academic_year": "2026-2027",
                "start_date": "2026-09-01",
                "groups": [groups["L1/TD-A"]],
            },
        )["id"]
        activity_ids = [
            # Monday 7 September 2026 is the twin of Monday 8 September 2025 (52 weeks on).
            create_activity(
                conn,
                {
                    "element_id": elements["ALGO"],
                    "academic_year": "2025-2026",
                    "kind": "lecture",
                    "starts_at": "2025-09-08T08:00:00+02:00",
                    "ends_at": "2025-09-08T10:00:00+02:00",
                    "capacity": 100,
                },
            )["id"],
            # A winter slot: Paris is at +01:00 then.
            create_activity(
                conn,
                {
                    "element_id": elements["ALGO"],
                    "academic_year": "2025-2026",
                    "kind": "tutorial",
                    "group_id": groups["L1/TD-A"],
                    "starts_at": "2026-01-12T14:00:00+01:00",
                    "ends_at": "2026-01-12T16:00:00+01:00",
                },
            )["id"],
            create_activity(
                conn,
                {
                    "element_id": elements["PY"],
                    "academic_year": "2025-2026",
                    "kind": "practical",
                    "group_id": groups["L1/TD-B"],
                    "starts_at": "2026-03-02T10:00:00+01:00",
                    "ends_at": "2026-03-02T12:00:00+01:00",
                    "capacity": 20,
                },
            )["id"],
        ]
    return School(step_id, groups, elements, past, new, activity_ids)
