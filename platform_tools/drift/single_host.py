"""Single hosts' state: the file the app_host role writes on each host (deployed.json).

Gather them with Ansible, one per host, then compare:

    ansible -i playbooks/inventories/<env> single_hosts -b -m ansible.builtin.fetch \\
      -a "src=/etc/campus/deployed.json dest=state/{{ inventory_hostname }}.json flat=true"
    platform-tools drift --host-state state/dev.json --host-state state/prod.json

Each file names its environment (the inventory's campus_environment), which is the stack it
is compared as; its components carry their versions (the app's wheel and checksum, the
packages of nginx, PostgreSQL and Python) and their configuration.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from platform_tools.drift.model import Component, StackState
from platform_tools.run.errors import UsageError

OPTION = "--host-state"


def read_host_state(path: Path) -> StackState:
    """One host's state file as a stack; a malformed file is a usage error naming it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file", OPTION) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not JSON ({exc})", OPTION) from None
    stack = document.get("environment") if isinstance(document, dict) else None
    components = document.get("components") if isinstance(document, dict) else None
    if not isinstance(stack, str) or not stack or not isinstance(components, dict):
        raise UsageError(f"{path}: expected {{environment, components}}", OPTION)
    state = StackState(stack)
    for name, raw in components.items():
        state.components[name] = _component(path, name, raw)
    return state


def _component(path: Path, name: str, raw: Any) -> Component:
    if not isinstance(raw, dict):
        raise UsageError(f"{path}: components.{name} must be an object", OPTION)
    versions = raw.get("versions", [])
    config = raw.get("config", {})
    if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
        raise UsageError(f"{path}: components.{name}.versions must be a list of text", OPTION)
    if not isinstance(config, dict):
        raise UsageError(f"{path}: components.{name}.config must be an object", OPTION)
    return Component(name, images=set(versions), config={str(k): str(v) for k, v in config.items()})
