"""The run framework every command shares: exit codes, JSON run logs, metrics, settings."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import typer
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from platform_tools.metrics_catalogue import create_metric
from platform_tools.run.database import database_name, database_settings, open_engine
from platform_tools.run.errors import EnvironmentFailure, ProblemFound, UsageError
from platform_tools.run.exit_codes import ExitCode
from platform_tools.run.metrics_sink import TEXTFILE_DIR_ENV, MetricsSink, resolve_sink
from platform_tools.run.runner import RunOutcome, command_run
from platform_tools.run.textfile import write_textfile

runner = CliRunner()


def _samples(path: Path) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(path.read_text())
        for sample in family.samples
    }


def _registry(**values: float) -> CollectorRegistry:
    registry = CollectorRegistry()
    for name, value in values.items():
        create_metric(name, registry).labels(database="campus").set(value)
    return registry


def test_a_textfile_run_replaces_its_families_and_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "campus_backup.prom"
    write_textfile(
        _registry(
            campus_backup_last_success_timestamp_seconds=1000,
            campus_backup_last_duration_seconds=5,
        ),
        path,
    )
    # A failed run reports its duration only: the last success must survive it.
    write_textfile(_registry(campus_backup_last_duration_seconds=9), path)
    samples = _samples(path)
    label = (("database", "campus"),)
    assert samples[("campus_backup_last_success_timestamp_seconds", label)] == 1000
    assert samples[("campus_backup_last_duration_seconds", label)] == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campus_backup.prom"]
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_corrupt_textfile_is_replaced_rather_than_merged(tmp_path: Path) -> None:
    path = tmp_path / "campus_backup.prom"
    path.write_text("campus_backup_last_duration_seconds{database=\n")
    write_textfile(_registry(campus_backup_last_duration_seconds=3), path)
    assert _samples(path) == {("campus_backup_last_duration_seconds", (("database", "campus"),)): 3}


def test_a_textfile_not_ending_in_prom_is_refused_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^--metrics-file: .*only reads files ending in \.prom"):
        write_textfile(_registry(), tmp_path / "backup.txt")


def test_the_textfile_directory_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TEXTFILE_DIR_ENV, str(tmp_path))
    sink = resolve_sink(None, None, "campus_backup_campus.prom", job="campus_backup")
    assert sink.textfile == tmp_path / "campus_backup_campus.prom"
    monkeypatch.setenv(TEXTFILE_DIR_ENV, str(tmp_path / "absent"))
    with pytest.raises(UsageError, match=rf"^{TEXTFILE_DIR_ENV}: directory .* does not exist"):
        resolve_sink(None, None, "campus_backup_campus.prom", job="campus_backup")


def test_a_pushgateway_that_is_not_a_url_is_refused_naming_the_option() -> None:
    with pytest.raises(UsageError, match=r"^--pushgateway: expected http"):
        resolve_sink(None, "localhost 9091", "x.prom", job="campus_backup")


class _Recorder(BaseHTTPRequestHandler):
    requests: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append(("POST", self.path, body))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_metrics_are_pushed_to_a_pushgateway_as_an_addition() -> None:
    # A recording HTTP server on loopback stands in for the Pushgateway (not installed here);
    # the real prometheus_client push code does the request.
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sink = MetricsSink(
            pushgateway=f"http://127.0.0.1:{server.server_port}",
            job="campus_backup",
            grouping={"database": "campus"},
        )
        sink.publish(_registry(campus_backup_last_duration_seconds=7))
    finally:
        server.shutdown()
        server.server_close()
    [(method, path, body)] = _Recorder.requests
    # POST adds to the group (PUT would erase the last success timestamp of earlier runs).
    assert method == "POST"
    assert path == "/metrics/job/campus_backup/database/campus"
    assert b'campus_backup_last_duration_seconds{database="campus"} 7.0' in body


def test_an_unreachable_pushgateway_is_an_environment_failure() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    port = server.server_port
    server.server_close()
    sink = MetricsSink(pushgateway=f"http://127.0.0.1:{port}", job="campus_backup")
    with pytest.raises(EnvironmentFailure, match="metrics not pushed"):
        sink.publish(_registry(campus_backup_last_duration_seconds=7))


def _tool(metrics_file: Path | None, failure: Exception | None) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def work() -> None:
        with command_run("demo work", database="campus") as run:
            run.sink = MetricsSink(textfile=metrics_file)

            def metrics(outcome: RunOutcome) -> CollectorRegistry:
                registry = CollectorRegistry()
                create_metric("campus_backup_last_duration_seconds", registry).labels(
                    database="campus"
                ).set(outcome.duration_seconds)
                if outcome.ok:
                    create_metric("campus_backup_last_success_timestamp_seconds", registry).labels(
                        database="campus"
                    ).set(outcome.finished_at)
                return registry

            run.metrics = metrics
            run.record(rows=3)
            if failure is not None:
                raise failure
            print("done")

    return app


def _log_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_a_successful_run_logs_json_and_publishes_its_metrics(tmp_path: Path) -> None:
    metrics = tmp_path / "demo.prom"
    result = runner.invoke(_tool(metrics, None), [])
    assert result.exit_code == ExitCode.OK
    assert result.stdout == "done\n"
    events = _log_lines(result.stderr)
    assert [event["event"] for event in events] == [
        "run_started",
        "metrics_published",
        "run_finished",
    ]
    assert events[-1]["command"] == "demo work" and events[-1]["rows"] == 3
    assert events[-1]["exit_code"] == 0 and events[-1]["database"] == "campus"
    assert ("campus_backup_last_success_timestamp_seconds", (("database", "campus"),)) in (
        _samples(metrics)
    )


@pytest.mark.parametrize(
    ("failure", "code", "message"),
    [
        (ProblemFound("checksum mismatch in data.db"), 1, "checksum mismatch in data.db"),
        (UsageError("must be positive", "--keep-daily"), 2, "--keep-daily: must be positive"),
        (EnvironmentFailure("pg_dump not found"), 3, "pg_dump not found"),
        (RuntimeError("boom"), 4, "internal error (RuntimeError: boom)"),
    ],
)
def test_each_failure_kind_exits_with_its_documented_code(
    failure: Exception, code: int, message: str, tmp_path: Path
) -> None:
    metrics = tmp_path / "demo.prom"
    result = runner.invoke(_tool(metrics, failure), [])
    assert result.exit_code == code
    assert message in result.stderr
    assert result.stdout == ""
    finished = _log_lines(result.stderr)[-1]
    assert finished["event"] == "run_finished" and finished["exit_code"] == code
    # A failed run reports its duration but never a success.
    names = {name for name, _labels in _samples(metrics)}
    assert names == {"campus_backup_last_duration_seconds"}


def test_a_database_url_that_is_not_one_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://db/campus")
    with pytest.raises(UsageError, match=r"^DATABASE_URL: must be sqlite"):
        database_settings()
    with pytest.raises(UsageError, match=r"^--database-url: must be sqlite"):
        database_settings("oracle://x/y")


def test_a_missing_sqlite_file_is_refused_rather_than_created(tmp_path: Path) -> None:
    settings = database_settings(f"sqlite:///{tmp_path}/absent.db")
    assert database_name(settings) == "absent"
    with pytest.raises(UsageError, match="no such SQLite database file"):
        open_engine(settings, "--database-url")
    assert not (tmp_path / "absent.db").exists()


def test_a_database_that_does_not_answer_is_an_environment_failure() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    port = server.server_port
    server.server_close()
    settings = database_settings(f"postgresql://u:secret@127.0.0.1:{port}/campus")
    assert database_name(settings) == "campus"
    with pytest.raises(EnvironmentFailure, match="does not answer") as caught:
        open_engine(settings)
    assert "secret" not in caught.value.message


def test_an_os_error_is_an_environment_failure_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone" / "file"
    result = runner.invoke(_tool(None, FileNotFoundError(2, "No such file", str(missing))), [])
    assert result.exit_code == ExitCode.ENVIRONMENT
    assert f"{missing}: No such file" in result.stderr


def test_sigterm_unwinds_the_run_like_an_interrupt() -> None:
    import os
    import signal

    app = typer.Typer()
    cleaned: list[str] = []

    @app.command()
    def work() -> None:
        with command_run("demo work"):
            try:
                os.kill(os.getpid(), signal.SIGTERM)
            finally:
                cleaned.append("partial removed")

    before = signal.getsignal(signal.SIGTERM)
    result = runner.invoke(app, [])
    assert result.exit_code == ExitCode.ENVIRONMENT
    assert cleaned == ["partial removed"]
    assert "interrupted" in result.stderr
    # The previous handler is back once the run is over.
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_bad_log_level_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    result = runner.invoke(_tool(None, None), [], env={"LOG_LEVEL": "chatty"})
    assert result.exit_code == ExitCode.OK
    first = _log_lines(result.stderr)[0]
    assert first["event"] == "log_level_ignored" and first["LOG_LEVEL"] == "CHATTY"
