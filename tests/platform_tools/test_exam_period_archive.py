"""`platform-tools exam-period`: archive, verify, show and open-next through the real CLI, on
SQLite and PostgreSQL, with the app's real WSGI app answering around it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import falcon.testing
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from app import clock
from app.http.app import create_app
from app.observability.logging import configure_logging
from app.settings import Settings
from app.store import migrate
from app.store.engine import build_engine
from platform_tools.cli import app as cli
from tests.app.conftest import NOW
from tests.app.exam_fixtures import ExamSchool

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def school(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ExamSchool]:
    """Period 1 with final, cancelled and rejected registrations, payments, and a signatory."""
    for name in ("DATABASE_URL", "PLATFORM_TOOLS_ARCHIVE_DIR", "PLATFORM_TOOLS_TEXTFILE_DIR"):
        monkeypatch.delenv(name, raising=False)
    clock.set_now(NOW)
    settings = Settings(database_url=database_url)
    engine = build_engine(settings)
    migrate.upgrade(engine)
    school = ExamSchool(falcon.testing.TestClient(create_app(settings, engine)), engine)
    school.database_url = database_url
    school.final = [school.register(centre=None)["id"] for _ in range(3)]
    for registration in school.final:
        school.make_final(registration)
    school.abroad = school.register(modality="ABROAD", centre="DAKAR")["id"]
    school.make_final(school.abroad)
    school.cancelled = school.register()["id"]
    school.act(school.cancelled, "cancel")
    rejected = school.register()["id"]
    school.act(rejected, "submit")
    school.act(rejected, "reject", body={"reason": "pièces manquantes"})
    answer = school.client.simulate_put(
        "/api/v1/settings/signatory",
        json={"name": "Claire Dubois", "title": "Directrice des études"},
        headers=school.admin,
    )
    assert answer.status_code == 200, answer.text
    yield school
    clock.set_now(None)
    engine.dispose()


def period_cli(*args: str, database_url: str | None = None, **env: str) -> Result:
    """`platform-tools exam-period ARGS`; never a traceback on stderr."""
    environment = {"DATABASE_URL": database_url, **env} if database_url else env
    try:
        result = runner.invoke(cli, ["exam-period", *args], env=environment, terminal_width=200)
    finally:
        # The run logged to the runner's captured stderr, closed now: the app logs on.
        configure_logging("INFO", stream=sys.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def message(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    return " ".join(" ".join(lines).split())


def archive(school: ExamSchool, archive_dir: Path, *extra: str) -> Result:
    return period_cli(
        "archive",
        "--period",
        str(school.period),
        "--archive-dir",
        str(archive_dir),
        *extra,
        database_url=school.database_url,
    )


def period_status(school: ExamSchool) -> str:
    answer = school.client.simulate_get(
        f"/api/v1/exam-periods/{school.period}", headers=school.staff
    )
    return answer.json["status"]


def close(school: ExamSchool) -> None:
    school.patch_period(school.period, {"status": "closed"})


ARCHIVE_NAME = "exam-period-2026-2027-1"


# --- refusals ---------------------------------------------------------------------------------


def test_archive_refuses_while_registrations_are_in_progress_and_force_needs_a_reason(
    school, tmp_path
):
    draft = school.register()["id"]
    archive_dir = tmp_path / "archives"
    open_period = archive(school, archive_dir, "--yes")
    assert open_period.exit_code == 1
    assert "open with registrations still in progress (1 draft)" in message(open_period)
    close(school)
    still_moving = archive(school, archive_dir, "--yes")
    assert still_moving.exit_code == 1
    assert "1 draft" in message(still_moving) and "--force --reason" in message(still_moving)

    no_reason = archive(school, archive_dir, "--yes", "--force")
    assert no_reason.exit_code == 2 and message(no_reason).startswith(
        "exam-period archive: --reason: --force needs a reason"
    )
    blank = archive(school, archive_dir, "--yes", "--force", "--reason", "  ")
    assert blank.exit_code == 2 and "--reason" in message(blank)
    reason_alone = archive(school, archive_dir, "--yes", "--reason", "x")
    assert reason_alone.exit_code == 2 and "--reason: only with --force" in message(reason_alone)
    assert period_status(school) == "closed"
    assert not (archive_dir / ARCHIVE_NAME).exists()

    forced = archive(
        school, archive_dir, "--yes", "--force", "--reason", "jury date moved", "--json"
    )
    assert forced.exit_code == 0, forced.stderr
    manifest = json.loads((archive_dir / ARCHIVE_NAME / "manifest.json").read_text())
    assert manifest["forced_reason"] == "jury date moved"
    assert manifest["in_progress"] == {"draft": 1}
    assert period_status(school) == "archived"
    # The draft is frozen as it was: the learner can no longer submit it.
    refused = school.act(draft, "submit", status=409)
    assert "archived" in refused["detail"]


def test_bad_input_is_named_and_changes_nothing(school, tmp_path):
    close(school)
    unknown = archive(school, tmp_path / "a", "--yes")
    assert unknown.exit_code == 0  # sanity: the school's period archives
    missing = period_cli(
        "archive",
        "--period",
        "999999",
        "--archive-dir",
        str(tmp_path / "b"),
        "--yes",
        database_url=school.database_url,
    )
    assert missing.exit_code == 2 and "--period: no exam period 999999" in message(missing)
    no_dir = period_cli("archive", "--period", "1", database_url=school.database_url)
    assert no_dir.exit_code == 2 and "--archive-dir: required" in message(no_dir)
    not_an_archive = period_cli("verify", str(tmp_path / "nowhere"))
    assert not_an_archive.exit_code == 2 and "ARCHIVE:" in message(not_an_archive)
    bad_table = period_cli("show", str(tmp_path / "a" / ARCHIVE_NAME), "--table", "api_token")
    assert bad_table.exit_code == 2 and message(bad_table).startswith(
        "exam-period show: --table: expected one of"
    )
    planned = period_cli(
        "archive",
        "--period",
        str(school.resit),
        "--archive-dir",
        str(tmp_path / "a"),
        "--yes",
        database_url=school.database_url,
    )
    assert planned.exit_code == 1 and "planned: it has nothing to archive" in message(planned)


# --- the archive, the frozen period, idempotence ----------------------------------------------


def _samples(path: Path) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(path.read_text())
        for sample in family.samples
    }


def test_archive_writes_a_verifiable_copy_then_the_app_refuses_every_write_with_409(
    school, tmp_path
):
    close(school)
    archive_dir = tmp_path / "archives"
    dry = archive(school, archive_dir, "--json")
    assert dry.exit_code == 0, dry.stderr
    assert json.loads(dry.stdout)["applied"] is False
    assert not archive_dir.exists() and period_status(school) == "closed"

    metrics = tmp_path / "campus_archive.prom"
    done = archive(
        school,
        archive_dir,
        "--yes",
        "--json",
        "--image",
        "registry.example/campus-app@sha256:" + "a" * 64,
        "--metrics-file",
        str(metrics),
    )
    assert done.exit_code == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["action"] == "created"
    assert report["tables"]["exam_registration"] == 6
    assert report["tables"]["exam_payment"] == 4
    assert report["tables"]["certificate_signatory"] == 1
    path = archive_dir / ARCHIVE_NAME
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["image"] == "registry.example/campus-app@sha256:" + "a" * 64
    assert manifest["app_version"] and manifest["schema_version"]
    assert manifest["period"]["status_before"] == "closed"
    assert not [p for p in archive_dir.iterdir() if p.name.startswith(".partial-")]
    found = _samples(metrics)
    assert found["campus_archive_last_run_success"] == 1
    assert found["campus_archive_last_size_bytes"] == manifest["size_bytes"] > 0

    verified = period_cli("verify", str(path), "--json")
    assert verified.exit_code == 0, verified.stderr
    assert json.loads(verified.stdout)["rows_checked"] == sum(manifest["tables"].values())

    assert period_status(school) == "archived"
    before = [school.get(r) for r in [*school.final, school.cancelled]]
    registration = school.final[0]
    for path_, body in (
        (f"/api/v1/exam-registrations/{school.cancelled}/submit", None),
        (f"/api/v1/exam-registrations/{registration}/cancel", None),
        (f"/api/v1/exam-registrations/{registration}/verify", None),
        (f"/api/v1/exam-registrations/{registration}/reject", {"reason": "trop tard"}),
        (
            f"/api/v1/exam-registrations/{registration}/payments",
            {"amount_cents": 1, "reference": "LATE-1"},
        ),
        (f"/api/v1/exams/{school.exams[0]}/attendance", {"present": [registration]}),
    ):
        answer = school.client.simulate_post(path_, json=body, headers=school.staff)
        assert answer.status_code == 409, (path_, answer.text)
        assert "archived" in answer.json["detail"]
    school.assert_period_frozen()
    assert [school.get(r) for r in [*school.final, school.cancelled]] == before

    again = archive(school, archive_dir, "--yes", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["action"] == "kept"
    assert json.loads((path / "manifest.json").read_text()) == manifest


def test_an_archived_period_whose_archive_is_lost_gets_it_written_again(school, tmp_path):
    close(school)
    archive_dir = tmp_path / "archives"
    assert archive(school, archive_dir, "--yes").exit_code == 0
    first = json.loads((archive_dir / ARCHIVE_NAME / "manifest.json").read_text())
    # As if the run was killed after the commit, before the rename that publishes it.
    (archive_dir / ARCHIVE_NAME).rename(archive_dir / f".partial-{ARCHIVE_NAME}.deadbeef")
    again = archive(school, archive_dir, "--yes", "--json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["action"] == "rebuilt"
    rebuilt = json.loads((archive_dir / ARCHIVE_NAME / "manifest.json").read_text())
    # The period is frozen: the same rows, byte for byte.
    assert {f["path"]: f["sha256"] for f in rebuilt["files"]} == {
        f["path"]: f["sha256"] for f in first["files"] if f["path"] != "data/exam_period.jsonl"
    } | {"data/exam_period.jsonl": _sha(archive_dir / ARCHIVE_NAME / "data/exam_period.jsonl")}
    assert [p.name for p in archive_dir.iterdir() if p.name.startswith(".partial-")] == []
    assert period_cli("verify", str(archive_dir / ARCHIVE_NAME)).exit_code == 0


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- interruptions ----------------------------------------------------------------------------

# SIGKILL (no handler, no clean-up) once the archive is written and its manifest on disk,
# just before the period would be marked archived.
KILL_BEFORE_MARK = textwrap.dedent(
    """
    import os, signal, sys
    import platform_tools.exam_period.archive as archive

    def killed(conn, period_id, allow_open=False):
        os.kill(os.getpid(), signal.SIGKILL)

    archive.archive_period = killed
    from platform_tools.cli import app
    app(["exam-period", "archive", "--period", sys.argv[1], "--archive-dir", sys.argv[2],
         "--yes"], prog_name="platform-tools")
    """
)


def test_an_archive_killed_mid_way_is_never_marked_done_nor_accepted(school, tmp_path):
    close(school)
    archive_dir = tmp_path / "archives"
    killed = subprocess.run(
        [sys.executable, "-c", KILL_BEFORE_MARK, str(school.period), str(archive_dir)],
        env={**os.environ, "DATABASE_URL": school.database_url},
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert period_status(school) == "closed"
    assert not (archive_dir / ARCHIVE_NAME).exists()
    leftovers = [p for p in archive_dir.iterdir() if p.name.startswith(".partial-")]
    assert len(leftovers) == 1 and (leftovers[0] / "manifest.json").is_file()
    refused = period_cli("verify", str(leftovers[0]))
    assert refused.exit_code == 1 and "interrupted archive run" in message(refused)
    # The app still takes writes to the period: nothing froze it.
    assert school.act(school.cancelled, "submit", status=409)["detail"].find("archived") == -1

    rerun = archive(school, archive_dir, "--yes", "--json")
    assert rerun.exit_code == 0, rerun.stderr
    assert json.loads(rerun.stdout)["action"] == "created"
    assert not leftovers[0].exists()
    assert period_status(school) == "archived"


def test_a_failure_while_writing_leaves_the_period_as_it_was_and_no_archive(
    school, tmp_path, monkeypatch
):
    import platform_tools.exam_period.archive as archive_module

    def disk_full(manifest, directory):
        raise OSError(28, "No space left on device", str(directory / "manifest.json"))

    monkeypatch.setattr(archive_module, "write_archive_manifest", disk_full)
    close(school)
    archive_dir = tmp_path / "archives"
    metrics = tmp_path / "campus_archive.prom"
    failed = archive(school, archive_dir, "--yes", "--metrics-file", str(metrics))
    assert failed.exit_code == 3 and "No space left on device" in message(failed)
    assert period_status(school) == "closed"
    assert [p.name for p in archive_dir.iterdir() if not p.name.endswith(".lock")] == []
    assert _samples(metrics)["campus_archive_last_run_success"] == 0


def test_a_write_racing_the_archive_waits_for_it_then_is_refused(school, tmp_path, monkeypatch):
    """The app's writes take the period FOR SHARE (SQLite: the write lock), so a cancel sent
    while the archive is being written waits, and meets the archived period: the archive
    holds the registration exactly as it is in the database."""
    import threading
    import time

    import platform_tools.exam_period.archive as archive_module

    draft = school.register()["id"]
    close(school)
    answers: list = []
    real_export = archive_module.export_period

    def export_while_a_cancel_arrives(conn, period_id, directory):
        counts = real_export(conn, period_id, directory)
        racer = threading.Thread(
            target=lambda: answers.append(
                school.client.simulate_post(
                    f"/api/v1/exam-registrations/{draft}/cancel", headers=school.staff
                )
            )
        )
        racer.start()
        time.sleep(1.0)
        assert racer.is_alive(), "the cancel did not wait for the archive"
        answers.append(racer)
        return counts

    monkeypatch.setattr(archive_module, "export_period", export_while_a_cancel_arrives)
    archive_dir = tmp_path / "archives"
    done = archive(school, archive_dir, "--yes", "--force", "--reason", "race")
    assert done.exit_code == 0, done.stderr
    racer = answers[0]
    racer.join(timeout=30)
    (answer,) = answers[1:]
    assert answer.status_code == 409 and "archived" in answer.json["detail"]
    rows = period_cli(
        "show", str(archive_dir / ARCHIVE_NAME), "--table", "exam_registration", "--json"
    )
    archived = {r["id"]: r["status"] for r in json.loads(rows.stdout)["rows"]}
    assert archived[draft] == school.get(draft)["status"] == "draft"


# --- verify, show -----------------------------------------------------------------------------


@pytest.fixture
def archived(school, tmp_path) -> Path:
    close(school)
    archive_dir = tmp_path / "archives"
    done = archive(school, archive_dir, "--yes")
    assert done.exit_code == 0, done.stderr
    return archive_dir / ARCHIVE_NAME


def test_verify_detects_a_corrupted_byte_and_an_unlisted_file(archived):
    payments = archived / "data" / "exam_payment.jsonl"
    body = bytearray(payments.read_bytes())
    body[len(body) // 2] ^= 0x01
    payments.write_bytes(bytes(body))
    corrupt = period_cli("verify", str(archived), "--json")
    assert corrupt.exit_code == 1
    assert any(
        "data/exam_payment.jsonl: sha256" in p for p in json.loads(corrupt.stdout)["problems"]
    )
    shown = period_cli("show", str(archived))
    assert shown.exit_code == 1 and "does not verify" in message(shown)

    body[len(body) // 2] ^= 0x01
    payments.write_bytes(bytes(body))
    assert period_cli("verify", str(archived)).exit_code == 0
    (archived / "data" / "extra.jsonl").write_text("{}\n")
    extra = period_cli("verify", str(archived))
    assert extra.exit_code == 1 and "data/extra.jsonl: not listed" in message(extra)


def test_show_reads_the_archive_with_no_database(school, archived):
    expected_paid = sum(school.get(r)["fee_cents"] for r in [*school.final, school.abroad])
    school.engine.dispose()
    if school.database_url.startswith("sqlite"):
        Path(make_url(school.database_url).database).unlink()
    nowhere = "postgresql://nobody:nothing@127.0.0.1:1/none"
    shown = period_cli("show", str(archived), "--json", database_url=nowhere)
    assert shown.exit_code == 0, shown.stderr
    summary = json.loads(shown.stdout)
    assert summary["registrations_by_status"] == {"cancelled": 1, "final": 4, "rejected": 1}
    assert summary["payments_total_cents"] == expected_paid
    assert summary["exams"] == len(school.exams) + 2
    assert summary["configuration"]["signatory"] == {
        "name": "Claire Dubois",
        "title": "Directrice des études",
    }
    assert {m["code"] for m in summary["configuration"]["modalities"]} == {
        "CAMPUS",
        "CONNECTED",
        "ABROAD",
        "REMOTE",
    }
    rows = period_cli("show", str(archived), "--table", "exam_payment", "--json")
    assert rows.exit_code == 0
    assert sorted(r["reference"] for r in json.loads(rows.stdout)["rows"]) == sorted(
        f"PAY-{r}" for r in [*school.final, school.abroad]
    )
    human = period_cli("show", str(archived))
    assert human.exit_code == 0 and "Claire Dubois" in human.stdout


# --- open-next --------------------------------------------------------------------------------


def _exams(school: ExamSchool, period: int) -> list[dict]:
    answer = school.client.simulate_get(
        f"/api/v1/exam-periods/{period}/exams?limit=200", headers=school.staff
    )
    assert answer.status_code == 200, answer.text
    return answer.json["items"]


def test_open_next_sets_up_period_2_like_the_archived_period_1(school, archived):
    window = ("--opens-at", "2027-03-01T00:00:00+01:00", "--closes-at", "2027-04-30T23:59:00+02:00")
    not_archived = period_cli(
        "open-next", "--from", str(school.resit), *window, database_url=school.database_url
    )
    assert not_archived.exit_code == 1 and "archive it first" in message(not_archived)
    bad = period_cli(
        "open-next",
        "--from",
        str(school.period),
        "--opens-at",
        "tomorrow",
        "--closes-at",
        "2027-04-30T23:59:00+02:00",
        database_url=school.database_url,
    )
    assert bad.exit_code == 2 and "--opens-at" in message(bad)

    dry = period_cli(
        "open-next",
        "--from",
        str(school.period),
        *window,
        "--json",
        "--archive-dir",
        str(archived.parent),
        database_url=school.database_url,
    )
    assert dry.exit_code == 0, dry.stderr
    assert json.loads(dry.stdout)["applied"] is False
    periods = school.client.simulate_get("/api/v1/exam-periods", headers=school.staff).json
    assert [p["number"] for p in periods["items"]] == [1, 3]

    done = period_cli(
        "open-next",
        "--from",
        str(school.period),
        *window,
        "--json",
        "--yes",
        "--archive-dir",
        str(archived.parent),
        database_url=school.database_url,
    )
    assert done.exit_code == 0, done.stderr
    result = json.loads(done.stdout)
    new = result["period"]
    assert (new["academic_year"], new["number"], new["status"]) == ("2026-2027", 2, "planned")

    source_config = json.loads(period_cli("show", str(archived), "--json").stdout)["configuration"]
    assert result["configuration"] == source_config
    assert result["configuration_matches_archive"] is True

    def shape(exam: dict) -> tuple:
        return (
            exam["element_code"],
            exam["supervised_hours"],
            exam["room"],
            exam["capacity"],
            exam["modality_ids"],
        )

    old, copied = _exams(school, school.period), _exams(school, new["id"])
    assert sorted(map(shape, copied)) == sorted(map(shape, old))
    assert len(copied) == len(old) > 0
    again = period_cli(
        "open-next",
        "--from",
        str(school.period),
        *window,
        "--yes",
        database_url=school.database_url,
    )
    assert again.exit_code == 1 and "already has exam period 2" in message(again)
    # Staff can edit the new period: it is planned, not archived.
    school.patch_period(new["id"], {"status": "open"})
