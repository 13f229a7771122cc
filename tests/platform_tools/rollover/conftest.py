"""Rollover tests run on SQLite and on PostgreSQL, with the app's own database fixtures."""

from tests.app.conftest import (  # noqa: F401 (fixtures pytest finds by name)
    engine,
    frozen_clock,
    postgres_url,
    settings,
    sqlite_template,
)
