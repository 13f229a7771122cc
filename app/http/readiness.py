"""Readiness: the database answers and its schema is the one this code ships.

Probes come every few seconds from the orchestrator and must answer within its timeout even
when every request thread is busy: they use an engine of their own (one connection, short
timeouts) instead of the request pool, and a result is reused for a couple of seconds so a
burst of probes costs one query.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app.settings import Settings
from app.store import migrate
from app.store.engine import normalise_url

CACHE_SECONDS = 2.0
PROBE_TIMEOUT_SECONDS = 2


def probe_engine(settings: Settings) -> Engine:
    """An engine for probes and the reads of a /metrics scrape: it never waits behind
    requests, and gives up quickly."""
    url = make_url(normalise_url(settings.database_url))
    if url.get_backend_name() == "sqlite":
        timeout = {"timeout": PROBE_TIMEOUT_SECONDS, "check_same_thread": False}
        return create_engine(url, poolclass=NullPool, connect_args=timeout)
    return create_engine(
        url,
        pool_size=1,
        max_overflow=0,
        pool_timeout=PROBE_TIMEOUT_SECONDS,
        pool_pre_ping=True,  # a probe must see a dropped server, and it runs rarely
        hide_parameters=True,
        connect_args={
            "connect_timeout": PROBE_TIMEOUT_SECONDS,
            # JIT would compile a scrape's count of a large backlog for longer than it takes.
            "options": f"-c statement_timeout={PROBE_TIMEOUT_SECONDS * 1000} -c jit=off",
        },
    )


class Readiness:
    """The last readiness verdict, refreshed when older than CACHE_SECONDS."""

    def __init__(self, engine: Engine, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._checks: dict[str, str] = {}

    def checks(self) -> dict[str, str]:
        """`{"database": ..., "migrations": ...}`, each "ok" or what is wrong."""
        with self._lock:
            if self._monotonic() - self._checked_at >= CACHE_SECONDS:
                self._checks = self._check()
                self._checked_at = self._monotonic()
            return dict(self._checks)

    def _check(self) -> dict[str, str]:
        checks = {"database": "ok", "migrations": "ok"}
        try:
            # Reading the schema version is also the proof that the database answers.
            with self._engine.connect() as conn:
                current = migrate.schema_version(conn)
            head = migrate.head_revision()
            if current != head:
                checks["migrations"] = f"database at {current}, code at {head}"
        except Exception as exc:  # any failure to answer means "not ready", never a 500
            checks["database"] = f"unreachable: {type(exc).__name__}"
        return checks
