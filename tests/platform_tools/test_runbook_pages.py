"""Every runbook and rollover command has its page in docs/runbooks/, and every
`platform-tools …` command a page names exists in the CLI."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import typer

from platform_tools.cli import app

RUNBOOKS = Path(__file__).resolve().parents[2] / "docs" / "runbooks"
# The command groups whose every command is an on-call or ops procedure with its own page.
PROCEDURE_GROUPS = ("runbook", "year", "curriculum", "exam-period")
SECTIONS = ("## When to use it", "## Run it", "## If it fails")
NOT_SHIPPED = "not yet shipped"


def _root() -> click.Group:
    return typer.main.get_command(app)  # type: ignore[return-value]


def _procedure_commands() -> list[str]:
    root = _root()
    names = []
    for group in PROCEDURE_GROUPS:
        for name in sorted(root.commands[group].commands):  # type: ignore[attr-defined]
            names.append(f"platform-tools {group} {name}")
    return names


def _pages() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(RUNBOOKS.glob("*.md"))}


def _procedure_pages() -> dict[str, str]:
    return {name: text for name, text in _pages().items() if "\n## When to use it" in text}


def resolves(words: list[str]) -> bool:
    """True when `words` lead from the root to a command (not to a group, not astray)."""
    node: click.Command = _root()
    for word in words:
        commands = getattr(node, "commands", None)
        if commands is None:
            break  # a leaf command: the rest are its arguments
        if word not in commands:
            return False
        node = commands[word]
    return getattr(node, "commands", None) is None


@pytest.mark.parametrize("command", _procedure_commands())
def test_every_runbook_and_rollover_command_has_a_page(command: str):
    pages = [name for name, text in _procedure_pages().items() if f"`{command}" in text]
    assert pages, f"no docs/runbooks page documents `{command}`"
    index = (RUNBOOKS / "README.md").read_text(encoding="utf-8")
    assert any(f"]({page})" in index for page in pages), f"{pages} not in the runbook index"


@pytest.mark.parametrize("page", sorted(_procedure_pages()))
def test_procedure_pages_say_when_how_and_what_failure_means(page: str):
    text = _procedure_pages()[page]
    assert text.startswith("# Runbook: ")
    positions = [text.find(heading) for heading in SECTIONS]
    assert -1 not in positions and positions == sorted(positions), page
    run_it = text[positions[1] : positions[2]]
    assert "```sh\n" in run_it, page
    # A page that changes something shows the applying call; read-only pages say so.
    assert "--yes" in run_it or "Read-only" in text, page


def _named_commands() -> list[tuple[str, str, str]]:
    found = []
    for name, text in _pages().items():
        for line in text.splitlines():
            for match in re.finditer(r"platform-tools ([a-z][a-z0-9 -]*)", line):
                found.append((name, match.group(0), line))
    return found


def test_every_command_a_page_names_exists_in_the_cli():
    unknown = []
    procedures = _procedure_pages()
    for page, command, line in _named_commands():
        words = [w for w in shlex.split(command)[1:] if not w.startswith("-")]
        # Alert pages may name planned commands, marked as such; procedure pages may not.
        excused = NOT_SHIPPED in line and page not in procedures
        if not resolves(words) and not excused:
            unknown.append(f"{page}: {line.strip()}")
    assert unknown == []


def test_the_lookup_tells_commands_from_groups_and_typos():
    assert resolves(["runbook", "drain", "node-a"])
    assert resolves(["year", "rollover"])
    assert not resolves(["runbook"])
    assert not resolves(["runbook", "drian"])
