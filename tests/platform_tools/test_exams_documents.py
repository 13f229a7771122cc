"""`platform-tools exams documents`: a period's notices and attendance sheets in batch, on
SQLite and PostgreSQL; every notice's QR codes decode and verify through the app's API."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import falcon.testing
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from app import clock
from app.http.app import create_app
from app.observability.logging import configure_logging
from app.settings import Settings
from app.store import migrate
from app.store.engine import build_engine
from platform_tools.cli import app as cli
from tests.app.conftest import NOW
from tests.app.exam_fixtures import ExamSchool
from tests.app.pdf_inspect import inspect_pdf

runner = CliRunner()


@pytest.fixture
def school(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ExamSchool]:
    monkeypatch.delenv("EXAM_TOKEN_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    clock.set_now(NOW)
    settings = Settings(database_url=database_url)
    engine = build_engine(settings)
    migrate.upgrade(engine)
    school = ExamSchool(falcon.testing.TestClient(create_app(settings, engine)), engine)
    school.database_url = database_url
    yield school
    clock.set_now(None)
    engine.dispose()


def _run(*args: str):
    try:
        return runner.invoke(cli, ["exams", "documents", *args])
    finally:
        # The run logged to the runner's captured stderr, closed now: the app logs on.
        configure_logging("INFO", stream=sys.stderr)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_notices_of_every_final_registration_are_written_and_their_codes_verify(
    school, tmp_path, jobs
):
    final = []
    for count in (1, 2, 3):
        registration = school.register(exams=school.exams[:count])["id"]
        school.make_final(registration)
        final.append(registration)
    school.register()  # a draft: no notice
    out = tmp_path / "notices"
    result = _run(
        "--period", str(school.period), "--kind", "notices", "--out", str(out),
        "--jobs", jobs, "--database-url", school.database_url, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["documents"] == 3
    assert sorted(p.name for p in out.iterdir()) == sorted(report["files"])
    verified = {}
    for path in sorted(out.iterdir()):
        for qr in inspect_pdf(path.read_bytes()).qr_codes:
            answer = school.client.simulate_get(
                "/api/v1/exam-notices/verify", params={"token": qr.text}
            )
            assert answer.status_code == 200, answer.text
            verified.setdefault(answer.json["registration_id"], set()).add(answer.json["exam_id"])
    assert verified == {reg: set(school.exams[: i + 1]) for i, reg in enumerate(final)}


def test_attendance_sheets_cover_each_exam_and_centre_of_the_period(school, tmp_path):
    metrics = tmp_path / "campus_exam_documents_sheets.prom"
    at_lyon = school.register(exams=school.exams[:2], modality="CONNECTED", centre="LYON")["id"]
    on_campus = school.register(exams=school.exams[1:3])["id"]
    for registration in (at_lyon, on_campus):
        school.make_final(registration)
    out = tmp_path / "sheets"
    result = _run(
        "--period", str(school.period), "--kind", "sheets", "--out", str(out),
        "--database-url", school.database_url, "--metrics-file", str(metrics),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "4 sheets" in result.stdout
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(metrics.read_text())
        for s in family.samples
        if s.labels == {"kind": "sheets"}
    }
    assert samples["campus_exam_documents_last_count"] == 4
    assert samples["campus_exam_documents_last_success_timestamp_seconds"] > 0
    lyon = school.centre["LYON"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            f"emargement-examen-{school.exams[0]:06d}-centre-{lyon:06d}.pdf",
            f"emargement-examen-{school.exams[1]:06d}-centre-{lyon:06d}.pdf",
            f"emargement-examen-{school.exams[1]:06d}-sans-centre.pdf",
            f"emargement-examen-{school.exams[2]:06d}-sans-centre.pdf",
        ]
    )
    text = inspect_pdf(
        (out / f"emargement-examen-{school.exams[1]:06d}-sans-centre.pdf").read_bytes()
    )
    assert "Inscrits : 1" in text.all_text()


def test_unusable_options_exit_2_naming_the_option(school, tmp_path):
    url = school.database_url
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = {
        "--period": ["--period", "999999", "--kind", "notices", "--out", str(tmp_path)],
        "--kind": ["--period", str(school.period), "--kind", "letters", "--out", str(tmp_path)],
        "--out": ["--period", str(school.period), "--kind", "notices", "--out", str(a_file)],
    }
    for option, args in cases.items():
        result = _run(*args, "--database-url", url)
        assert result.exit_code == 2, (option, result.output)
        assert option in result.output, (option, result.output)
    missing = _run(
        "--period", "1", "--kind", "notices", "--out", str(tmp_path),
        "--database-url", f"sqlite:///{tmp_path / 'absent.db'}",
    )  # fmt: skip
    assert missing.exit_code == 2
    assert not (tmp_path / "absent.db").exists()
