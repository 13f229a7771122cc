"""Organisations: public sign-up, then their employer reads them and their requests."""

import falcon

from app.http.auth import ensure_organisation_access
from app.http.resources.base import Resource, page_params
from app.observability import metrics
from app.services.employer_requests import list_organisation_requests
from app.services.organisations import get_organisation, sign_up


class Organisations(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "NewOrganisation")
        self.write(req, resp, lambda conn: sign_up(conn, body), 201)
        metrics.ORGANISATIONS_SIGNED_UP.inc()


class Organisation(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, organisation_id: int) -> None:
        ensure_organisation_access(req, organisation_id)
        self.read(req, resp, lambda conn: get_organisation(conn, organisation_id))


class OrganisationRequests(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, organisation_id: int) -> None:
        ensure_organisation_access(req, organisation_id)
        limit, after = page_params(req)
        self.read(
            req, resp, lambda conn: list_organisation_requests(conn, organisation_id, limit, after)
        )
