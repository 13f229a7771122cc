"""Shared by the load-test tests: the PostgreSQL server, a served app on a scratch database,
and the environment Locust subprocesses need."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from loadtests import run_local

ROOT = Path(__file__).resolve().parents[2]


def postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TEST_DATABASE_URL is not set: CI must run the load-test smokes")
        pytest.skip("TEST_DATABASE_URL is not set")
    return url


def subprocess_env() -> dict[str, str]:
    """This environment without what only this test process may carry (Locust's monkey
    patching must happen in the Locust processes)."""
    return {k: v for k, v in os.environ.items() if k != "LOCUST_SKIP_MONKEY_PATCH"}


@contextmanager
def served_app(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`python -m app serve` on a free port and a scratch database: (base URL, staff token)."""
    with run_local.scratch_database(postgres_url()) as url:
        env = {**subprocess_env(), "DATABASE_URL": url}
        subprocess.run([sys.executable, "-m", "app", "migrate"], env=env, cwd=ROOT, check=True,
                       capture_output=True)  # fmt: skip
        token = subprocess.run(
            [sys.executable, "-m", "app", "create-token", "--role", "staff", "--name", "t"],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        server = run_local.Server(env, run_local.free_port(), tmp_path / "server.log")
        server.start()
        try:
            server.wait_ready()
            yield server.url, token
        finally:
            server.stop()
