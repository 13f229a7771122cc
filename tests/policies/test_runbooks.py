"""Runbooks: every alert's page says what, impact, diagnose and mitigate, with real commands."""

from __future__ import annotations

import re
import shlex

import pytest
import typer

from platform_tools.cli import app as platform_tools_app
from tests.policies.policy_files import RUNBOOKS_DIR, alerts

SECTIONS = ("## What it means", "## Impact", "## Diagnose", "## Mitigate")
NOT_SHIPPED = "not yet shipped"
# Alerts whose remedy is an ops CLI command: their page must name one.
OPS_CLI_ALERTS = {
    "CampusBackupTooOld",
    "CampusBackupMetricAbsent",
    "CampusBackupVerifyFailed",
    "CampusExamArchiveFailed",
    "CampusKubeBenchFailures",
    "CampusPropagationErrors",
    "CampusDatabaseDown",
    "CampusFalcoCriticalEvent",
    "CampusOutboxStuck",
}


def _runbook(alert: dict) -> str:
    return (RUNBOOKS_DIR / f"{alert['alert']}.md").read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    start = text.index(heading) + len(heading)
    following = text.find("\n## ", start)
    return text[start : following if following != -1 else len(text)]


@pytest.mark.parametrize("alert", alerts(), ids=lambda rule: rule["alert"])
def test_runbook_has_every_section_in_order(alert: dict) -> None:
    text = _runbook(alert)
    assert text.startswith(f"# {alert['alert']}\n")
    positions = [text.find(heading) for heading in SECTIONS]
    assert -1 not in positions, f"missing sections in {alert['alert']}.md"
    assert positions == sorted(positions)
    assert f"`policies/prometheus/rules/{alert['_file']}`" in text


@pytest.mark.parametrize("alert", alerts(), ids=lambda rule: rule["alert"])
def test_runbook_diagnoses_and_mitigates_with_commands(alert: dict) -> None:
    text = _runbook(alert)
    for heading in ("## Diagnose", "## Mitigate"):
        assert "```sh\n" in _section(text, heading), f"{alert['alert']}: {heading} has no commands"
    if alert["alert"] in OPS_CLI_ALERTS:
        assert "platform-tools " in _section(text, "## Mitigate")


def _command_exists(words: list[str]) -> bool:
    # Typer ships its own click: groups are recognised by their `commands`, not by class.
    node = typer.main.get_command(platform_tools_app)
    for word in words:
        commands = getattr(node, "commands", None)
        if commands is None or word not in commands:
            break
        node = commands[word]
    return getattr(node, "commands", None) is None


def _platform_tools_lines() -> list[tuple[str, str]]:
    found = []
    for path in sorted(RUNBOOKS_DIR.glob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            for match in re.finditer(r"platform-tools ([a-z][a-z0-9 -]*)", line):
                found.append((path.name, match.group(0), line))
    return found


def test_every_platform_tools_command_exists_or_is_marked_not_yet_shipped() -> None:
    lines = _platform_tools_lines()
    assert lines
    unknown = []
    for name, command, line in lines:
        words = [word for word in shlex.split(command)[1:] if not word.startswith("-")]
        if not _command_exists(words) and NOT_SHIPPED not in line:
            unknown.append(f"{name}: {line.strip()}")
    assert unknown == []


def test_the_shipped_gate_is_never_marked_not_yet_shipped() -> None:
    for name, command, line in _platform_tools_lines():
        if command.startswith("platform-tools kube-bench gate"):
            assert NOT_SHIPPED not in line, name


def test_runbook_index_lists_every_alert() -> None:
    index = (RUNBOOKS_DIR / "README.md").read_text(encoding="utf-8")
    for alert in alerts():
        assert f"]({alert['alert']}.md)" in index


def test_runbooks_link_only_to_existing_pages() -> None:
    for path in sorted(RUNBOOKS_DIR.glob("*.md")):
        for target in re.findall(r"\]\(([A-Za-z0-9_-]+\.md)\)", path.read_text()):
            assert (RUNBOOKS_DIR / target).is_file(), f"{path.name} links to missing {target}"


def test_command_lookup_tells_shipped_from_missing_commands() -> None:
    assert _command_exists(["kube-bench", "gate"])
    assert not _command_exists(["kube-bench"])
    assert not _command_exists(["no-such-group", "run"])
