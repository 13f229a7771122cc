"""Load shedding: past a bound of requests in progress, answer 503 at once instead of queueing."""

from __future__ import annotations

import threading

import falcon

from app.domain.errors import DomainError
from app.observability import metrics

# Probes and scrapes are never shed: an overloaded pod must still say so.
UNSHED = ("/healthz", "/readyz", "/metrics")
RETRY_AFTER_SECONDS = 1


class Overloaded(DomainError):
    status = 503
    title = "Service overloaded"
    slug = "overloaded"


class SheddingMiddleware:
    def __init__(self, max_in_flight: int) -> None:
        self._max = max_in_flight
        self._in_flight = 0
        self._lock = threading.Lock()

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.path in UNSHED:
            return
        with self._lock:
            if self._in_flight >= self._max:
                admitted = False
            else:
                self._in_flight += 1
                admitted = True
        req.context.admitted = admitted
        if not admitted:
            metrics.HTTP_SHED.labels("in_flight").inc()
            resp.set_header("Retry-After", str(RETRY_AFTER_SECONDS))
            raise Overloaded(f"more than {self._max} requests in progress; retry shortly")

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        if req.context.get("admitted"):
            with self._lock:
                self._in_flight -= 1
