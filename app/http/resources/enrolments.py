"""Enrolments: create, batch, read, change, cancel, participations."""

from collections.abc import Callable
from typing import Any, TypeVar

import falcon
from sqlalchemy import Connection

from app.domain.errors import NotFound
from app.http.auth import ensure_learner_access
from app.http.resources.base import Resource, page_params
from app.services import enrolments as service
from app.services.eligibility import explain

T = TypeVar("T")


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


def _visible(req: falcon.Request, read: Callable[[], T]) -> T:
    """`read`'s result; a student asking for an enrolment that does not exist gets the 403 of
    another learner's enrolment, so ids cannot be probed."""
    try:
        return read()
    except NotFound:
        ensure_learner_access(req, None)
        raise


def _readable_enrolment(req: falcon.Request, conn: Connection, enrolment_id: int) -> Any:
    """The enrolment, read in its one statement, once the caller may see its learner."""
    found = _visible(req, lambda: service.get_enrolment(conn, enrolment_id))
    ensure_learner_access(req, found["learner_id"])
    return found


class Enrolment(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, enrolment_id: int) -> None:
        self.lookup(req, resp, lambda conn: _readable_enrolment(req, conn, enrolment_id))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, enrolment_id: int) -> None:
        body = self.body(req, "EnrolmentPatch")
        self.write(req, resp, lambda conn: service.update_enrolment(conn, enrolment_id, body))


class EnrolmentCancel(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, enrolment_id: int) -> None:
        self.write(req, resp, lambda conn: service.cancel_enrolment(conn, enrolment_id))


class EnrolmentParticipations(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, enrolment_id: int) -> None:
        limit, after = page_params(req)

        def run(conn: Connection) -> Any:
            learner_id, found = _visible(
                req, lambda: service.list_participations(conn, enrolment_id, limit, after)
            )
            ensure_learner_access(req, learner_id)
            return found

        self.lookup(req, resp, run)


class EnrolmentEligibility(Resource):
    def on_get(
        self, req: falcon.Request, resp: falcon.Response, enrolment_id: int, activity_id: int
    ) -> None:
        self.read(
            req,
            resp,
            _owned(req, enrolment_id, lambda conn: explain(conn, enrolment_id, activity_id)),
        )
