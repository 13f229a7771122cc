"""The school the propagation benchmark runs on, sized so that each scenario moves about
`size` participations.

Three steps of one programme, for one academic year far in the future (nothing has started):

- step A, 50 activities per enrolment (45 lectures, 25 of them with a capacity of half the
  cohort, and 5 tutorials per group): scenario (a) enrols size/50 learners into it;
- step B, one lecture already, and `size` active enrolments: scenario (b) adds one activity;
- step C, 5 lectures and 5 tutorials per group, size/10 enrolments in group A with their 10
  participations each: scenario (c) moves them all to group B, (e) withdraws them;
- step H, the same activities as step A: scenario (a) again, posted through HTTP.

Learners and the enrolments of steps B and C are written by bulk SQL (they are the setting,
not what is measured); the participations of step C by one untimed propagation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, literal, select, text

from app.propagation.propagate import propagate
from app.propagation.scope import Scope
from app.services import activities, curricula
from app.store.engine import write_transaction
from app.store.schema import enrolment, enrolment_group, learner

YEAR = "2099-2100"
START = "2099-09-01"
LECTURES_A = 45
CAPPED_A = 25
TUTORIALS = 5
LECTURES_C = 5
PER_ENROLMENT_A = LECTURES_A + TUTORIALS
PER_ENROLMENT_C = LECTURES_C + TUTORIALS


@dataclass(frozen=True)
class School:
    size: int
    steps: dict[str, int]
    groups: dict[str, int]
    elements: dict[str, int]
    cohort_a: int
    cohort_b: int
    cohort_c: int
    enrolments_c: list[int]


def _unit(code: str) -> dict:
    return {"code": code, "label": code, "kind": "unit", "optional": False}


def _curriculum() -> dict:
    def step(code: str, units: list[str]) -> dict:
        return {
            "code": code,
            "label": code,
            "year_index": 1,
            "groups": [{"code": "TD-A", "label": "A"}, {"code": "TD-B", "label": "B"}],
            "elements": [_unit(u) for u in units],
        }

    return {
        "programme": {"code": "BENCH", "label": "Bench"},
        "version": {"code": "BENCH-1", "label": "Bench", "curriculum_period": "2099-2104"},
        "steps": [
            step(code, [f"{code}-L{i}" for i in range(LECTURES_A)] + _tutorials(code))
            for code in "AH"
        ]
        + [
            step("B", ["B-L0", "B-NEW"]),
            step("C", [f"C-L{i}" for i in range(LECTURES_C)] + _tutorials("C")),
        ],
    }


def _tutorials(code: str) -> list[str]:
    return [f"{code}-T{i}" for i in range(TUTORIALS)]


def _activity(conn: Connection, element_id: int, day: int, **extra: object) -> int:
    hour = 8 + day % 10
    body = {
        "element_id": element_id,
        "academic_year": YEAR,
        "kind": extra.pop("kind", "lecture"),
        "starts_at": f"2099-10-{1 + day // 10:02d}T{hour:02d}:00:00Z",
        "ends_at": f"2099-10-{1 + day // 10:02d}T{hour + 1:02d}:30:00Z",
        **extra,
    }
    return activities.create_activity(conn, body)["id"]


def _bulk_learners(conn: Connection, count: int) -> None:
    if conn.dialect.name == "postgresql":
        series = "SELECT g AS i FROM generate_series(1, :n) AS g"
    else:
        series = (
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
            "SELECT i FROM s"
        )
    conn.execute(
        text(
            "INSERT INTO learner (external_id, first_name, last_name, email) "
            f"SELECT 'B' || i, 'Bench', 'Learner', 'b' || i || '@example.org' FROM ({series}) AS n"
        ),
        {"n": count},
    )


def _bulk_enrolments(conn: Connection, step_id: int, count: int) -> None:
    """The first `count` learners enrolled in `step_id`, in one INSERT … SELECT."""
    conn.execute(
        insert(enrolment).from_select(
            ["learner_id", "step_id", "academic_year", "start_date", "created_at", "status"],
            select(
                learner.c.id,
                literal(step_id),
                literal(YEAR),
                literal(datetime(2099, 9, 1).date()),
                literal(datetime.now(UTC), enrolment.c.created_at.type),
                literal("active"),
            ).where(learner.c.id <= count),
        )
    )


def build(engine: Engine, size: int) -> School:
    """Create the school for `size` on a migrated, empty database."""
    cohort_a, cohort_b, cohort_c = size // PER_ENROLMENT_A, size, size // PER_ENROLMENT_C
    with write_transaction(engine) as conn:
        ids = curricula.import_curriculum(conn, _curriculum())
        el, groups = ids["elements"], ids["groups"]
        day = 0
        for i in range(LECTURES_A):
            capacity = cohort_a // 2 if i < CAPPED_A else None
            for code in "AH":
                _activity(conn, el[f"{code}-L{i}"], day, capacity=capacity)
            day += 1
        for i in range(TUTORIALS):
            for g in ("TD-A", "TD-B"):
                for code in "ACH":
                    _activity(
                        conn,
                        el[f"{code}-T{i}"],
                        day,
                        kind="tutorial",
                        group_id=groups[f"{code}/{g}"],
                    )
            day += 1
        for i in range(LECTURES_C):
            _activity(conn, el[f"C-L{i}"], day)
            day += 1
        _activity(conn, el["B-L0"], day)
        _bulk_learners(conn, max(cohort_b, cohort_c, cohort_a))
        _bulk_enrolments(conn, ids["steps"]["B"], cohort_b)
        _bulk_enrolments(conn, ids["steps"]["C"], cohort_c)
        enrolments_c = list(
            conn.execute(
                select(enrolment.c.id)
                .where(enrolment.c.step_id == ids["steps"]["C"])
                .order_by(enrolment.c.id)
            ).scalars()
        )
        conn.execute(
            insert(enrolment_group).from_select(
                ["enrolment_id", "group_id"],
                select(enrolment.c.id, literal(groups["C/TD-A"])).where(
                    enrolment.c.step_id == ids["steps"]["C"]
                ),
            )
        )
        # Step B's existing lecture gets its participations too: the step is a real one.
        propagate(conn, Scope("reconcile", activity_ids=_not_new_activities(conn)))
    return School(
        size=size,
        steps=ids["steps"],
        groups=groups,
        elements=el,
        cohort_a=cohort_a,
        cohort_b=cohort_b,
        cohort_c=cohort_c,
        enrolments_c=enrolments_c,
    )


def _not_new_activities(conn: Connection) -> list[int]:
    return list(conn.execute(text("SELECT id FROM activity ORDER BY id")).scalars())


def batch_a(school: School, step: str = "A") -> list[dict]:
    """Scenario (a)'s batch: the first cohort_a learners into step A (or H), group A."""
    return [
        {
            "learner_id": i + 1,
            "step_id": school.steps[step],
            "academic_year": YEAR,
            "start_date": START,
            "groups": [school.groups[f"{step}/TD-A"]],
        }
        for i in range(school.cohort_a)
    ]


def new_activity_b(school: School) -> dict:
    """Scenario (b)'s activity: one more lecture for every enrolment of step B."""
    return {
        "element_id": school.elements["B-NEW"],
        "academic_year": YEAR,
        "kind": "lecture",
        "starts_at": "2099-11-02T08:00:00Z",
        "ends_at": "2099-11-02T10:00:00Z",
    }
