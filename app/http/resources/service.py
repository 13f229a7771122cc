"""Health, readiness, metrics and the contract: the endpoints platforms and people poll."""

import os

import falcon
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from app.http.resources.base import Resource


class Health(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "alive"}


class Ready(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        checks = self.deps.readiness.checks()
        ready = all(v == "ok" for v in checks.values())
        resp.status = falcon.HTTP_200 if ready else falcon.HTTP_503
        resp.media = {"status": "ready" if ready else "not ready", "checks": checks}


class Metrics(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Several server processes: add up what each one wrote to the shared directory.
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = REGISTRY
        resp.content_type = CONTENT_TYPE_LATEST
        # Then what is read from the database now, the same whichever process answers.
        resp.data = generate_latest(registry) + generate_latest(self.deps.database_metrics)


class OpenApi(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.deps.contract
