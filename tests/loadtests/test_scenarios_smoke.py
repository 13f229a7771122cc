"""Each scenario as a short smoke: a real served app on a scratch PostgreSQL database, data
prepared through the API, Locust headless in a subprocess, its gates and its ledger.

Timings are not asserted (a shared CI machine): the smokes run with `--slo functional`, so the
error ratio, the 5xx gate, every request kind being served and lost = 0 decide the outcome.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.loadtests.helpers import ROOT, postgres_url, served_app, subprocess_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SMOKES = {
    # scenario: (users, seconds, prepared students)
    "rentree_wave": (8, 20, 20),
    "furlough_surge": (8, 20, 2),
    "exam_rush": (8, 20, 20),
}


@pytest.mark.parametrize("scenario", sorted(SMOKES))
def test_scenario_smoke_meets_its_gates_and_loses_nothing(scenario, tmp_path):
    users, seconds, students = SMOKES[scenario]
    result = subprocess.run(
        [sys.executable, "-m", "loadtests.run_local", "--scenario", scenario,
         "--database-url", postgres_url(), "--users", str(users), "--spawn-rate", "4",
         "--run-time", str(seconds), "--students", str(students), "--slo", "functional",
         "--out", str(tmp_path)],
        cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=420,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert f"SLO gates of {scenario}" in out
    assert re.search(r"Zero-loss ledger: [1-9]\d* acknowledged writes", out), out[-3000:]
    assert "\nlost = 0" in out
    assert (tmp_path / f"{scenario}_stats.csv").stat().st_size > 0
    assert (tmp_path / f"{scenario}.html").stat().st_size > 0


def test_a_missing_server_is_a_clear_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "loadtests.run_local", "--scenario", "rentree_wave",
         "--database-url", "postgresql://nobody:x@127.0.0.1:1/none", "--out", str(tmp_path)],
        cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "\nerror: connection failed" in result.stderr and "Traceback" not in result.stderr


def test_against_a_running_deployment_with_host_and_staff_token(tmp_path):
    # Nothing is started nor dropped: data is prepared through the API of the given host,
    # student calls go with the staff token (no student tokens without the database).
    with served_app(tmp_path) as (url, token):
        result = subprocess.run(
            [sys.executable, "-m", "loadtests.run_local", "--scenario", "exam_rush",
             "--host", url, "--staff-token", token, "--users", "4", "--spawn-rate", "4",
             "--run-time", "20", "--students", "6", "--slo", "functional",
             "--out", str(tmp_path)],
            cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert re.search(r"exam registration +4 acknowledged +0 lost", out), out[-3000:]
    assert "\nlost = 0" in out
