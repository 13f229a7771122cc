"""The WSGI application factory."""

from __future__ import annotations

import falcon
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from app.http import problems
from app.http.auth import AuthMiddleware
from app.http.database import DatabaseMiddleware
from app.http.drain import DrainBodyMiddleware
from app.http.entry import EntryMiddleware
from app.http.idempotency import IdempotencyMiddleware
from app.http.observe import ObserveMiddleware, public_route
from app.http.openapi import spec
from app.http.readiness import Readiness, probe_engine
from app.http.resources.base import Deps
from app.http.routes import ROUTES
from app.http.shedding import Admission
from app.observability.outbox_backlog import OutboxBacklog
from app.observability.tracing import instrument_engine, tracer, tracer_provider_for
from app.services.principal_cache import PrincipalCache
from app.settings import Settings
from app.store.engine import build_engine


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    tracer_provider: TracerProvider | None = None,
) -> falcon.App:
    """Build the app for `settings` (default: from the environment)."""
    settings = settings or Settings.from_env()
    engine = engine or build_engine(settings)
    provider = tracer_provider or tracer_provider_for(settings)
    if provider is not None:
        instrument_engine(engine, provider)
    ops = {route.resource: route.ops for route in ROUTES}
    app = falcon.App(
        middleware=[
            ObserveMiddleware(tracer(provider)),
            DrainBodyMiddleware(settings.max_body_bytes),
            DatabaseMiddleware(engine),
            EntryMiddleware(ops, settings.trusted_proxies),
            AuthMiddleware(ops, PrincipalCache(settings.token_cache_seconds)),
            IdempotencyMiddleware(settings.max_body_bytes),
        ]
    )
    app.req_options.strip_url_path_trailing_slash = True
    problems.install(app)
    probe = probe_engine(settings)
    database_metrics = CollectorRegistry()
    database_metrics.register(OutboxBacklog(probe))
    deps = Deps(settings, engine, spec(ROUTES), Readiness(probe), database_metrics)
    for route in ROUTES:
        app.add_route(route.template, route.resource(deps))
    return app


def served_app(app: falcon.App, settings: Settings) -> Admission:
    """`app` as the production server runs it: behind admission control (app.http.shedding)."""

    def route_of(path: str) -> str:
        found = app._router.find(path)  # the router Falcon itself uses, before any middleware
        return public_route(found[3] if found else None)

    return Admission(app, settings.queue_budget, route_of, settings.trust_request_start)
