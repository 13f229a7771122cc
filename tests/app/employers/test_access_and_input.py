"""An employer sees only its own organisation; bad input of every field is a 4xx naming it and
changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.app.employers.builders import employees, request_body, rule, sign_up
from tests.app.fixtures import School, post
from tests.app.http.test_bad_input import snapshot


def test_an_employer_never_sees_another_organisations_data(client, staff):
    school = School(client, staff)
    mine, theirs = sign_up(client, 1), sign_up(client, 2)
    their_request = post(
        client, "/api/v1/requests", request_body(school.step, employees(1, 5)), theirs["headers"]
    )["id"]
    missing = their_request + 100
    for path in (
        f"/api/v1/organisations/{theirs['id']}",
        f"/api/v1/organisations/{theirs['id']}/requests",
        f"/api/v1/requests/{their_request}",
        f"/api/v1/organisations/{theirs['id'] + 100}",
        f"/api/v1/requests/{missing}",
    ):
        refused = client.simulate_get(path, headers=mine["headers"])
        assert refused.status_code == 403, path
        assert refused.json["errors"][0]["field"] == "Authorization"
    own = client.simulate_get(
        f"/api/v1/organisations/{mine['id']}/requests", headers=mine["headers"]
    )
    assert own.status_code == 200 and own.json["items"] == []
    listed = client.simulate_get(
        f"/api/v1/organisations/{theirs['id']}/requests", headers=theirs["headers"]
    ).json["items"]
    assert [r["id"] for r in listed] == [their_request]
    # Staff tell a missing request from a forbidden one.
    assert client.simulate_get(f"/api/v1/requests/{missing}", headers=staff).status_code == 404


def test_an_employer_cannot_validate_decide_or_publish_rules(client, staff):
    org = sign_up(client, 1)
    for path, body in (
        ("/api/v1/requests/validate", {}),
        ("/api/v1/requests/1/decision", {"decision": "approve", "reason": "me"}),
        ("/api/v1/validation-rules", rule()),
    ):
        assert client.simulate_post(path, json=body, headers=org["headers"]).status_code == 403


def _request(school, **overrides):
    return {**request_body(school.step, employees(3, 10)), **overrides}


def _people(**changes):
    people = employees(3, 10)
    people[1].update(changes)
    return people


SIGN_UP = {"siret": "11000201100044", "name": "Acme", "contact_email": "hr@acme.example"}
CASES = {
    "sign-up unknown field": ("/api/v1/organisations", lambda s: {**SIGN_UP, "x": 1}, 422, "x"),
    "sign-up missing name": (
        "/api/v1/organisations",
        lambda s: {k: v for k, v in SIGN_UP.items() if k != "name"},
        422,
        "name",
    ),
    "sign-up blank name": (
        "/api/v1/organisations",
        lambda s: {**SIGN_UP, "name": "  "},
        422,
        "name",
    ),
    "sign-up bad email": (
        "/api/v1/organisations",
        lambda s: {**SIGN_UP, "contact_email": "nobody"},
        422,
        "contact_email",
    ),
    "sign-up siret as number": (
        "/api/v1/organisations",
        lambda s: {**SIGN_UP, "siret": 11000201100044},
        422,
        "siret",
    ),
    "request reference too long": (
        "/api/v1/requests",
        lambda s: _request(s, reference="r" * 65),
        422,
        "reference",
    ),
    "request unknown step": (
        "/api/v1/requests",
        lambda s: _request(s, step_id=99_999),
        422,
        "step_id",
    ),
    "request bad year": (
        "/api/v1/requests",
        lambda s: _request(s, academic_year="2026-2030"),
        422,
        "academic_year",
    ),
    "request impossible date": (
        "/api/v1/requests",
        lambda s: _request(s, start_date="2026-02-30"),
        422,
        "start_date",
    ),
    "request no employees": (
        "/api/v1/requests",
        lambda s: _request(s, employees=[]),
        422,
        "employees",
    ),
    "request 5001 employees": (
        "/api/v1/requests",
        lambda s: _request(s, employees=employees(5_001, 1)),
        422,
        "employees",
    ),
    "employee bad email": (
        "/api/v1/requests",
        lambda s: _request(s, employees=_people(email="no-at-sign")),
        422,
        "employees[1].email",
    ),
    "employee external id twice": (
        "/api/v1/requests",
        lambda s: _request(s, employees=_people(external_id="E0")),
        422,
        "employees[1].external_id",
    ),
    "employee missing hours": (
        "/api/v1/requests",
        lambda s: _request(s, employees=[{**employees(1, 1)[0], "hours": None}]),
        422,
        "employees[0].hours",
    ),
    "employee blank first name": (
        "/api/v1/requests",
        lambda s: _request(s, employees=_people(first_name="")),
        422,
        "employees[1].first_name",
    ),
    "employee unknown field": (
        "/api/v1/requests",
        lambda s: _request(s, employees=_people(salary=1)),
        422,
        "employees[1].salary",
    ),
    "rule in the past": (
        "/api/v1/validation-rules",
        lambda s: rule("2020-01-01"),
        422,
        "effective_from",
    ),
    "rule zero hours": (
        "/api/v1/validation-rules",
        lambda s: rule(max_hours_per_employee=0),
        422,
        "max_hours_per_employee",
    ),
    "rule total past 64 bits": (
        "/api/v1/validation-rules",
        lambda s: rule(max_total_hours_per_organisation=2**63),
        422,
        "max_total_hours_per_organisation",
    ),
    "rule unknown step": (
        "/api/v1/validation-rules",
        lambda s: rule(allowed_step_ids=[s.step, 99_999]),
        422,
        "allowed_step_ids[1]",
    ),
    "rule too many employees": (
        "/api/v1/validation-rules",
        lambda s: rule(max_employees_per_request=5_001),
        422,
        "max_employees_per_request",
    ),
    "validate limit zero": ("/api/v1/requests/validate", lambda s: {"limit": 0}, 422, "limit"),
    "validate limit text": ("/api/v1/requests/validate", lambda s: {"limit": "all"}, 422, "limit"),
    "decision unknown": (
        "/api/v1/requests/1/decision",
        lambda s: {"decision": "maybe", "reason": "r"},
        422,
        "decision",
    ),
    "decision blank reason": (
        "/api/v1/requests/1/decision",
        lambda s: {"decision": "approve", "reason": " "},
        422,
        "reason",
    ),
    "decision missing request": (
        "/api/v1/requests/424242/decision",
        lambda s: {"decision": "approve", "reason": "r"},
        404,
        "request_id",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_employer_input_is_refused_by_field_and_changes_nothing(client, engine, staff, case):
    path, make_body, status, field = CASES[case]
    school = School(client, staff)
    post(client, "/api/v1/validation-rules", rule(max_employees_per_request=5_000), staff)
    org = sign_up(client, 9)
    post(
        client, "/api/v1/requests", request_body(school.step, employees(1, 5, "X")), org["headers"]
    )
    post(client, "/api/v1/requests/validate", {}, staff, 200)
    headers = org["headers"] if path == "/api/v1/requests" else staff
    before = snapshot(engine)
    answer = client.simulate_post(
        path,
        body=json.dumps(make_body(school)),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in answer.json["errors"]], answer.json
    assert snapshot(engine) == before
