"""The database a command works on: the app's own settings and engine, on both engines."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from app.settings import Settings, SettingsError
from app.store.engine import build_engine, normalise_url
from platform_tools.run.errors import EnvironmentFailure, UsageError


def database_settings(database_url: str | None = None) -> Settings:
    """The app's settings from the environment, with `--database-url` overriding DATABASE_URL.

    A malformed value is a usage error naming the option or the variable it came from.
    """
    option = "--database-url" if database_url else "DATABASE_URL"
    try:
        settings = Settings.from_env()
        if database_url:
            settings = Settings(**{**settings.__dict__, "database_url": database_url})
        normalise_url(settings.database_url)
    except SettingsError as exc:
        raise UsageError(str(exc).removeprefix("DATABASE_URL "), option) from None
    return settings


def database_url(settings: Settings) -> URL:
    """The settings' database as a SQLAlchemy URL (psycopg driver for PostgreSQL)."""
    return make_url(normalise_url(settings.database_url))


def database_name(settings: Settings) -> str:
    """The label a database's metrics and backups carry: the PostgreSQL database name, or
    the SQLite file name without its extension."""
    url = database_url(settings)
    if url.get_backend_name() == "sqlite":
        return Path(url.database or "memory").stem
    return url.database or "postgres"


def open_engine(settings: Settings, option: str = "DATABASE_URL") -> Engine:
    """The app's engine for the settings, after proving the database answers (exit 3 if not).

    `option` names where the URL came from, for the message about a missing SQLite file.
    """
    url = database_url(settings)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        if not path.is_file():
            # build_engine would create an empty database: an ops command must not.
            raise UsageError(f"{path}: no such SQLite database file", option)
    engine = build_engine(settings)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise EnvironmentFailure(
            f"database {url.render_as_string(hide_password=True)} does not answer: {reason}"
        ) from None
    return engine
