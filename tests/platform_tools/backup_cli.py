"""Helpers to drive `platform-tools backup` through its real CLI and read what it wrote."""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner, Result

from platform_tools.cli import app

runner = CliRunner()


def backup_cli(*args: str, database_url: str | None = None, **env: str) -> Result:
    """`platform-tools backup ARGS` with DATABASE_URL set; never a traceback on stderr."""
    environment = {"DATABASE_URL": database_url, **env} if database_url else env
    result = runner.invoke(app, ["backup", *args], env=environment, terminal_width=200)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def json_of(result: Result) -> object:
    """The one JSON document a `--json` run printed on stdout."""
    return json.loads(result.stdout)


def message(result: Result) -> str:
    """The human message of a failed run (stderr without the JSON log lines)."""
    lines = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    return " ".join(" ".join(lines).split())


def samples(path: Path) -> dict[str, float]:
    """Metric samples of a textfile by name (the tests use one database label)."""
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(path.read_text())
        for sample in family.samples
    }
