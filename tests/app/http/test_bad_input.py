"""Hostile input: each gets a documented 4xx problem naming the field; the database is unchanged."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.store.schema import metadata
from tests.app.conftest import token_for
from tests.app.fixtures import YEAR, School


def snapshot(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }


def enrolment(school: School, **overrides):
    return {
        "learner_id": school.learner(),
        "step_id": school.step,
        "academic_year": YEAR,
        "start_date": "2026-09-01",
        **overrides,
    }


def activity(school: School, **overrides):
    return {
        "element_id": school.element["LINFO-UE11"],
        "academic_year": YEAR,
        "kind": "lecture",
        "starts_at": "2026-09-10T08:00:00+02:00",
        "ends_at": "2026-09-10T10:00:00+02:00",
        **overrides,
    }


CASES = {
    "malformed json": ("POST", "/api/v1/learners", lambda s: '{"external_id": ', 400, "body"),
    "empty body": ("POST", "/api/v1/learners", lambda s: "", 400, "body"),
    "body not an object": ("POST", "/api/v1/learners", lambda s: [1, 2], 422, "body"),
    "missing field": (
        "POST",
        "/api/v1/learners",
        lambda s: {"external_id": "x", "first_name": "a", "last_name": "b"},
        422,
        "email",
    ),
    "unknown field": (
        "POST",
        "/api/v1/enrolments",
        lambda s: enrolment(s, colour="red"),
        422,
        "colour",
    ),
    "wrong type": (
        "POST",
        "/api/v1/enrolments",
        lambda s: enrolment(s, step_id="3"),
        422,
        "step_id",
    ),
    "float id": ("POST", "/api/v1/enrolments", lambda s: enrolment(s, step_id=1.0), 422, "step_id"),
    "boolean id": (
        "POST",
        "/api/v1/enrolments",
        lambda s: enrolment(s, step_id=True),
        422,
        "step_id",
    ),
    "id beyond 64 bits": (
        "POST",
        "/api/v1/enrolments",
        lambda s: enrolment(s, step_id=2**64),
        422,
        "step_id",
    ),
    "negative id": (
        "POST",
        "/api/v1/enrolments",
        lambda s: enrolment(s, learner_id=-4),
        422,
        "learner_id",
    ),
    "unknown step": (
        "POST",
        "/api/v1/enrolments",
        lambda s: enrolment(s, step_id=424242),
        422,
        "step_id",
    ),
    "unknown group": (
        "POST",
        "/api/v1/enrolments",
        lambda s: enrolment(s, groups=[999]),
        422,
        "groups[0]",
    ),
    "mandatory element as choice": (
        "POST",
        "/api/v1/enrolments",
        lambda s: enrolment(s, choices=[s.element["LINFO-UE11"]]),
        422,
        "choices[0]",
    ),
    "impossible date": (
        "POST",
        "/api/v1/enrolments",
        lambda s: enrolment(s, start_date="2026-02-30"),
        422,
        "start_date",
    ),
    "date out of range": (
        "POST",
        "/api/v1/enrolments",
        lambda s: enrolment(s, start_date="9999-01-01"),
        422,
        "start_date",
    ),
    "years not consecutive": (
        "POST",
        "/api/v1/enrolments",
        lambda s: enrolment(s, academic_year="2026-2028"),
        422,
        "academic_year",
    ),
    "year out of range": (
        "POST",
        "/api/v1/enrolments",
        lambda s: enrolment(s, academic_year="0999-1000"),
        422,
        "academic_year",
    ),
    "oversized batch": (
        "POST",
        "/api/v1/enrolments/batch",
        lambda s: {"enrolments": [enrolment(s)] * 10_001},
        413,
        "enrolments",
    ),
    "empty batch": (
        "POST",
        "/api/v1/enrolments/batch",
        lambda s: {"enrolments": []},
        422,
        "enrolments",
    ),
    "naive time": (
        "POST",
        "/api/v1/activities",
        lambda s: activity(s, starts_at="2026-09-10T08:00:00"),
        422,
        "starts_at",
    ),
    "end before start": (
        "POST",
        "/api/v1/activities",
        lambda s: activity(s, ends_at="2026-09-10T07:00:00+02:00"),
        422,
        "ends_at",
    ),
    "negative capacity": (
        "POST",
        "/api/v1/activities",
        lambda s: activity(s, capacity=-1),
        422,
        "capacity",
    ),
    "unknown kind": (
        "POST",
        "/api/v1/activities",
        lambda s: activity(s, kind="party"),
        422,
        "kind",
    ),
    "unknown element": (
        "POST",
        "/api/v1/activities",
        lambda s: activity(s, element_id=77777),
        422,
        "element_id",
    ),
    "empty patch": ("PATCH", "/api/v1/enrolments/{enrolment}", lambda s: {}, 422, "body"),
    "patch of unknown enrolment": (
        "PATCH",
        "/api/v1/enrolments/999999",
        lambda s: {"groups": []},
        404,
        "enrolment_id",
    ),
    "bad page size": (
        "GET",
        "/api/v1/activities/{activity}/participants?limit=5000",
        None,
        422,
        "limit",
    ),
    "forged cursor": (
        "GET",
        "/api/v1/activities/{activity}/participants?cursor=%25%25",
        None,
        422,
        "cursor",
    ),
    "bad curriculum period": (
        "POST",
        "/api/v1/curricula",
        lambda s: {
            "programme": {"code": "P", "label": "P"},
            "version": {"code": "V", "label": "V", "curriculum_period": "2029-2024"},
            "steps": [{"code": "S", "label": "S", "year_index": 1}],
        },
        422,
        "version.curriculum_period",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_and_changes_nothing(client, engine, staff, case):
    method, path, make_body, status, field = CASES[case]
    school = School(client, staff)
    enrolment_id = school.enrol()["id"]
    activity_id = school.activity()["id"]
    path = path.format(enrolment=enrolment_id, activity=activity_id)
    body = make_body(school) if make_body else None
    before = snapshot(engine)
    raw = body if isinstance(body, str) else (json.dumps(body) if body is not None else None)
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
    result = client.simulate_request(
        method,
        path,
        body=raw,
        query_string=query,
        headers={**staff, "Content-Type": "application/json"},
    )
    assert result.status_code == status, result.text
    assert result.headers["content-type"] == "application/problem+json"
    problem = result.json
    assert (
        problem["status"] == status and problem["title"] and problem["type"] and problem["detail"]
    )
    assert field in [e["field"] for e in problem["errors"]], problem
    assert snapshot(engine) == before


def test_a_student_cannot_read_another_learner(client, engine, staff):
    school = School(client, staff)
    mine, theirs = school.learner(), school.learner()
    their_enrolment = school.enrol(theirs)["id"]
    my_enrolment = school.enrol(mine)["id"]
    student = token_for(engine, "student", learner_id=mine)
    assert client.simulate_get(f"/api/v1/learners/{mine}", headers=student).status_code == 200
    assert (
        client.simulate_get(
            f"/api/v1/enrolments/{my_enrolment}/participations", headers=student
        ).status_code
        == 200
    )
    for path in (
        f"/api/v1/learners/{theirs}",
        f"/api/v1/enrolments/{their_enrolment}",
        f"/api/v1/enrolments/{their_enrolment}/participations",
        f"/api/v1/learners/{theirs}/enrolments",
    ):
        refused = client.simulate_get(path, headers=student)
        assert refused.status_code == 403, path
        assert refused.json["errors"][0]["field"] == "Authorization"


def test_students_and_employers_cannot_write(client, engine, staff):
    school = School(client, staff)
    learner = school.learner()
    before = snapshot(engine)
    for headers in (
        token_for(engine, "student", learner_id=learner),
        token_for(engine, "employer", organisation_id=7),
    ):
        refused = client.simulate_post(
            "/api/v1/enrolments", json=enrolment(school), headers=headers
        )
        assert refused.status_code == 403
    after = snapshot(engine)
    assert {k: v for k, v in after.items() if k not in ("api_token", "learner")} == {
        k: v for k, v in before.items() if k not in ("api_token", "learner")
    }


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer ", "Bearer not-a-token"])
def test_missing_or_unknown_token_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    refused = client.simulate_get("/api/v1/learners/1", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")


def test_unknown_path_and_method_are_problems(client, staff):
    assert client.simulate_get("/api/v1/nothing", headers=staff).status_code == 404
    not_allowed = client.simulate_put("/api/v1/learners", headers=staff)
    assert not_allowed.status_code == 405
    assert not_allowed.headers["content-type"] == "application/problem+json"
    assert (
        client.simulate_get("/api/v1/learners/99999999999999999999", headers=staff).status_code
        == 404
    )
