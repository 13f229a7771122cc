"""The entry point infra/ runs on the load generator's master and workers (locustfile.py)
brings in the chosen scenario's users and shape, and refuses an unknown scenario by name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.loadtests.helpers import ROOT, subprocess_env

LOCUST = str(Path(sys.executable).parent / "locust")


def listed(scenario: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LOCUST, "-f", "loadtests/locustfile.py", "--list"],
        cwd=ROOT, env={**subprocess_env(), "LOADTEST_SCENARIO": scenario},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("scenario", "users"),
    [
        ("rentree_wave", {"Student", "RegistrarDesk", "SchedulingOffice"}),
        ("furlough_surge", {"Employer", "BackOffice"}),
        ("exam_rush", {"Student"}),
    ],
)
def test_the_entry_point_runs_the_chosen_scenario(scenario, users):
    result = listed(scenario)
    assert result.returncode == 0, result.stderr
    shown = {line.strip() for line in result.stdout.splitlines()[1:] if line.strip()}
    assert shown == users


def test_an_unknown_scenario_is_refused_by_name():
    result = listed("black_friday")
    assert result.returncode != 0
    assert "LOADTEST_SCENARIO must be one of" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_staff_token_file_is_refused_by_name(tmp_path):
    missing = tmp_path / "staff-token"
    result = subprocess.run(
        [LOCUST, "-f", "loadtests/locustfile.py", "--staff-token-file", str(missing),
         "--headless", "-u", "1", "-t", "1s", "--host", "http://127.0.0.1:9"],
        cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert f"--staff-token-file {missing}" in result.stderr
    assert "Traceback" not in result.stderr
