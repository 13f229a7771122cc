"""Runs ansible-playbook and ansible-lint the way an operator does, and reads their results."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLAYBOOKS = REPO / "playbooks"
LOCAL_INVENTORY = PLAYBOOKS / "inventories" / "local"
BIN = Path(sys.executable).parent

_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")


@dataclass(frozen=True)
class PlaybookRun:
    """The outcome of one ansible-playbook invocation."""

    args: tuple[str, ...]
    returncode: int
    output: str

    def recap(self, host: str = "localhost") -> dict[str, int]:
        """Counters of the PLAY RECAP line of `host` (ok, changed, failed, ...)."""
        for line in reversed(self.output.splitlines()):
            match = _RECAP_LINE.match(line.strip())
            if match and match["host"] == host:
                return {
                    key: int(value)
                    for key, value in (pair.split("=") for pair in match["counts"].split())
                }
        raise AssertionError(f"no PLAY RECAP for {host} in:\n{self.tail()}")

    def tail(self, lines: int = 60) -> str:
        """The last lines of the output, for assertion messages."""
        return "\n".join(self.output.splitlines()[-lines:])

    def changed_tasks(self) -> list[str]:
        """Names of the tasks that reported a change (to explain a failed idempotence check)."""
        changed, task = [], None
        for line in self.output.splitlines():
            if line.startswith(("TASK [", "RUNNING HANDLER [")):
                task = line.split("[", 1)[1].rsplit("]", 1)[0]
            elif line.startswith("changed:") and task is not None:
                changed.append(task)
        return changed


def ansible_env() -> dict[str, str]:
    """Environment for Ansible tools: our ansible.cfg, plain output, the venv first on PATH."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(PLAYBOOKS / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def run_playbook(
    playbook: str,
    *extra: str,
    inventory: Path = LOCAL_INVENTORY,
    env: dict[str, str] | None = None,
    timeout: int = 900,
) -> PlaybookRun:
    """Run `ansible-playbook -i inventory playbooks/<playbook> extra...` from the repo root."""
    args = (
        str(BIN / "ansible-playbook"),
        "-i",
        str(inventory),
        str(PLAYBOOKS / playbook),
        *extra,
    )
    proc = subprocess.run(
        args,
        cwd=REPO,
        env=ansible_env() | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return PlaybookRun(args=args, returncode=proc.returncode, output=proc.stdout + proc.stderr)
