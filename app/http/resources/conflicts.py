"""Schedule conflicts: of one enrolment's learner, and of a whole step's cohort.

Roles are declared in the route table and enforced before these run; a student may only
read their own learner's conflicts (a data-bound check, made here).
"""

import falcon
from sqlalchemy import Connection

from app.domain.errors import InvalidInput, NotFound
from app.domain.pages import DEFAULT_LIMIT, MAX_LIMIT
from app.http.auth import ensure_learner_access
from app.http.resources.base import Resource
from app.services import conflicts as service
from app.services.enrolments import enrolment_learner


def _limit(req: falcon.Request) -> int:
    """?limit=, as every list takes it. These lists resume from composite-key cursors, which
    the service decodes, so only the limit is read here."""
    raw = req.get_param("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInput.of("limit", f"an integer from 1 to {MAX_LIMIT}")
    return int(raw)


class EnrolmentConflicts(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, enrolment_id: int) -> None:
        limit, cursor = _limit(req), req.get_param("cursor")

        def work(conn: Connection) -> dict:
            learner_id = enrolment_learner(conn, enrolment_id)
            ensure_learner_access(req, learner_id)
            if learner_id is None:
                raise NotFound.of("enrolment_id", f"no enrolment {enrolment_id}")
            return service.learner_conflicts(conn, learner_id, limit, cursor)

        self.read(req, resp, work)


class StepConflicts(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, step_id: int) -> None:
        limit, cursor = _limit(req), req.get_param("cursor")
        year = req.get_param("academic_year")
        self.read(
            req, resp, lambda conn: service.step_conflicts(conn, step_id, year, limit, cursor)
        )
