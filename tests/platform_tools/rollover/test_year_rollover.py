"""`platform-tools year rollover` on SQLite and PostgreSQL, through the real CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select

from app import clock
from app.services.activities import delete_activity, update_activity
from app.settings import Settings
from app.store.schema import activity, participation, propagation_run
from tests.platform_tools.rollover.cli_runner import run
from tests.platform_tools.rollover.school import build_school


def _rows(engine: Engine, table, *where) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).where(*where).order_by(table.c.id))]


def _rollover(settings: Settings, *extra: str):
    return run(
        settings, "year", "rollover", "--to", "2026-2027", "--timezone", "Europe/Paris", *extra
    )


def test_dry_run_plans_every_activity_and_changes_nothing(settings: Settings, engine: Engine):
    build_school(engine)
    before = _rows(engine, activity)
    result = _rollover(settings, "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["applied"] is False
    assert plan["source_year"] == "2025-2026"
    assert len(plan["to_create"]) == 3
    assert plan["steps_kept"] == 1 and plan["groups_kept"] == 2
    assert _rows(engine, activity) == before


def test_rollover_keeps_weekday_and_wall_clock_time_and_seats_the_new_year(
    settings: Settings, engine: Engine
):
    school = build_school(engine)
    result = _rollover(settings, "--yes", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["applied"] is True
    created = _rows(engine, activity, activity.c.academic_year == "2026-2027")
    assert [r[0] for r in created] == document["created_ids"]
    by_kind = {r[3]: r for r in created}
    # Monday 8 Sep 2025 08:00 Paris -> Monday 7 Sep 2026 08:00 Paris (06:00 UTC, summer).
    assert by_kind["lecture"][5] == datetime(2026, 9, 7, 6, 0, tzinfo=UTC)
    assert by_kind["lecture"][5].weekday() == 0
    assert by_kind["lecture"][7] == 100
    # Monday 12 Jan 2026 14:00 Paris (winter, +01:00) -> Monday 11 Jan 2027, same time.
    assert by_kind["tutorial"][5] == datetime(2027, 1, 11, 13, 0, tzinfo=UTC)
    assert by_kind["tutorial"][4] == school.groups["L1/TD-A"]
    # The 2026-2027 learner (group TD-A, no optional course) joins the lecture and tutorial.
    seats = _rows(engine, participation, participation.c.enrolment_id == school.new_enrolment_id)
    assert {row[1] for row in seats} == {by_kind["lecture"][0], by_kind["tutorial"][0]}
    assert document["participations_created"] == 2


def test_second_rollover_creates_nothing_twice(settings: Settings, engine: Engine):
    build_school(engine)
    assert _rollover(settings, "--yes").exit_code == 0
    after_first = _rows(engine, activity)
    runs_after_first = _rows(engine, propagation_run)
    result = _rollover(settings, "--yes", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["to_create"] == [] and len(document["already_carried"]) == 3
    assert _rows(engine, activity) == after_first
    assert _rows(engine, propagation_run) == runs_after_first


def test_a_rerun_does_not_remake_activities_staff_moved_or_removed(
    settings: Settings, engine: Engine
):
    build_school(engine)
    first = json.loads(_rollover(settings, "--yes", "--json").stdout)
    moved_id, removed_id, kept_id = first["created_ids"]
    with engine.begin() as conn:
        moved = conn.execute(select(activity).where(activity.c.id == moved_id)).one()
        update_activity(
            conn,
            moved_id,
            {
                "starts_at": (moved.starts_at + timedelta(days=1)).isoformat(),
                "ends_at": (moved.ends_at + timedelta(days=1)).isoformat(),
            },
        )
        delete_activity(conn, removed_id)
    result = _rollover(settings, "--yes", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["to_create"] == [] and document["created_ids"] == []
    assert len(document["already_carried"]) == 3
    remaining = [r[0] for r in _rows(engine, activity, activity.c.academic_year == "2026-2027")]
    assert remaining == [moved_id, kept_id]


def test_rollover_never_touches_the_source_years_history(settings: Settings, engine: Engine):
    school = build_school(engine)
    source = _rows(engine, activity, activity.c.academic_year == "2025-2026")
    history = _rows(engine, participation, participation.c.activity_id.in_(school.activity_ids))
    assert history, "the set-up must seat the 2025-2026 learner"
    assert _rollover(settings, "--yes").exit_code == 0
    assert _rows(engine, activity, activity.c.academic_year == "2025-2026") == source
    assert (
        _rows(engine, participation, participation.c.activity_id.in_(school.activity_ids))
        == history
    )


def test_activities_of_a_curriculum_no_longer_taught_are_skipped(
    settings: Settings, engine: Engine
):
    build_school(engine)
    result = run(settings, "year", "rollover", "--from", "2025-2026", "--to", "2029-2030", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["to_create"] == []
    assert len(plan["skipped"]) == 3
    assert "LINFO-2024 (2024-2029) is not taught in 2029-2030" in plan["skipped"][0]["reason"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--to", "2026-2028"], "--to"),
        (["--to", "next"], "--to"),
        (["--to", "2026-2027", "--from", "2026-2027"], "--from"),
        (["--to", "2026-2027", "--from", "2025"], "--from"),
        (["--to", "2026-2027", "--timezone", "Mars/Olympus_Mons"], "--timezone"),
    ],
)
def test_unusable_options_exit_2_naming_the_option(
    settings: Settings, engine: Engine, args: list[str], named: str
):
    before = _rows(engine, activity)
    result = run(settings, "year", "rollover", *args, "--yes")
    assert result.exit_code == 2
    assert named in result.stderr
    assert _rows(engine, activity) == before


def test_unusable_database_url_exits_2_naming_it(tmp_path):
    result = run(
        Settings(database_url="mysql://nobody@127.0.0.1/campus"),
        "year",
        "rollover",
        "--to",
        "2026-2027",
    )
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.stderr


def test_applied_rollover_logs_json_and_writes_its_metrics(
    settings: Settings, engine: Engine, tmp_path
):
    build_school(engine)
    metrics = tmp_path / "rollover.prom"
    result = _rollover(settings, "--yes", "--metrics-file", str(metrics))
    assert result.exit_code == 0, result.output
    finished = [
        json.loads(line)
        for line in result.stderr.splitlines()
        if line.startswith("{") and '"run_finished"' in line
    ]
    assert finished and finished[-1]["command"] == "year rollover"
    assert finished[-1]["created"] == 3
    samples = {
        family.name: family.samples[0]
        for family in text_string_to_metric_families(metrics.read_text())
    }
    assert samples["campus_ops_last_changed_objects"].value == 3
    assert samples["campus_ops_last_run_success"].labels == {"command": "year rollover"}
    assert samples["campus_ops_last_run_success"].value == 1
    assert "campus_ops_last_success_timestamp_seconds" in samples


def test_slots_that_would_already_have_started_are_skipped_not_created_as_history(
    settings: Settings, engine: Engine
):
    build_school(engine)
    # A late rollover: on 10 September 2026 the first Monday lecture (7 September) is past.
    clock.set_now(datetime(2026, 9, 10, 12, 0, tzinfo=UTC))
    result = _rollover(settings, "--yes", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert len(document["created_ids"]) == 2
    assert [s["reason"].split(" ")[0] for s in document["skipped"]] == ["would"]
    kinds = {r[3] for r in _rows(engine, activity, activity.c.academic_year == "2026-2027")}
    assert kinds == {"tutorial", "practical"}


def test_an_explicit_older_source_year_moves_slots_by_whole_weeks_over_two_years(
    settings: Settings, engine: Engine
):
    build_school(engine)
    result = run(
        settings, "year", "rollover", "--from", "2025-2026", "--to", "2027-2028", "--yes", "--json"
    )
    assert result.exit_code == 0, result.output
    created = _rows(engine, activity, activity.c.academic_year == "2027-2028")
    lecture = next(r for r in created if r[3] == "lecture")
    # 104 weeks after Monday 8 September 2025 06:00 UTC.
    assert lecture[5] == datetime(2027, 9, 6, 6, 0, tzinfo=UTC)
