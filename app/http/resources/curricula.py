"""POST /api/v1/curricula."""

import falcon

from app.http.resources.base import Resource
from app.services.curricula import import_curriculum


class Curricula(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "Curriculum")
        self.write(req, resp, lambda conn: import_curriculum(conn, body), 201)
