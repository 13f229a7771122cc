"""`python -m app`: commands ops and developers run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


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
    from app.store.migrate import head_revision

    assert f"at migration {head_revision()}" in run("migrate", database_url=database_url).stderr


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


def test_a_revoked_token_is_refused_from_then_on(database_url):
    import json

    import falcon.testing

    from app.http.app import create_app
    from app.settings import Settings

    token = run("create-token", "--role", "staff", "--name", "leaver", database_url=database_url)
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
    # Servers keep a principal for APP_TOKEN_CACHE_SECONDS (tests/app/services/
    # test_principal_cache.py); without that, the revocation is seen by the very next request.
    client = falcon.testing.TestClient(
        create_app(Settings(database_url=database_url, token_cache_seconds=0))
    )
    assert client.simulate_get("/api/v1/learners/1", headers=headers).status_code == 404
    (listed,) = json.loads(run("list-tokens", "--json", database_url=database_url).stdout)
    assert listed["name"] == "leaver" and "token_hash" not in listed

    dry = run("revoke-token", "--id", str(listed["id"]), database_url=database_url, check=False)
    assert dry.returncode == 1 and "dry run" in dry.stderr
    assert client.simulate_get("/api/v1/learners/1", headers=headers).status_code == 404

    done = run(
        "revoke-token", "--token", headers["Authorization"][7:], "--yes", database_url=database_url
    )
    assert f"revoked token {listed['id']}" in done.stdout
    assert client.simulate_get("/api/v1/learners/1", headers=headers).status_code == 401
    again = run("revoke-token", "--id", str(listed["id"]), "--yes", database_url=database_url)
    assert "nothing to do" in again.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--id", "99"], "no such token"),
        (["--token", "cp_unknown"], "no such token"),
        (["--id", "1", "--token", "cp_x"], "not both"),
        ([], "not both"),
    ],
)
def test_revoking_an_unknown_token_is_a_clear_error(database_url, args, words):
    result = run("revoke-token", *args, database_url=database_url, check=False)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr


def test_purge_idempotency_is_a_dry_run_without_yes(database_url):
    assert "dry run: would delete 0" in run("purge-idempotency", database_url=database_url).stdout
    assert "deleted 0" in run("purge-idempotency", "--yes", database_url=database_url).stdout
