"""Each request's database connection: taken on first use, given back when the answer leaves."""

from __future__ import annotations

import falcon
from sqlalchemy import Engine

from app.store.request_connection import RequestConnection


class DatabaseMiddleware:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.db = RequestConnection(self._engine)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        db = req.context.get("db")
        if db is not None:
            db.close()
