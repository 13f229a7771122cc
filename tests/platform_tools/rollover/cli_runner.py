"""Running `platform-tools` in-process against a test database."""

from __future__ import annotations

from typer.testing import CliRunner, Result

from app.settings import Settings
from platform_tools.cli import app


def run(settings: Settings | None, *args: str) -> Result:
    """Invoke the CLI with DATABASE_URL set to the test database; never a traceback."""
    env = {"DATABASE_URL": settings.database_url} if settings is not None else {}
    result = CliRunner().invoke(app, list(args), env=env, terminal_width=200)
    assert "Traceback" not in result.output, result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result
