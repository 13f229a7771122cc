"""Employer requests: submit, read, the automatic validator, staff decisions."""

import falcon

from app.http.auth import ensure_organisation_access, principal_of, read_owned
from app.http.body import raw_body
from app.http.resources.base import Resource
from app.observability import metrics
from app.services import employer_requests as service
from app.services.request_decisions import decide
from app.services.request_validator import DEFAULT_LIMIT, validate_submitted


class EmployerRequests(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "NewEmployerRequest")
        organisation_id = principal_of(req).organisation_id
        self.write(req, resp, lambda conn: service.submit_request(conn, organisation_id, body), 201)
        metrics.EMPLOYER_REQUESTS_SUBMITTED.inc()
        metrics.EMPLOYER_REQUESTS_EMPLOYEES.inc(len(body["employees"]))


class EmployerRequest(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, request_id: int) -> None:
        # One statement (employers poll it through a surge): no transaction around it.
        self.lookup(
            req,
            resp,
            lambda conn: read_owned(
                req,
                lambda: service.get_request(conn, request_id),
                lambda found: found["organisation_id"],
                ensure_organisation_access,
            ),
        )


class RequestValidation(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        # The body is optional here: no body means the default limit.
        empty = not raw_body(req, self.deps.settings.max_body_bytes).strip()
        body = {} if empty else self.body(req, "ValidationRun")
        limit = body.get("limit", DEFAULT_LIMIT)
        self.write(req, resp, lambda conn: validate_submitted(conn, limit).as_dict())
        # Counted once committed: resp.media is the run's answer.
        for outcome in ("approved", "referred"):
            metrics.EMPLOYER_REQUESTS_VALIDATED.labels(outcome, "validator").inc(
                resp.media[outcome]
            )


class RequestDecision(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, request_id: int) -> None:
        body = self.body(req, "Decision")
        self.write(req, resp, lambda conn: decide(conn, request_id, body))
        outcome = "approved" if body["decision"] == "approve" else "rejected"
        metrics.EMPLOYER_REQUESTS_VALIDATED.labels(outcome, "staff").inc()
