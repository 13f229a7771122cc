"""The database the ops commands act on: the app's own DATABASE_URL and engine."""

from __future__ import annotations

from sqlalchemy import Engine

from app.settings import Settings, SettingsError
from app.store.engine import build_engine, normalise_url


def engine_from_env() -> Engine:
    """An engine for DATABASE_URL; SettingsError names the variable when it is unusable."""
    settings = Settings.from_env()
    normalise_url(settings.database_url)
    return build_engine(settings)


__all__ = ["SettingsError", "engine_from_env"]
