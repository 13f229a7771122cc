"""Teaching activities and their participants."""

import falcon

from app.http.resources.base import Resource, page_params
from app.services import activities as service


class Activities(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "NewActivity")
        self.write(req, resp, lambda conn: service.create_activity(conn, body), 201)


class Activity(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, activity_id: int) -> None:
        self.read(req, resp, lambda conn: service.get_activity(conn, activity_id))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, activity_id: int) -> None:
        body = self.body(req, "ActivityPatch")
        self.write(req, resp, lambda conn: service.update_activity(conn, activity_id, body))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, activity_id: int) -> None:
        self.write(req, resp, lambda conn: service.delete_activity(conn, activity_id))


class ActivityParticipants(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, activity_id: int) -> None:
        limit, after = page_params(req)
        self.read(
            req, resp, lambda conn: service.list_participants(conn, activity_id, limit, after)
        )
