"""Running `platform-tools runbook …` in-process, pointed at the stand-in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from platform_tools.cli import app


def runbook(kubeconfig: Path, *args: str) -> Result:
    """Invoke a runbook command with the stand-in's kubeconfig; never a traceback."""
    result = CliRunner().invoke(
        app,
        ["runbook", *args, "--kubeconfig", str(kubeconfig)],
        env={"KUBERNETES_SERVICE_HOST": ""},
        terminal_width=200,
    )
    assert "Traceback" not in result.output, result.output
    assert "internal error" not in result.output, result.output
    return result


def document(result: Result) -> Any:
    """The one JSON document a --json run prints."""
    return json.loads(result.stdout)
