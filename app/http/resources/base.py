"""What every resource shares: its dependencies, body checks, transactions, page parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import falcon
from prometheus_client import CollectorRegistry
from sqlalchemy import Connection, Engine

from app.domain.errors import InvalidInput
from app.domain.pages import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor
from app.http.body import checked, read_json
from app.http.readiness import Readiness
from app.services import transactions
from app.settings import Settings


@dataclass(frozen=True)
class Deps:
    settings: Settings
    engine: Engine
    contract: dict[str, Any]
    readiness: Readiness
    # Collectors that read the database when /metrics is scraped.
    database_metrics: CollectorRegistry


class Resource:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def body(self, req: falcon.Request, schema: str) -> dict[str, Any]:
        """The request body, parsed and checked against request schema `schema`."""
        return checked(schema, read_json(req, self.deps.settings.max_body_bytes))

    def write(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        work: Callable[[Connection], Any],
        status: int = 200,
        single_statement: bool = False,
    ) -> None:
        """Run `work` in one write transaction and answer its result with `status`
        (`single_statement`: see transactions.write)."""
        result = transactions.write(
            req.context.db, work, req.context.get("idempotency"), status, single_statement
        )
        resp.status = falcon.code_to_http_status(status)
        resp.media = result

    def read(
        self, req: falcon.Request, resp: falcon.Response, work: Callable[[Connection], Any]
    ) -> None:
        """Run `work` in one read transaction and answer its result."""
        resp.media = transactions.read(req.context.db, work)

    def lookup(
        self, req: falcon.Request, resp: falcon.Response, work: Callable[[Connection], Any]
    ) -> None:
        """Answer the result of `work`, which issues exactly one statement: no transaction
        around it on PostgreSQL (a statement sees one snapshot by itself), two round trips
        fewer than `read`."""
        resp.media = transactions.lookup(req.context.db, work)


def page_params(req: falcon.Request) -> tuple[int, int]:
    """(limit, after) from ?limit= and ?cursor=, refused with the parameter's name."""
    raw = req.get_param("limit")
    limit = DEFAULT_LIMIT
    if raw is not None:
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise InvalidInput.of("limit", f"an integer from 1 to {MAX_LIMIT}")
        limit = int(raw)
    return limit, decode_cursor(req.get_param("cursor"))
