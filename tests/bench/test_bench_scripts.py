"""Every benchmark runs to its end at its smallest size: a script that only runs when
someone measures would break silently (a merge once changed a helper two of them call)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Where the overload benchmark says the cores went: every part watched, with what it cost.
CPU_LINE = r"CPU per write created \(ms\), capacity -> overload: {parts}.*load generator [\d.]+"
# The goodput's physical limit on shared cores; behind nginx, with what a refusal costs it.
LIMIT_LINE = r"physical limit: .* leaves [\d.]+ of the capacity{refusals}; goodput / that limit"


def postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TEST_DATABASE_URL is not set: CI must run the PostgreSQL benchmarks")
        pytest.skip("TEST_DATABASE_URL is not set")
    return url


def run(script: str, *args: str, tmp_path: Path) -> str:
    result = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


@pytest.mark.slow
def test_exam_notices_benchmark_runs(tmp_path):
    out = run("exam_notices.py", "--notices", "12", "--exams", "2", "--repeat", "1",
              "--jobs", "1", tmp_path=tmp_path)  # fmt: skip
    assert "12 notices" in out and "target" in out


@pytest.mark.slow
def test_propagation_benchmark_runs(tmp_path):
    results = str(tmp_path / "results.json")
    out = run("propagation.py", "--sizes", "S", "--engines", "sqlite", "--scenarios", "a",
              "--no-baseline", "--out", results, tmp_path=tmp_path)  # fmt: skip
    assert out.strip()


@pytest.mark.slow
@pytest.mark.postgres
def test_employer_requests_benchmark_runs(tmp_path):
    out = run("employer_requests.py", "--database-url", postgres_url(), "--requests", "20",
              "--signups", "20", "--clients", "2", "--repeat", "1", tmp_path=tmp_path)  # fmt: skip
    assert "sign-up" in out


@pytest.mark.slow
def test_backup_benchmark_runs(tmp_path):
    assert run("backup.py", "--skip-large", tmp_path=tmp_path).strip()


@pytest.mark.slow
@pytest.mark.postgres
def test_serving_benchmark_runs(tmp_path):
    url = postgres_url()
    out = run("serving.py", "--database-url", url, "--seconds", "1", "--connections", "2",
              "--rounds", "1", tmp_path=tmp_path)  # fmt: skip
    for server in ("gthread", "sync", "granian"):
        assert f"{server}: /healthz is" in out, out
    for server in ("gthread", "granian"):
        out = run("serving.py", "--database-url", url, "--overload", "--server", server,
                  "--seconds", "1", "--connections", "2", "--overload-seconds", "1",
                  "--max-connections", "16", tmp_path=tmp_path)  # fmt: skip
        assert f"APP_SERVER={server}" in out, out
        assert "goodput / capacity" in out and "recovery (s)" in out, out
        assert re.search(CPU_LINE.format(parts=r"app [\d.]+ -> [\d.]+, PostgreSQL"), out), out
        assert re.search(LIMIT_LINE.format(refusals=""), out), out
    if shutil.which("nginx"):
        out = run("serving.py", "--database-url", url, "--overload", "--proxy", "nginx",
                  "--overload-rounds", "2", "--seconds", "1", "--connections", "2",
                  "--overload-seconds", "1", "--max-connections", "16",
                  tmp_path=tmp_path)  # fmt: skip
        assert "behind the single host's nginx site (TLS)" in out, out
        assert out.count("recovery (s)") == 2 and "undisturbed rounds of 2:" in out, out
        assert re.search(CPU_LINE.format(parts=r"app [\d.]+ -> [\d.]+, nginx [\d.]+ -> "), out), out
        refusals = r", and answering the refusals at nginx's cheapest \(\d+ µs each.* leaves [\d.]+"
        assert re.search(LIMIT_LINE.format(refusals=refusals), out), out
