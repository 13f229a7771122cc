"""Falcon's hello world, the baseline `bench/http.py` serves with the same server settings."""

import falcon


class Hello:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "alive"}


application = falcon.App()
application.add_route("/healthz", Hello())
