"""Approving requests in bulk: learners by `external_id` (reused when they exist), then their
enrolments through the enrolment service, which propagates participations.

A fixed number of statements whatever the number of requests and employees, and no employee
row travels through Python: learners, enrolments and the links back to the request are each
one INSERT … SELECT or UPDATE … FROM over the requests' employees. (Measured at 2,000
requests of 51,000 employees on PostgreSQL: reading the rows back and sending them again as
JSON cost about 2 s of Python and 0.6 s of checks per run, more than the inserts themselves.)
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select, update

from app.propagation.scope import in_ids
from app.services.enrolments import enrol_selected
from app.store.schema import enrolment, learner
from app.store.schema_employers import employer_request, request_employee
from app.store.upsert import insert_for


def approve_requests(conn: Connection, request_ids: Sequence[int]) -> int:
    """Create the learners and enrolments of these requests; returns the enrolments created.

    The caller has locked the requests and judged them; a learner enrolled meanwhile in the
    same step and year makes the enrolment service refuse (409) and the whole transaction
    roll back, so nothing is half-approved.
    """
    if not request_ids:
        return 0
    dialect = conn.dialect.name
    in_requests = in_ids(request_employee.c.request_id, request_ids, dialect)
    # Several approved requests may name one person: the first insert creates the learner, the
    # others find it (ON CONFLICT DO NOTHING), as does a learner created through the API.
    conn.execute(
        insert_for(conn, learner)
        .from_select(
            ["external_id", "first_name", "last_name", "email"],
            select(
                request_employee.c.external_id,
                request_employee.c.first_name,
                request_employee.c.last_name,
                request_employee.c.email,
            )
            .where(in_requests)
            .order_by(request_employee.c.request_id, request_employee.c.position),
        )
        .on_conflict_do_nothing(index_elements=["external_id"])
    )
    ids, _ = enrol_selected(
        conn,
        select(
            learner.c.id,
            employer_request.c.step_id,
            employer_request.c.academic_year,
            employer_request.c.start_date,
        )
        .join(learner, learner.c.external_id == request_employee.c.external_id)
        .join(employer_request, employer_request.c.id == request_employee.c.request_id)
        .where(in_requests)
        .order_by(request_employee.c.request_id, request_employee.c.position),
    )
    if not ids:
        return 0
    # Each employee's new enrolment: the one active enrolment of the learner in the request's
    # step and year, looked up per row in the unique index. Written as a join instead, the
    # planner matched enrolments and requests on step and year with statistics that predate
    # the rows just inserted (1 row expected, 51,000 x 2,000 found): minutes instead of 0.5 s.
    new_enrolment = (
        select(enrolment.c.id)
        .where(
            enrolment.c.learner_id == learner.c.id,
            enrolment.c.step_id == employer_request.c.step_id,
            enrolment.c.academic_year == employer_request.c.academic_year,
            enrolment.c.status == "active",
        )
        .scalar_subquery()
    )
    conn.execute(
        update(request_employee)
        .where(
            in_requests,
            employer_request.c.id == request_employee.c.request_id,
            learner.c.external_id == request_employee.c.external_id,
        )
        .values(enrolment_id=new_enrolment)
    )
    return len(ids)
