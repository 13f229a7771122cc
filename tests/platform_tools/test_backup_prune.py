"""Grandfather-father-son pruning over fabricated dates; the newest verified backup always
stays; the CLI is a dry run without --yes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from platform_tools.backup.manifest import FileEntry, Manifest, TableEntry, write_manifest
from platform_tools.backup.prune import Candidate, Policy, plan_prune
from platform_tools.backup.repository import (
    Verification,
    backup_id,
    manifest_digest,
    write_verification,
)
from tests.platform_tools.backup_cli import backup_cli, json_of, message

START = dt.datetime(2026, 1, 1, 2, 30, tzinfo=dt.UTC)


def _daily(days: int, verified: set[int] = frozenset()) -> list[Candidate]:
    """One backup a night at 02:30 UTC from 2026-01-01 (Thursday), `days` nights."""
    return [
        Candidate(f"b{day:03d}", START + dt.timedelta(days=day), day in verified)
        for day in range(days)
    ]


def test_gfs_keeps_the_newest_days_weeks_and_months_and_nothing_else() -> None:
    candidates = _daily(120)  # 2026-01-01 .. 2026-04-30
    plan = plan_prune(candidates, Policy(daily=7, weekly=4, monthly=3))
    kept = set(plan.keep)
    # 7 newest days: Apr 24..30 (days 113..119).
    assert {f"b{d:03d}" for d in range(113, 120)} <= kept
    # 4 newest ISO weeks: the newest backup of each is its newest day: Thu Apr 30 (W18),
    # Sun Apr 26 (W17), Sun Apr 19 (W16), Sun Apr 12 (W15).
    weekly = {c for c, reasons in plan.keep.items() if any(r.startswith("weekly") for r in reasons)}
    assert weekly == {"b119", "b115", "b108", "b101"}
    # 3 newest months: Apr 30, Mar 31, Feb 28.
    monthly = {
        c for c, reasons in plan.keep.items() if any(r.startswith("monthly") for r in reasons)
    }
    assert monthly == {"b119", "b089", "b058"}
    assert kept == {f"b{d:03d}" for d in range(113, 120)} | {"b108", "b101", "b089", "b058"}
    assert set(plan.delete) == {c.id for c in candidates} - kept
    assert plan.keep["b119"] == ["daily 2026-04-30", "weekly 2026-W18", "monthly 2026-04"]


def test_several_backups_a_day_keep_only_the_newest_of_each_day() -> None:
    candidates = [
        Candidate(f"h{hour:02d}", START + dt.timedelta(hours=hour), False) for hour in range(48)
    ]
    plan = plan_prune(candidates, Policy(daily=2, weekly=0, monthly=0))
    # h22 is 2026-01-02 00:30 and h46 is 2026-01-03 00:30: the newest day holds h46..h47,
    # the day before h22..h45.
    assert list(plan.keep) == ["h47", "h45"]
    assert len(plan.delete) == 46


def test_the_newest_verified_backup_is_kept_even_when_the_policy_drops_it() -> None:
    # Only night 10 was ever verified; the policy alone would keep the last night only.
    candidates = _daily(30, verified={10})
    plan = plan_prune(candidates, Policy(daily=1, weekly=0, monthly=0))
    assert plan.keep == {"b029": ["daily 2026-01-30"], "b010": ["newest verified backup"]}


def test_an_older_verified_backup_does_not_outlive_a_newer_verified_one() -> None:
    plan = plan_prune(_daily(30, verified={3, 20}), Policy(daily=1, weekly=0, monthly=0))
    assert set(plan.keep) == {"b029", "b020"}
    assert "b003" in plan.delete


def test_a_policy_never_deletes_the_only_backup() -> None:
    plan = plan_prune(_daily(1), Policy(daily=1, weekly=0, monthly=0))
    assert list(plan.keep) == ["b000"] and plan.delete == []


def _fabricate(backup_dir: Path, started: dt.datetime, verified: bool = False) -> str:
    """A complete backup directory with a manifest of the given start time."""
    name = backup_id("campus", started)
    path = backup_dir / name
    (path / "data").mkdir(parents=True)
    (path / "data" / "campus.sqlite3").write_bytes(b"x")
    manifest = Manifest(
        id=name,
        database="campus",
        engine="sqlite",
        server_version="3.40.1",
        schema_version="0001",
        method="sqlite-online-backup",
        started_at=started,
        finished_at=started + dt.timedelta(minutes=1),
        files=(FileEntry("data/campus.sqlite3", 1, "0" * 64),),
        tables={"learner": TableEntry(rows=1, checksum="rowsum64:0")},
        tool_version="test",
    )
    write_manifest(manifest, path)
    if verified:
        write_verification(path, Verification(True, started, 1.0, (), manifest_digest(path)))
    return name


def test_prune_is_a_dry_run_without_yes_and_deletes_the_plan_with_it(tmp_path: Path) -> None:
    names = [_fabricate(tmp_path, START + dt.timedelta(days=day)) for day in range(10)]
    verified = _fabricate(tmp_path, START - dt.timedelta(days=40), verified=True)
    args = [
        "prune",
        "--backup-dir",
        str(tmp_path),
        "--keep-daily",
        "3",
        "--keep-weekly",
        "0",
        "--keep-monthly",
        "0",
    ]

    dry = backup_cli(*args, "--json")
    assert dry.exit_code == 0
    plan = json_of(dry)
    assert plan["dry_run"] is True
    assert [kept["backup"] for kept in plan["keep"]] == [names[9], names[8], names[7], verified]
    assert plan["keep"][3]["reasons"] == ["newest verified backup"]
    assert plan["delete"] == list(reversed(names[:7]))
    assert len(list(tmp_path.iterdir())) == 11

    applied = backup_cli(*args, "--yes")
    assert applied.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[7:], verified])


@pytest.mark.parametrize(
    ("option", "value"),
    [("--keep-daily", "0"), ("--keep-weekly", "-1"), ("--keep-monthly", "100000")],
)
def test_prune_refuses_a_policy_out_of_range_naming_the_option(
    option: str, value: str, tmp_path: Path
) -> None:
    result = backup_cli("prune", "--backup-dir", str(tmp_path), option, value)
    assert result.exit_code == 2
    assert message(result).startswith(f"backup prune: {option}: expected")


def test_prune_never_deletes_a_directory_it_did_not_write(tmp_path: Path) -> None:
    import os
    import time

    kept = _fabricate(tmp_path, START)
    foreign = tmp_path / "base-20250101T023000"
    foreign.mkdir()
    (foreign / "base.tar.gz").write_bytes(b"older pg_basebackup")
    long_ago = time.time() - 400 * 24 * 3600
    os.utime(foreign, (long_ago, long_ago))
    result = backup_cli("prune", "--backup-dir", str(tmp_path), "--yes")
    assert result.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([kept, foreign.name])
