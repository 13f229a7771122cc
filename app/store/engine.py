"""Engines and transactions: the one way the app talks to its database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app.settings import Settings, SettingsError

SQLITE_BUSY_TIMEOUT_MS = 10_000
# A pooled PostgreSQL connection unused for longer than this is pinged before a request gets it
# (a restarted or failed-over server drops them while they wait); one in steady use is not:
# the ping is a round trip, and every request checks a connection out.
PING_AFTER_IDLE_SECONDS = 1.0


def normalise_url(database_url: str) -> str:
    """Map the public DATABASE_URL forms of API.md to SQLAlchemy driver URLs."""
    try:
        url = make_url(database_url)
    except Exception:
        raise SettingsError(f"DATABASE_URL is not a database URL: {database_url!r}") from None
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if url.drivername in ("sqlite", "sqlite+pysqlite"):
        return url.render_as_string(hide_password=False)
    raise SettingsError(f"DATABASE_URL must be sqlite:/// or postgresql://, got {url.drivername}")


def build_engine(settings: Settings) -> Engine:
    """An engine for the settings' database, tuned for the app's concurrency model.

    Bound parameters (e-mail addresses, names) never appear in errors and so never in logs.
    """
    url = make_url(normalise_url(settings.database_url))
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # A file database needs no pool; every thread opens its own connection cheaply.
        engine = create_engine(
            url,
            poolclass=NullPool,
            hide_parameters=True,
            connect_args={"check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(
        url,
        # One connection per server thread: more would only queue inside PostgreSQL.
        pool_size=settings.threads,
        max_overflow=0,
        pool_timeout=settings.pool_timeout,
        hide_parameters=True,
        # JIT compiles one-off statements for longer than they then run (large propagations).
        connect_args={"options": "-c timezone=UTC -c jit=off"},
    )
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """pool_pre_ping, for connections idle past PING_AFTER_IDLE_SECONDS only."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        # None: just connected, the handshake was the proof (record.info goes with the connection).
        if returned_at is None or time.monotonic() - returned_at < PING_AFTER_IDLE_SECONDS:
            return
        try:
            # Outside a transaction: one round trip, and the connection is left idle.
            dbapi_connection.autocommit = True
            try:
                dbapi_connection.execute("SELECT 1")
            finally:
                dbapi_connection.autocommit = False
        except Exception as error:
            # The pool discards this connection and checks out (or opens) another.
            raise exc.DisconnectionError(f"ping failed: {type(error).__name__}") from error


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: a commit reaches the disk before the client hears "created".
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes the write lock up front: a deferred transaction that later tries to
        # upgrade would fail with "database is locked" instead of waiting its turn.
        mode = "IMMEDIATE" if conn.get_execution_options().get("writes") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that may write: committed on success, rolled back on any error."""
    with engine.connect().execution_options(writes=True) as conn, conn.begin():
        yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """One read-only unit of work with a consistent view."""
    with engine.connect() as conn, conn.begin():
        yield conn
