"""Exam registrations: create, read, and the state machine's actions.

Roles come from the route table; here only the data-bound rule: a student acts on their own
registrations (the same 403 for another learner's and for a missing one).
"""

from collections.abc import Callable
from typing import Any

import falcon
from sqlalchemy import Connection

from app.http.auth import ensure_learner_access
from app.http.query import PAGE, refuse_unknown
from app.http.resources.base import Resource, page_params
from app.services import exam_registrations as service


def owned(
    req: falcon.Request, registration_id: int, work: Callable[[Connection], Any]
) -> Callable[[Connection], Any]:
    """`work`, once the caller may reach the registration's learner."""

    def run(conn: Connection) -> Any:
        ensure_learner_access(req, service.registration_learner(conn, registration_id))
        return work(conn)

    return run


class Registrations(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "NewExamRegistration")
        ensure_learner_access(req, body["learner_id"])
        self.write(req, resp, lambda conn: service.create_registration(conn, body), 201)


class Registration(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, registration_id: int) -> None:
        refuse_unknown(req)
        self.read(
            req,
            resp,
            owned(req, registration_id, lambda c: service.get_registration(c, registration_id)),
        )


class LearnerRegistrations(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, learner_id: int) -> None:
        refuse_unknown(req, PAGE)
        ensure_learner_access(req, learner_id)
        limit, after = page_params(req)
        self.read(
            req,
            resp,
            lambda conn: service.list_learner_registrations(conn, learner_id, limit, after),
        )


class Submit(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, registration_id: int) -> None:
        work = owned(
            req, registration_id, lambda c: service.submit_registration(c, registration_id)
        )
        self.write(req, resp, work)


class Verify(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, registration_id: int) -> None:
        self.write(req, resp, lambda c: service.verify_registration(c, registration_id))


class Reject(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, registration_id: int) -> None:
        body = self.body(req, "ExamRejection")
        self.write(
            req, resp, lambda c: service.reject_registration(c, registration_id, body["reason"])
        )


class Cancel(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, registration_id: int) -> None:
        work = owned(
            req, registration_id, lambda c: service.cancel_registration(c, registration_id)
        )
        self.write(req, resp, work)


class Payments(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, registration_id: int) -> None:
        body = self.body(req, "ExamPayment")
        self.write(req, resp, lambda c: service.record_payment(c, registration_id, body))
