"""Learners and their enrolments."""

import falcon

from app.http.auth import ensure_learner_access
from app.http.resources.base import Resource, page_params
from app.services.enrolments import list_learner_enrolments
from app.services.learners import create_learner, get_learner


class Learners(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "NewLearner")
        self.write(req, resp, lambda conn: create_learner(conn, body), 201, single_statement=True)


class Learner(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, learner_id: int) -> None:
        ensure_learner_access(req, learner_id)
        self.lookup(req, resp, lambda conn: get_learner(conn, learner_id))


class LearnerEnrolments(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, learner_id: int) -> None:
        ensure_learner_access(req, learner_id)
        limit, after = page_params(req)
        self.read(req, resp, lambda conn: list_learner_enrolments(conn, learner_id, limit, after))
