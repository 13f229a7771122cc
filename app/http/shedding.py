"""Admission control: a request that queued past the budget is answered 503 at once.

Under a surge the queue forms in front of the server's threads (see app.http.worker), not
inside the app: the only bound that works there is time. Each request's wait for a thread is
observed on campus_http_request_queue_seconds; past APP_QUEUE_BUDGET_MS it gets a 503 with
Retry-After before any framework, database or logging work, so shedding costs a fraction of
serving and the threads go back to requests that can still be answered in time. Probes and
scrapes are never shed: an overloaded pod must still say how it is.

Behind a front proxy that stamps `X-Request-Start` (nginx: `t=${msec}`), the time spent in
front of the server can count too, with APP_TRUST_REQUEST_START=true; it is off by default,
since any client could send the header.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import structlog

from app.http.worker import QUEUE_SECONDS
from app.observability import metrics
from app.observability.log_throttle import LogThrottle

# Probes and scrapes are never shed: an overloaded pod must still say so.
UNSHED = frozenset({"/healthz", "/readyz", "/metrics"})
RETRY_AFTER_SECONDS = 1
# At most one log line per this many seconds while shedding: a surge must not flood the log.
LOG_EVERY_SECONDS = 1.0

_BODY = json.dumps(
    {
        "type": "https://campus-platform.example/problems/overloaded",
        "title": "Service overloaded",
        "status": 503,
        "detail": "the request waited too long for a server thread; retry shortly",
    }
).encode()
_HEADERS = [
    ("Content-Type", "application/problem+json"),
    ("Content-Length", str(len(_BODY))),
    ("Retry-After", str(RETRY_AFTER_SECONDS)),
]
# The same answer as raw HTTP/1.1, for the server's accepting thread (app.http.worker).
_RAW_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    + b"".join(f"{name}: {value}\r\n".encode() for name, value in _HEADERS)
    + b"\r\n"
    + _BODY
)

log = structlog.get_logger("app.http")
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def request_start_age(header: str | None, now: float) -> float | None:
    """Seconds since a proxy's `X-Request-Start` (`t=` seconds, ms or µs since the epoch).

    None for a missing or malformed header, or one from the future: it never sheds by itself.
    """
    if not header:
        return None
    raw = header.strip().removeprefix("t=")
    try:
        stamp = float(raw)
    except ValueError:
        return None
    if stamp > 1e14:  # microseconds
        stamp /= 1e6
    elif stamp > 1e11:  # milliseconds
        stamp /= 1e3
    age = now - stamp
    return age if 0 <= age < 3600 else None


class Admission:
    """WSGI wrapper around the app: observe each request's queue wait, shed past the budget."""

    def __init__(
        self,
        app: WSGIApp,
        budget_seconds: float,
        route_of: Callable[[str], str],
        trust_request_start: bool = False,
    ) -> None:
        self._app = app
        self._budget = budget_seconds
        self._route_of = route_of
        self._trust_request_start = trust_request_start
        self._shed_log = LogThrottle(LOG_EVERY_SECONDS)

    @property
    def budget_seconds(self) -> float:
        return self._budget

    def early_shed(self, method: str, path: str) -> bytes | None:
        """The raw 503 for a request the server sheds before queueing it; None for a probe.

        The server asks when the oldest request in its queue already waited past a share of the
        budget (app.http.worker): this one would wait longer still.
        """
        if path in UNSHED:
            return None
        self._record_shed(method, path, self._budget)
        return _RAW_ANSWER

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        waited = environ.get(QUEUE_SECONDS)
        if self._trust_request_start:
            age = request_start_age(environ.get("HTTP_X_REQUEST_START"), time.time())
            if age is not None:
                waited = max(waited or 0.0, age)
        if waited is not None:
            metrics.HTTP_QUEUE.observe(waited)
        if waited is None or waited <= self._budget or environ.get("PATH_INFO") in UNSHED:
            return self._app(environ, start_response)
        return self._shed(environ, start_response, waited)

    def _shed(
        self, environ: dict[str, Any], start_response: Callable[..., Any], waited: float
    ) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        self._record_shed(method, environ.get("PATH_INFO") or "/", waited)
        start_response("503 Service Unavailable", list(_HEADERS))
        return [_BODY]

    def _record_shed(self, method: str, path: str, waited: float) -> None:
        """Count a shed request (and its 503 under its route), and log at most once a second."""
        metrics.HTTP_SHED.labels("queue").inc()
        metrics.HTTP_REQUESTS.labels(method, self._route_of(path), "503").inc()
        count = self._shed_log.count()
        if count is None:
            return
        log.warning(
            "requests_shed",
            reason="queue",
            count=count,
            waited_ms=round(waited * 1000, 1),
            budget_ms=round(self._budget * 1000, 1),
        )
