"""Hours are 64-bit everywhere: bounds refuse absurd input by name, totals never overflow."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.domain.employer_limits import MAX_BIGINT
from app.store.schema_employers import employer_request, organisation
from tests.app.employers.builders import employees, request_body, rule, sign_up
from tests.app.fixtures import School, post


@pytest.mark.parametrize(
    "hours",
    [0, -1, 1_000_001, 2**31, 2**62, 2**63, 2**64, 1.5, "10", None, True],
    ids=lambda h: repr(h),
)
def test_hours_beyond_the_hard_bound_are_422_naming_the_employee(client, staff, hours):
    school = School(client, staff)
    org = sign_up(client, 1)
    people = employees(5, 10)
    people[3]["hours"] = hours
    answer = client.simulate_post(
        "/api/v1/requests", json=request_body(school.step, people), headers=org["headers"]
    )
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json["errors"]] == ["employees[3].hours"]


def test_hours_above_the_rule_in_force_are_422_naming_the_employee(client, staff):
    school = School(client, staff)
    post(client, "/api/v1/validation-rules", rule(max_hours_per_employee=100), staff)
    org = sign_up(client, 1)
    people = employees(3, 100)
    people[2]["hours"] = 101
    answer = client.simulate_post(
        "/api/v1/requests", json=request_body(school.step, people), headers=org["headers"]
    )
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json["errors"]] == ["employees[2].hours"]


def test_a_request_total_above_2_to_the_31_is_exact_and_approved(client, engine, staff):
    school = School(client, staff)
    post(
        client,
        "/api/v1/validation-rules",
        rule(max_hours_per_employee=1_000_000, max_total_hours_per_organisation=MAX_BIGINT),
        staff,
    )
    org = sign_up(client, 1)
    people = employees(5_000, 1_000_000)
    submitted = post(client, "/api/v1/requests", request_body(school.step, people), org["headers"])
    assert submitted["total_hours"] == 5_000_000_000 > 2**31
    assert post(client, "/api/v1/requests/validate", {}, staff, 200) == {
        "approved": 1,
        "referred": 0,
    }
    with engine.connect() as conn:
        stored = conn.execute(select(employer_request.c.total_hours)).scalar_one()
        approved = conn.execute(select(organisation.c.approved_hours)).scalar_one()
    assert stored == approved == 5_000_000_000


def test_an_organisation_total_near_2_to_the_63_never_overflows(client, engine, staff):
    school = School(client, staff)
    post(
        client,
        "/api/v1/validation-rules",
        rule(max_total_hours_per_organisation=MAX_BIGINT),
        staff,
    )
    org = sign_up(client, 1)
    # Years of history: the organisation has 1,000 hours left before the largest 64-bit total.
    with engine.begin() as conn:
        conn.execute(update(organisation).values(approved_hours=MAX_BIGINT - 1_000))
    too_much = post(
        client,
        "/api/v1/requests",
        request_body(school.step, employees(1, 1_001, "A"), "R1"),
        org["headers"],
    )
    fits = post(
        client,
        "/api/v1/requests",
        request_body(school.step, employees(1, 1_000, "B"), "R2"),
        org["headers"],
    )
    assert post(client, "/api/v1/requests/validate", {}, staff, 200) == {
        "approved": 1,
        "referred": 1,
    }
    refused = client.simulate_get(f"/api/v1/requests/{too_much['id']}", headers=staff).json
    assert refused["status"] == "referred"
    assert [r["code"] for r in refused["reasons"]] == ["organisation_total_exceeded"]
    assert (
        client.simulate_get(f"/api/v1/requests/{fits['id']}", headers=staff).json["status"]
        == "approved"
    )
    with engine.connect() as conn:
        assert conn.execute(select(organisation.c.approved_hours)).scalar_one() == MAX_BIGINT
    # Staff may overrule the rules, never the 64-bit bound.
    overrule = client.simulate_post(
        f"/api/v1/requests/{too_much['id']}/decision",
        json={"decision": "approve", "reason": "large group"},
        headers=staff,
    )
    assert overrule.status_code == 409
    assert overrule.json["errors"][0]["field"] == "decision"
    with engine.connect() as conn:
        assert conn.execute(select(organisation.c.approved_hours)).scalar_one() == MAX_BIGINT
