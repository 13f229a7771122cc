"""Validation rules: staff publish new versions and list them; none is edited in place."""

import falcon

from app.http.resources.base import Resource
from app.services.validation_rules import create_rule, list_rules


class ValidationRules(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "NewValidationRule")
        self.write(req, resp, lambda conn: create_rule(conn, body), 201)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.read(req, resp, list_rules)
