"""Shared fixtures for the infra tests: every stack captured once under Pulumi's mocks and
rendered to manifests, in a session-wide temporary folder.

The costly products (captures, checkov scans) are made once per test run even when pytest-xdist
spreads the infra tests over several workers: the first worker to need one makes it under a
file lock in the run's shared temporary root, the others read it back (`shared_product`).
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
for extra in (INFRA, INFRA / "policy"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from campus_infra import render  # noqa: E402
from campus_infra.capture import stack_names  # noqa: E402

STACKS = stack_names()
HERE = Path(__file__).parent


# Keep the infra tests together on one worker where xdist's loadgroup honours it (before
# xdist's own hook, which reads the group markers); shared_product covers the rest.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.xdist_group("infra"))


def shared_product(
    factory: pytest.TempPathFactory, name: str, produce: Callable[[Path], None]
) -> Path:
    """A folder made once per test run by `produce(folder)`, whichever worker asks first."""
    base = factory.getbasetemp()
    # Under xdist each worker's base is <run root>/popen-gwN; the run root is shared.
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / f"infra-{name}"
    with open(root / f"infra-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            produce(folder)
            (folder / ".done").touch()
    return folder


@dataclass
class Rendered:
    """One stack's capture (Pulumi resource records and the app's Argo CD manifests) and its
    rendered files: `folder` holds what Argo CD applies, `platform` what Pulumi applies."""

    stack: str
    records: list[dict[str, Any]]
    folder: Path
    releases_file: Path
    platform: Path

    def manifests(self, only: str | None = None) -> list[dict[str, Any]]:
        return render.manifests(self.records, only=only)

    def files(self) -> list[Path]:
        """Every rendered object file, both owners."""
        return sorted([*self.folder.rglob("*.yaml"), *self.platform.rglob("*.yaml")])

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.manifests() if m["kind"] == kind]

    def one(self, kind: str, name: str) -> dict[str, Any]:
        found = [m for m in self.of_kind(kind) if m["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.stack}: expected one {kind} {name}, got {len(found)}"
        return found[0]

    def releases(self) -> dict[str, Mapping[str, Any]]:
        return {r["name"]: r for r in render.helm_releases(self.records)}


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    """Every stack of Pulumi.<stack>.yaml, captured and rendered (as `make render` does)."""
    root = shared_product(
        tmp_path_factory,
        "render",
        lambda root: render.render(
            STACKS,
            root / "manifests",
            root / "releases",
            [],
            capture_dir=root / "capture",
            platform=root / "platform",
        ),
    )
    return {
        s: Rendered(
            s,
            load_capture(root / "capture" / f"{s}.json"),
            root / "manifests" / s,
            root / "releases" / f"{s}.yaml",
            root / "platform" / s,
        )
        for s in STACKS
    }


@pytest.fixture(scope="session")
def surge(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """The prod stack captured with the surge profile on (CLI result; records in .out)."""
    out = tmp_path_factory.mktemp("surge") / "prod-surge.json"
    done = capture_cli("prod", "campus-platform:profile=surge", out=out)
    done.out = out  # type: ignore[attr-defined]
    return done


@pytest.fixture(scope="session")
def surge_with_scenarios(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """prod in the surge profile with the load generator on (a rehearsal) and a small scenario
    folder of our own, so the load generator is checked whatever loadtests/ holds today;
    rendered like `make render`."""

    def produce(root: Path) -> None:
        scenarios = root / "loadtests"
        scenarios.mkdir()
        (scenarios / "locustfile.py").write_text("from shapes import Wave  # noqa: F401\n")
        (scenarios / "shapes.py").write_text("class Wave:\n    pass\n")
        (scenarios / "README.md").write_text("not a scenario\n")
        done = capture_cli(
            "prod",
            "campus-platform:profile=surge",
            "campus-platform:loadgen.enabled=true",
            out=root / "capture.json",
            env={"CAMPUS_LOADTESTS_DIR": str(scenarios)},
        )
        assert done.returncode == 0, done.stderr
        records = load_capture(root / "capture.json")
        render.write_stack(records, root / "manifests", root / "releases.yaml", root / "platform")

    root = shared_product(tmp_path_factory, "surge-scenarios", produce)
    records = load_capture(root / "capture.json")
    return Rendered(
        "prod-surge", records, root / "manifests", root / "releases.yaml", root / "platform"
    )


def capture_cli(
    stack: str, *overrides: str, out: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the capture CLI as a subprocess (as `make render` does for one stack)."""
    command = [sys.executable, "-m", "campus_infra.capture", "--stack", stack, "--out", str(out)]
    for item in overrides:
        command += ["--set", item]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {}), "PYTHONPATH": str(INFRA)},
    )


def stack_getter(stack: str) -> Callable[[str], str | None]:
    """`pulumi.Config(PROJECT).get` for a stack file, without the Pulumi runtime."""
    from campus_infra.capture import stack_config

    flat = stack_config(stack)
    return lambda name: flat.get(f"campus-platform:{name}")


def load_capture(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))
