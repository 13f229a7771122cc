"""Per request: a trace span, a JSON access-log line, and the HTTP metrics."""

from __future__ import annotations

import functools
import re
import time
import uuid

import falcon
import structlog
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from app.observability import metrics

log = structlog.get_logger("app.access")
# Probes and scrapes arrive every few seconds from every pod: at INFO they would drown the log.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
_CONVERTER = re.compile(r"\{(\w+):[^}]*\}")


@functools.cache
def public_route(template: str | None) -> str:
    """The route as the contract writes it: `{enrolment_id}`, not its converter."""
    return _CONVERTER.sub(r"{\1}", template) if template else "unmatched"


class ObserveMiddleware:
    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started = time.perf_counter()
        request_id = (req.get_header("X-Request-ID") or "")[:64] or uuid.uuid4().hex
        req.context.request_id = request_id
        resp.set_header("X-Request-ID", request_id)
        span = self._tracer.start_span(f"{req.method} {req.path}", kind=SpanKind.SERVER)
        span.set_attribute("http.request.method", req.method)
        span.set_attribute("url.path", req.path)
        req.context.span = span
        req.context.span_scope = trace.use_span(span, end_on_exit=False)
        req.context.span_scope.__enter__()
        metrics.HTTP_IN_FLIGHT.inc()

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        metrics.HTTP_IN_FLIGHT.dec()
        route = public_route(req.uri_template)
        status = resp.status_code
        seconds = time.perf_counter() - req.context.started
        metrics.HTTP_REQUESTS.labels(req.method, route, str(status)).inc()
        metrics.HTTP_DURATION.labels(req.method, route, str(status)).observe(seconds)
        span = req.context.span
        span.update_name(f"{req.method} {route}")
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        req.context.span_scope.__exit__(None, None, None)
        span.end()
        principal = req.context.get("principal")
        write = log.debug if route in QUIET_ROUTES and status < 500 else log.info
        write(
            "request",
            method=req.method,
            route=route,
            path=req.path,
            status=status,
            duration_ms=round(seconds * 1000, 2),
            request_id=req.context.request_id,
            role=principal.role if principal else None,
            token_id=principal.token_id if principal else None,
        )
