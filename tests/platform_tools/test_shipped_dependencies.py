"""`platform-tools` ships in the app's wheel, and hosts install only the project's main
dependencies (`uv export --no-default-groups`): every third-party module the ops CLI imports
must come from them, or the nightly backup dies on import."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]


def _closure(roots: list[str]) -> set[str]:
    """The distributions the main dependencies install here, transitively (a requirement
    whose marker excludes this platform or an extra nobody asked for is left out)."""
    seen: set[str] = set()
    pending = [(Requirement(root), "") for root in roots]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        for child in metadata.requires(name) or []:
            for wanted in ["", *sorted(requirement.extras)]:
                pending.append((Requirement(child), wanted))
    return seen


def _imported_top_levels(package: Path) -> set[str]:
    names: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_every_module_the_ops_cli_imports_comes_from_a_main_dependency() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    installed = _closure(project["dependencies"])
    providers = metadata.packages_distributions()
    missing = []
    for module in sorted(_imported_top_levels(REPO / "platform_tools")):
        if module in sys.stdlib_module_names or module in {"app", "platform_tools"}:
            continue
        distributions = {canonicalize_name(name) for name in providers.get(module, [])}
        if not distributions & installed:
            missing.append(f"{module} (from {sorted(distributions) or 'nowhere'})")
    assert missing == []
