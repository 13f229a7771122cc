"""Approving requests in bulk: learners by `external_id` (reused when they exist), then their
enrolments through the enrolment service, which propagates participations.

A fixed number of statements whatever the number of requests and employees.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select, update

from app.services.enrolments import create_enrolments
from app.store.json_rows import id_rows, json_rows
from app.store.schema import learner
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
    ids = id_rows(conn.dialect.name, "approved_ids", request_ids)
    in_requests = request_employee.c.request_id.in_(select(ids.c.id))
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
    rows = conn.execute(
        select(
            request_employee.c.request_id,
            request_employee.c.position,
            learner.c.id.label("learner_id"),
            employer_request.c.step_id,
            employer_request.c.academic_year,
            employer_request.c.start_date,
        )
        .join(learner, learner.c.external_id == request_employee.c.external_id)
        .join(employer_request, employer_request.c.id == request_employee.c.request_id)
        .where(in_requests)
        .order_by(request_employee.c.request_id, request_employee.c.position)
    ).all()
    created = create_enrolments(
        conn,
        [
            {
                "learner_id": row.learner_id,
                "step_id": row.step_id,
                "academic_year": row.academic_year,
                "start_date": row.start_date.isoformat(),
            }
            for row in rows
        ],
    )
    # The service answers ids in input order: write them back by primary key, one statement.
    links = json_rows(
        conn.dialect.name,
        "links",
        {"request_id": "int", "position": "int", "learner_id": "int", "enrolment_id": "int"},
        (
            {
                "request_id": row.request_id,
                "position": row.position,
                "learner_id": row.learner_id,
                "enrolment_id": enrolment_id,
            }
            for row, enrolment_id in zip(rows, created["ids"], strict=True)
        ),
    )
    conn.execute(
        update(request_employee)
        .where(
            request_employee.c.request_id == links.c.request_id,
            request_employee.c.position == links.c.position,
        )
        .values(learner_id=links.c.learner_id, enrolment_id=links.c.enrolment_id)
    )
    return len(created["ids"])
