"""Versioned schema migrations (Alembic), applied by `python -m app migrate`."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config() -> Config:
    """Alembic's configuration for the shipped migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; running it again changes nothing."""
    config = alembic_config()
    with engine.connect().execution_options(writes=True) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


@cache
def head_revision() -> str | None:
    """The newest migration shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None before the first one."""
    with engine.connect() as conn:
        return schema_version(conn)


def schema_version(conn: Connection) -> str | None:
    """The migration recorded in the database: one plain query, no migration machinery."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
