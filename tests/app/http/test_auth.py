"""Who may call what: the route table's roles, enforced before any other work."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.http.routes import ROUTES
from app.services.tokens import ROLES
from app.store.schema import idempotency_record
from tests.app.conftest import token_for
from tests.app.fixtures import School


def test_every_api_operation_declares_its_roles_or_is_public():
    for route in ROUTES:
        for method, op in route.ops.items():
            label = f"{method} {route.path}"
            if route.path.startswith("/api/"):
                assert bool(op.roles) != op.public, f"{label}: roles or public, exactly one"
                assert set(op.roles) <= set(ROLES), label
            else:
                assert not op.roles and not op.public, f"{label}: service endpoints take no token"


def _forbidden_cases():
    """Every (method, path, role) the route table refuses, with ids filled in."""
    for route in ROUTES:
        if not route.path.startswith("/api/"):
            continue
        path = re.sub(r"\{\w+_id\}", "1", route.path)
        for method, op in route.ops.items():
            for role in ROLES:
                if not op.public and role not in op.roles:
                    yield method, path, role


@pytest.mark.parametrize(("method", "path", "role"), list(_forbidden_cases()))
def test_a_role_outside_the_route_table_is_refused_before_any_work(
    client, engine, method, path, role
):
    binding = {"student": {"learner_id": None}, "employer": {"organisation_id": 7}}.get(role, {})
    if role == "student":
        staff = token_for(engine, "staff")
        binding = {"learner_id": School(client, staff).learner()}
    headers = {**token_for(engine, role, **binding), "Idempotency-Key": f"{method}{path}"}
    # A body past the size limit: refused on the role, it is never read.
    refused = client.simulate_request(method, path, headers=headers, body=b"x" * (17 * 2**20))
    assert refused.status_code == 403, (method, path, role)
    assert refused.json["errors"][0]["field"] == "Authorization"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(idempotency_record)).scalar() == 0


def test_a_student_learns_nothing_of_enrolments_that_are_not_theirs(client, engine, staff):
    school = School(client, staff)
    mine = school.learner()
    their_enrolment = school.enrol(school.learner())["id"]
    student = token_for(engine, "student", learner_id=mine)
    missing = their_enrolment + 1000
    for enrolment_id in (their_enrolment, missing):
        for suffix in ("", "/participations", "/eligibility/1"):
            answer = client.simulate_get(
                f"/api/v1/enrolments/{enrolment_id}{suffix}", headers=student
            )
            assert answer.status_code == 403, (enrolment_id, suffix)
    # Staff still tell a missing enrolment from a forbidden one.
    assert client.simulate_get(f"/api/v1/enrolments/{missing}", headers=staff).status_code == 404
