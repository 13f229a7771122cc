"""`python -m app`: commands ops and developers run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.store import migrate


def run(*args: str, database_url: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run(
        [sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def database_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"
    run("migrate", database_url=url)
    return url


def test_migrate_twice_changes_nothing(database_url):
    assert migrate.head_revision() in run("migrate", database_url=database_url).stderr


def test_create_token_prints_only_the_token(database_url):
    out = run("create-token", "--role", "staff", "--name", "ops", database_url=database_url).stdout
    assert out.startswith("cp_") and len(out.strip().split()) == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--role", "root", "--name", "x"], "role"),
        (["--role", "student", "--name", "x"], "learner"),
        (["--role", "student", "--name", "x", "--learner", "99"], "no learner 99"),
        (["--role", "employer", "--name", "x"], "organisation"),
    ],
)
def test_bad_token_requests_exit_2_with_a_message(database_url, args, words):
    result = run("create-token", *args, database_url=database_url, check=False)
    assert result.returncode == 2
    assert words in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["migrate", "serve", "seed-demo"])
def test_bad_database_url_is_a_clear_error(command):
    result = run(command, database_url="mysql://x/y", check=False)
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_seed_demo_is_idempotent_and_consistent(database_url):
    first = run("seed-demo", database_url=database_url).stderr
    assert "2000 learners created, 2000 enrolments created" in first
    second = run("seed-demo", database_url=database_url).stderr
    assert "0 learners created, 0 enrolments created, 0 activities created" in second
    assert (
        run("check-participations", database_url=database_url).stdout.strip()
        == "missing 0, not eligible 0, waitlisted while a seat is free 0, "
        "seated beyond capacity 0, waitlisted out of arrival order 0"
    )
