"""Schedule conflicts through the API, checked against a brute-force reading of the schedule."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import falcon.testing
import pytest
from sqlalchemy import Engine, event, select

from app.store.engine import read_transaction
from app.store.schema import activity, enrolment, participation
from tests.app.conftest import token_for
from tests.app.fixtures import YEAR, School, curriculum, post

# (element, day, start hour, end hour, extra): overlaps, a touching pair, a full practical.
ACTIVITIES = [
    ("LINFO-UE11", 10, "08:00", "10:00", {}),
    ("LINFO-UE12", 10, "09:00", "11:00", {}),
    ("LINFO-UE12", 10, "10:00", "12:00", {}),  # touches the first: no conflict with it
    ("LINFO-EC111", 10, "09:30", "09:45", {}),
    ("LINFO-UE11", 11, "08:00", "18:00", {"capacity": 2}),
    ("LINFO-UE12", 11, "12:00", "13:00", {"group": "B"}),
    ("LINFO-UE12", 12, "08:00", "09:00", {}),
]
MATHS = [("LMATH-UE11", 10, "09:15", "09:30"), ("LMATH-UE12", 11, "12:30", "14:00")]


def instant(day: int, hour: str) -> str:
    return f"2026-09-{day:02d}T{hour}:00+02:00"


@pytest.fixture
def timetable(client: falcon.testing.TestClient, staff: dict[str, str]) -> dict[str, Any]:
    """Two steps, six learners, three of them also in the second step, one enrolment cancelled."""
    school = School(client, staff)
    maths = post(client, "/api/v1/curricula", curriculum("LMATH"), staff)
    for element, day, start, end, extra in ACTIVITIES:
        fields = {"starts_at": instant(day, start), "ends_at": instant(day, end)}
        if "capacity" in extra:
            fields["capacity"] = extra["capacity"]
        if extra.get("group") == "B":
            fields["group_id"] = school.group_b
        school.activity(element, **fields)
    for element, day, start, end in MATHS:
        body = {
            "element_id": maths["elements"][element],
            "academic_year": YEAR,
            "kind": "lecture",
            "starts_at": instant(day, start),
            "ends_at": instant(day, end),
        }
        post(client, "/api/v1/activities", body, staff)
    learners, enrolments = [], []
    for i in range(6):
        learner_id = school.learner()
        learners.append(learner_id)
        group = school.group_b if i % 2 else school.group_a
        choices = [school.element["LINFO-EC111"]] if i < 4 else []
        enrolments.append(school.enrol(learner_id, groups=[group], choices=choices)["id"])
        if i < 3:
            body = {
                "learner_id": learner_id,
                "step_id": maths["steps"]["LMATH-L1"],
                "academic_year": YEAR,
                "start_date": "2026-09-01",
                "choices": [maths["elements"]["LMATH-EC111"]],
            }
            maths_enrolment = post(client, "/api/v1/enrolments", body, staff)["id"]
            if i == 2:
                cancel = client.simulate_post(
                    f"/api/v1/enrolments/{maths_enrolment}/cancel", headers=staff
                )
                assert cancel.status_code == 200
    return {"school": school, "learners": learners, "enrolments": enrolments}


def brute_force(engine: Engine) -> dict[int, set[tuple[int, int, str, str]]]:
    """Every learner's overlapping seat pairs, by comparing each pair in Python."""
    with read_transaction(engine) as conn:
        seats = conn.execute(
            select(enrolment.c.learner_id, activity.c.id, activity.c.starts_at, activity.c.ends_at)
            .join(participation, participation.c.enrolment_id == enrolment.c.id)
            .join(activity, activity.c.id == participation.c.activity_id)
            .where(enrolment.c.status == "active", participation.c.status == "active")
        ).all()
    by_learner: dict[int, list[Any]] = defaultdict(list)
    for seat in seats:
        by_learner[seat.learner_id].append(seat)
    pairs: dict[int, set[tuple[int, int, str, str]]] = defaultdict(set)
    for learner_id, mine in by_learner.items():
        for a in mine:
            for b in mine:
                if a.id < b.id and a.starts_at < b.ends_at and b.starts_at < a.ends_at:
                    pairs[learner_id].add(
                        (a.id, b.id, max(a.starts_at, b.starts_at), min(a.ends_at, b.ends_at))
                    )
    return pairs


def every_page(client: falcon.testing.TestClient, path: str, headers: dict, **params: Any) -> list:
    items, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        result = client.simulate_get(path, params=query, headers=headers)
        assert result.status_code == 200, result.text
        items += result.json["items"]
        cursor = result.json["next_cursor"]
        if cursor is None:
            return items


def as_pair(item: dict[str, Any]) -> tuple[int, int, datetime, datetime]:
    return (
        item["activity_id"],
        item["other_activity_id"],
        datetime.fromisoformat(item["overlap_starts_at"]),
        datetime.fromisoformat(item["overlap_ends_at"]),
    )


def test_enrolment_conflicts_equal_the_brute_force_pairs_of_its_learner(
    client, engine, staff, timetable
):
    expected = brute_force(engine)
    assert sum(len(p) for p in expected.values()) >= 6, "the timetable must have conflicts"
    for learner_id, enrolment_id in zip(
        timetable["learners"], timetable["enrolments"], strict=True
    ):
        items = every_page(client, f"/api/v1/enrolments/{enrolment_id}/conflicts", staff, limit=2)
        assert [as_pair(i) for i in items] == sorted(expected.get(learner_id, set()))


def test_step_conflicts_equal_the_brute_force_pairs_of_the_cohort(client, engine, staff, timetable):
    expected = brute_force(engine)
    step = timetable["school"].step
    items = every_page(
        client, f"/api/v1/steps/{step}/conflicts", staff, academic_year=YEAR, limit=3
    )
    got = [(i["learner_id"], *as_pair(i)) for i in items]
    assert got == sorted(
        (learner, *pair) for learner in timetable["learners"] for pair in expected[learner]
    )


def test_touching_waitlisted_and_cancelled_never_make_a_conflict(client, engine, staff, timetable):
    school = timetable["school"]
    first, second, touching, course, practical, *_ = sorted(a for (a,) in _activity_ids(engine))
    pairs_of = {
        learner_id: {
            (i["activity_id"], i["other_activity_id"])
            for i in every_page(client, f"/api/v1/enrolments/{enrolment_id}/conflicts", staff)
        }
        for learner_id, enrolment_id in zip(
            timetable["learners"], timetable["enrolments"], strict=True
        )
    }
    learner0 = timetable["learners"][0]
    assert (first, second) in pairs_of[learner0] and (first, course) in pairs_of[learner0]
    assert all((first, touching) not in pairs for pairs in pairs_of.values())
    # The practical seats two: the four others wait and have no conflict through it.
    seated = [p for p in school.participants(practical).values() if p == "active"]
    assert len(seated) == 2
    with_practical = [
        learner for learner, pairs in pairs_of.items() if any(practical in pair for pair in pairs)
    ]
    assert len(with_practical) <= 2
    # Learner 2 cancelled the maths enrolment: its lecture clashing with UE11 is gone.
    assert len(pairs_of[timetable["learners"][2]]) < len(pairs_of[learner0])


def _activity_ids(engine: Engine) -> list[tuple[int]]:
    with read_transaction(engine) as conn:
        return [tuple(r) for r in conn.execute(select(activity.c.id).order_by(activity.c.id))]


def test_step_conflicts_are_one_query(client, engine, staff, timetable):
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    step = timetable["school"].step
    event.listen(engine, "before_cursor_execute", record)
    try:
        result = client.simulate_get(
            f"/api/v1/steps/{step}/conflicts", params={"academic_year": YEAR}, headers=staff
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert result.status_code == 200 and result.json["items"]
    conflict_queries = [s for s in statements if "overlap_starts_at" in s]
    assert len(conflict_queries) == 1
    assert not any("FROM step" in s for s in statements)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "academic_year"),
        ({"academic_year": "2026"}, "academic_year"),
        ({"academic_year": "2026-2028"}, "academic_year"),
        ({"academic_year": YEAR, "cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ({"academic_year": YEAR, "limit": "0"}, "limit"),
    ],
)
def test_step_conflicts_refuse_bad_parameters_by_name(client, staff, timetable, query, field):
    step = timetable["school"].step
    result = client.simulate_get(f"/api/v1/steps/{step}/conflicts", params=query, headers=staff)
    assert result.status_code == 422, result.text
    assert result.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in result.json["errors"]]


def test_unknown_step_and_enrolment_are_404(client, staff, timetable):
    step = client.simulate_get(
        "/api/v1/steps/999999/conflicts", params={"academic_year": YEAR}, headers=staff
    )
    assert step.status_code == 404
    assert (
        client.simulate_get("/api/v1/enrolments/999999/conflicts", headers=staff).status_code == 404
    )


def test_a_student_reads_only_their_own_conflicts(client, engine, timetable):
    own, other = timetable["enrolments"][0], timetable["enrolments"][1]
    student = token_for(engine, "student", learner_id=timetable["learners"][0])
    assert (
        client.simulate_get(f"/api/v1/enrolments/{own}/conflicts", headers=student).status_code
        == 200
    )
    assert (
        client.simulate_get(f"/api/v1/enrolments/{other}/conflicts", headers=student).status_code
        == 403
    )
    step = timetable["school"].step
    denied = client.simulate_get(
        f"/api/v1/steps/{step}/conflicts", params={"academic_year": YEAR}, headers=student
    )
    assert denied.status_code == 403
