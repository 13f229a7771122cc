"""Every error leaves as application/problem+json (RFC 9457), rendered in one place."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import falcon
import structlog
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.domain.errors import DomainError
from app.observability import metrics

PROBLEM_BASE = "https://campus-platform.example/problems/"
RETRY_AFTER_SECONDS = "2"
log = structlog.get_logger("app.http")


def problem(
    resp: falcon.Response,
    status: int,
    title: str,
    slug: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
) -> None:
    """Write one problem document to the response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    resp.status = falcon.code_to_http_status(status)
    resp.content_type = "application/problem+json"
    resp.text = json.dumps(body)


def on_domain_error(
    req: falcon.Request, resp: falcon.Response, exc: DomainError, _params: dict[str, Any]
) -> None:
    problem(resp, exc.status, exc.title, exc.slug, exc.detail, [e.as_dict() for e in exc.errors])


def on_http_error(
    req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError, _params: dict[str, Any]
) -> None:
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.description or f"{phrase}: {req.method} {req.path}"
    problem(resp, exc.status_code, phrase, phrase.lower().replace(" ", "-"), detail)
    for name, value in (exc.headers or {}).items():
        resp.set_header(name, value)


def on_overload(
    req: falcon.Request, resp: falcon.Response, exc: Exception, _params: dict[str, Any]
) -> None:
    """No database connection in time, or SQLite busy past its timeout: ask to retry."""
    if isinstance(exc, OperationalError) and not _is_transient(exc):
        on_unexpected(req, resp, exc, _params)
        return
    metrics.HTTP_SHED.labels("database").inc()
    log.warning(
        "database_overloaded",
        error=type(exc).__name__,
        path=req.path,
        request_id=req.context.get("request_id"),
    )
    problem(
        resp, 503, "Service overloaded", "overloaded", "the database is saturated; retry shortly"
    )
    resp.set_header("Retry-After", RETRY_AFTER_SECONDS)


def _is_transient(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(
        s in text
        for s in (
            "database is locked",
            "too many connections",
            "could not serialize",
            "deadlock",
            "connection refused",
            "timeout",
        )
    )


def on_unexpected(
    req: falcon.Request, resp: falcon.Response, exc: Exception, _params: dict[str, Any]
) -> None:
    """A bug: logged with its traceback, answered without one."""
    log.exception(
        "unhandled_error",
        path=req.path,
        method=req.method,
        request_id=req.context.get("request_id"),
    )
    problem(resp, 500, "Internal error", "internal", "the error was logged; it is not your input")


def install(app: falcon.App) -> None:
    """Register the handlers, most specific last (Falcon picks the nearest match)."""
    app.add_error_handler(Exception, on_unexpected)
    app.add_error_handler(falcon.HTTPError, on_http_error)
    app.add_error_handler(DomainError, on_domain_error)
    app.add_error_handler(PoolTimeout, on_overload)
    app.add_error_handler(OperationalError, on_overload)
