"""Enrolments: create, batch, read, change, cancel, participations."""

from collections.abc import Callable
from typing import Any

import falcon
from sqlalchemy import Connection

from app.http.auth import ensure_learner_access, read_owned
from app.http.resources.base import Resource, page_params
from app.services import enrolments as service
from app.services.eligibility import explain


def _owned(
    req: falcon.Request, enrolment_id: int, work: Callable[[Connection], Any]
) -> Callable[[Connection], Any]:
    """`work`, once the caller is allowed to see the enrolment's learner."""

    def run(conn: Connection) -> Any:
        ensure_learner_access(req, service.enrolment_learner(conn, enrolment_id))
        return work(conn)

    return run


class Enrolments(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "NewEnrolment")
        self.write(req, resp, lambda conn: service.create_enrolment(conn, body), 201)


class EnrolmentBatch(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "EnrolmentBatch")
        self.write(req, resp, lambda conn: service.create_enrolments(conn, body["enrolments"]), 201)


class Enrolment(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, enrolment_id: int) -> None:
        self.lookup(
            req,
            resp,
            lambda conn: read_owned(
                req,
                lambda: service.get_enrolment(conn, enrolment_id),
                lambda found: found["learner_id"],
                ensure_learner_access,
            ),
        )

    def on_patch(self, req: falcon.Request, resp: falcon.Response, enrolment_id: int) -> None:
        body = self.body(req, "EnrolmentPatch")
        self.write(req, resp, lambda conn: service.update_enrolment(conn, enrolment_id, body))


class EnrolmentCancel(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, enrolment_id: int) -> None:
        self.write(req, resp, lambda conn: service.cancel_enrolment(conn, enrolment_id))


class EnrolmentParticipations(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, enrolment_id: int) -> None:
        limit, after = page_params(req)
        # The learner (for the access check) comes with the page: (learner_id, page).
        self.lookup(
            req,
            resp,
            lambda conn: read_owned(
                req,
                lambda: service.list_participations(conn, enrolment_id, limit, after),
                lambda learner_and_page: learner_and_page[0],
                ensure_learner_access,
            )[1],
        )


class EnrolmentEligibility(Resource):
    def on_get(
        self, req: falcon.Request, resp: falcon.Response, enrolment_id: int, activity_id: int
    ) -> None:
        self.read(
            req,
            resp,
            _owned(req, enrolment_id, lambda conn: explain(conn, enrolment_id, activity_id)),
        )
