"""Runs ansible-playbook and ansible-lint the way an operator does, and reads their results."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jinja2

REPO = Path(__file__).resolve().parents[2]
PLAYBOOKS = REPO / "playbooks"
LOCAL_INVENTORY = PLAYBOOKS / "inventories" / "local"
BIN = Path(sys.executable).parent
# Held during every run that acts on this machine (for real or in check mode):
# two apt or service runs at once would trip over each other, whichever pytest
# worker or session starts them.
MACHINE_LOCK = Path(tempfile.gettempdir()) / "campus-playbooks-machine.lock"

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


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the duration of the block."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_playbook(
    playbook: str,
    *extra: str,
    inventory: Path = LOCAL_INVENTORY,
    env: dict[str, str] | None = None,
    touches_machine: bool = True,
    timeout: int = 900,
) -> PlaybookRun:
    """Run `ansible-playbook -i inventory playbooks/<playbook> extra...` from the repo root.

    Runs that only read the inventory (validate.yml, a run stopped by the
    validation) pass touches_machine=False and skip the machine lock.
    """
    if touches_machine:
        with exclusive_lock(MACHINE_LOCK):
            return run_playbook(
                playbook,
                *extra,
                inventory=inventory,
                env=env,
                touches_machine=False,
                timeout=timeout,
            )
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


def runs_to_json(runs: dict[str, PlaybookRun]) -> str:
    """Serialise named runs (to share them between pytest workers)."""
    return json.dumps({name: asdict(run) for name, run in runs.items()})


def runs_from_json(text: str) -> dict[str, PlaybookRun]:
    """The named runs written by runs_to_json."""
    return {
        name: PlaybookRun(
            args=tuple(data["args"]), returncode=data["returncode"], output=data["output"]
        )
        for name, data in json.loads(text).items()
    }


def xdist_shared_dir(basetemp: Path) -> Path | None:
    """The temporary directory the pytest-xdist workers of this session share (None without)."""
    return basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else None


def once_per_session(
    name: str, shared_dir: Path | None, produce: Callable[[], dict[str, PlaybookRun]]
) -> dict[str, PlaybookRun]:
    """Produce named runs once for the whole test session, whatever the number of workers.

    With pytest-xdist every worker has its own session fixtures; the first
    worker to take the lock produces the runs and leaves them in shared_dir
    (the session's common temporary directory) for the others. Without
    workers (shared_dir None) this just calls produce.
    """
    if shared_dir is None:
        return produce()
    result = shared_dir / f"{name}.json"
    with exclusive_lock(shared_dir / f"{name}.lock"):
        if result.exists():
            return runs_from_json(result.read_text())
        runs = produce()
        result.write_text(runs_to_json(runs))
        return runs


@dataclass(frozen=True)
class InventoryHost:
    """A host of an inventory: its groups (parents included) and its variables, merged as
    Ansible merges group_vars and host variables, not yet templated."""

    groups: frozenset[str]
    variables: dict[str, Any]


def inventory_hosts(inventory: Path) -> dict[str, InventoryHost]:
    """Every host of `inventory`, as ansible-inventory reads it (no host is contacted)."""
    proc = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(inventory), "--list"],
        cwd=REPO,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    listing = json.loads(proc.stdout)

    def members(group: str) -> set[str]:
        entry = listing.get(group, {})
        found = set(entry.get("hosts", []))
        for child in entry.get("children", []):
            found |= members(child)
        return found

    groups = {group: members(group) for group in listing if group != "_meta"}
    hostvars = listing["_meta"]["hostvars"]
    return {
        host: InventoryHost(
            groups=frozenset(group for group, hosts in groups.items() if host in hosts),
            variables=hostvars.get(host, {}),
        )
        for host in groups.get("all", set())
    }


def render(value: Any, variables: dict[str, Any], hostvars: dict[str, dict[str, Any]]) -> Any:
    """`value` templated with a host's variables, until no template is left, for the plain
    expressions inventories and role defaults use (variables, hostvars[...], default()).

    Unlike Ansible, another host's variable that is itself a template is rendered in this
    host's context: enough for the literal addresses the inventories give hostvars.
    """
    if isinstance(value, list):
        return [render(item, variables, hostvars) for item in value]
    if isinstance(value, dict):
        return {key: render(item, variables, hostvars) for key, item in value.items()}
    # Inventory values, not HTML: nothing to escape (Ansible renders them the same way).
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)  # noqa: S701
    context = {**variables, "hostvars": hostvars}
    for _ in range(10):
        if not isinstance(value, str) or "{{" not in value:
            return value
        value = environment.from_string(value).render(context)
    raise AssertionError(f"template still unresolved after 10 passes: {value}")
