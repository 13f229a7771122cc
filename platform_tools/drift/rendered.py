"""The stacks as `make render` wrote them: build/manifests/<stack>/ (Argo CD's objects),
build/platform/<stack>/ (Pulumi's) and build/helm-releases/<stack>.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml

from platform_tools.drift.model import StackState
from platform_tools.drift.sources import add_object, add_release
from platform_tools.run.errors import UsageError


def rendered_stacks(root: Path) -> list[str]:
    """The stacks found under `root` (build/), sorted."""
    folder = root / "manifests"
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def read_rendered(root: Path, stack: str) -> StackState:
    """One stack's state from the rendered files; a missing or unreadable file is a usage
    error that says to run `make render`."""
    manifests = root / "manifests" / stack
    if not manifests.is_dir():
        raise UsageError(
            f"{manifests}: no rendered stack {stack!r} (run `make render`)", "--rendered"
        )
    state = StackState(stack)
    files = sorted([*manifests.rglob("*.yaml"), *(root / "platform" / stack).rglob("*.yaml")])
    for path in files:
        for obj in _documents(path):
            add_object(state, obj)
    releases = root / "helm-releases" / f"{stack}.yaml"
    if releases.is_file():
        for release in _documents(releases):
            add_release(state, release)
    return state


def _documents(path: Path) -> list[dict]:
    try:
        documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not YAML ({exc})", "--rendered") from None
    return [d for d in documents if isinstance(d, dict)]
