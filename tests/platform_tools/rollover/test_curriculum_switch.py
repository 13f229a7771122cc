"""`platform-tools curriculum switch` on SQLite and PostgreSQL, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from app.settings import Settings
from app.store.schema import element, enrolment, participation, programme_version, step
from tests.platform_tools.rollover.cli_runner import run
from tests.platform_tools.rollover.school import build_school, curriculum

# The 2029-2034 curriculum renames every code ("N-" prefix) and relabels one element.
NEW = curriculum("LINFO-2029", "2029-2034", prefix="N-", label_suffix=" (2029)")
RENAMES = "old_code,new_code\nL1,N-L1\nS1,N-S1\nALGO,N-ALGO\nPROG,N-PROG\n"


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _snapshot(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            table.name: [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]
            for table in (programme_version, step, element, enrolment, participation)
        }


def _switch(settings: Settings, tmp_path: Path, *extra: str, document=NEW):
    path = _write(tmp_path, "new.json", json.dumps(document))
    return run(
        settings, "curriculum", "switch", "--file", str(path), "--period", "2029-2034", *extra
    )


def test_dry_run_shows_the_diff_and_changes_nothing(
    settings: Settings, engine: Engine, tmp_path: Path
):
    build_school(engine)
    before = _snapshot(engine)
    renames = _write(tmp_path, "map.csv", RENAMES)
    result = _switch(settings, tmp_path, "--map", str(renames), "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["applied"] is False
    assert plan["previous_version"] == {"code": "LINFO-2024", "curriculum_period": "2024-2029"}
    diff = plan["diff"]
    assert diff["renamed"] == [
        {"old": "ALGO", "new": "N-ALGO"},
        {"old": "L1", "new": "N-L1"},
        {"old": "PROG", "new": "N-PROG"},
        {"old": "S1", "new": "N-S1"},
    ]
    assert diff["added"] == ["N-PY"] and diff["removed"] == ["PY"]
    assert _snapshot(engine) == before


def test_human_dry_run_names_added_removed_and_renamed_codes(
    settings: Settings, engine: Engine, tmp_path: Path
):
    build_school(engine)
    result = _switch(settings, tmp_path)
    assert result.exit_code == 0, result.output
    assert "5 added, 5 removed, 0 renamed" in result.stdout
    assert "Dry run" in result.stdout


def test_applied_switch_publishes_a_new_version_and_keeps_enrolment_history(
    settings: Settings, engine: Engine, tmp_path: Path
):
    build_school(engine)
    before = _snapshot(engine)
    result = _switch(settings, tmp_path, "--yes", "--json")
    assert result.exit_code == 0, result.output
    after = _snapshot(engine)
    # Every row that existed is still there, unchanged; only new rows were added.
    for table, rows in before.items():
        assert after[table][: len(rows)] == rows, table
    assert len(after["programme_version"]) == 2
    assert after["programme_version"][1][2:] == (
        "LINFO-2029",
        "Licence Informatique 2029-2034",
        "2029-2034",
    )
    assert after["participation"] == before["participation"]


def test_second_switch_publishes_nothing_twice(settings: Settings, engine: Engine, tmp_path: Path):
    build_school(engine)
    assert _switch(settings, tmp_path, "--yes").exit_code == 0
    first = _snapshot(engine)
    result = _switch(settings, tmp_path, "--yes", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["already_published"] is True
    assert _snapshot(engine) == first


def test_reusing_the_previous_version_code_for_a_new_period_is_refused(
    settings: Settings, engine: Engine, tmp_path: Path
):
    build_school(engine)
    before = _snapshot(engine)
    reused = curriculum("LINFO-2024", "2029-2034", prefix="N-")
    result = _switch(settings, tmp_path, "--yes", document=reused)
    assert result.exit_code == 2
    assert "--file" in result.stderr and "LINFO-2024" in result.stderr
    assert _snapshot(engine) == before


def test_a_curriculum_the_import_refuses_is_reported_and_nothing_is_written(
    settings: Settings, engine: Engine, tmp_path: Path
):
    build_school(engine)
    before = _snapshot(engine)
    broken = curriculum("LINFO-2029", "2029-2034", prefix="N-")
    # Schema-valid, but the course names a choice group its step does not have.
    broken["steps"][0]["elements"][0]["children"][1]["children"][0]["choice_group"] = "NOPE"
    result = _switch(settings, tmp_path, "--yes", document=broken)
    assert result.exit_code == 2
    assert "--file" in result.stderr and "choice_group" in result.stderr
    assert _snapshot(engine) == before


@pytest.mark.parametrize(
    ("content", "period", "named"),
    [
        ("{not json", "2029-2034", "--file"),
        (json.dumps({"programme": {"code": "X"}}), "2029-2034", "programme.label"),
        (json.dumps(NEW), "2029-2024", "--period"),
        (json.dumps(NEW), "2030-2035", "--period"),
    ],
)
def test_unusable_file_or_period_exits_2_naming_it(
    settings: Settings, engine: Engine, tmp_path: Path, content: str, period: str, named: str
):
    build_school(engine)
    before = _snapshot(engine)
    path = _write(tmp_path, "new.json", content)
    result = run(settings, "curriculum", "switch", "--file", str(path), "--period", period, "--yes")
    assert result.exit_code == 2
    assert named in result.stderr
    assert _snapshot(engine) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("old,new\nL1,N-L1\n", "header"),
        ("old_code,new_code\nL1\n", "line 2"),
        ("old_code,new_code\nL1,N-L1\nL1,N-S1\n", "renamed twice"),
        ("old_code,new_code\nGONE,N-L1\n", "GONE is not a code of the previous curriculum"),
        ("old_code,new_code\nL1,N-MISSING\n", "N-MISSING"),
        ("old_code,new_code\nL1,N-S1\n", "L1 (step) and N-S1 (element) are not the same kind"),
    ],
)
def test_unusable_rename_map_exits_2_naming_map(
    settings: Settings, engine: Engine, tmp_path: Path, content: str, message: str
):
    build_school(engine)
    before = _snapshot(engine)
    renames = _write(tmp_path, "map.csv", content)
    result = _switch(settings, tmp_path, "--map", str(renames), "--yes")
    assert result.exit_code == 2
    assert "--map" in result.stderr and message in result.stderr
    assert _snapshot(engine) == before


def test_missing_file_exits_2_naming_file(settings: Settings, tmp_path: Path):
    result = run(
        settings,
        "curriculum",
        "switch",
        "--file",
        str(tmp_path / "absent.json"),
        "--period",
        "2029-2034",
    )
    assert result.exit_code == 2
    assert "--file" in result.stderr


def test_first_curriculum_of_a_programme_lists_every_code_as_added(
    settings: Settings, engine: Engine, tmp_path: Path
):
    result = _switch(settings, tmp_path, "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["previous_version"] is None
    assert len(plan["diff"]["added"]) == 5
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(programme_version)).scalar() == 0
