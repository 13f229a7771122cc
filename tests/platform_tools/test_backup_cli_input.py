"""Hostile input to `platform-tools backup`: a message naming the option, a non-zero exit,
never a traceback, nothing half-written."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from platform_tools.backup.manifest import ManifestError, parse_manifest
from tests.platform_tools.backup_cli import backup_cli, json_of, message


@pytest.fixture
def one_backup(demo_sqlite: Path, tmp_path: Path) -> tuple[Path, str]:
    backup_dir = tmp_path / "backups"
    created = backup_cli(
        "create", "--backup-dir", str(backup_dir), "--json", database_url=f"sqlite:///{demo_sqlite}"
    )
    assert created.exit_code == 0
    return backup_dir, json_of(created)["id"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "env", "code", "expected"),
    [
        (["create"], {"DATABASE_URL": "sqlite:///x.db"}, 2, "--backup-dir: required"),
        (["list"], {}, 2, "--backup-dir: required (or set PLATFORM_TOOLS_BACKUP_DIR)"),
        (
            ["create", "--backup-dir", "{tmp}/b"],
            {"DATABASE_URL": "mysql://h/db"},
            2,
            "DATABASE_URL: must be sqlite:/// or postgresql://",
        ),
        (
            ["create", "--backup-dir", "{tmp}/b", "--database-url", "nonsense"],
            {},
            2,
            "--database-url: is not a database URL",
        ),
        (
            ["create", "--backup-dir", "{tmp}/b"],
            {"DATABASE_URL": "sqlite:///{tmp}/absent.db"},
            2,
            "DATABASE_URL: {tmp}/absent.db: no such SQLite database file",
        ),
        (
            ["create", "--backup-dir", "{tmp}/b", "--jobs", "0"],
            {"DATABASE_URL": "sqlite:///{src}"},
            2,
            "--jobs: expected 1 to 64, got 0",
        ),
        (
            ["create", "--backup-dir", "{tmp}/b", "--upload-to", "http://bucket"],
            {"DATABASE_URL": "sqlite:///{src}"},
            2,
            "--upload-to: expected s3://BUCKET[/PREFIX]",
        ),
        (
            ["create", "--backup-dir", "{tmp}/b", "--metrics-file", "{tmp}/m.txt"],
            {"DATABASE_URL": "sqlite:///{src}"},
            2,
            "--metrics-file: {tmp}/m.txt: the node exporter",
        ),
        (
            ["create", "--backup-dir", "{tmp}/b"],
            {"DATABASE_URL": "sqlite:///{src}", "PLATFORM_TOOLS_TEXTFILE_DIR": "{tmp}/nowhere"},
            2,
            "PLATFORM_TOOLS_TEXTFILE_DIR: directory {tmp}/nowhere does not exist",
        ),
        (
            ["create", "--backup-dir", "{tmp}/b", "--pushgateway", "gateway:9091"],
            {"DATABASE_URL": "sqlite:///{src}"},
            2,
            "--pushgateway: expected http(s)://host:port",
        ),
        (
            ["create", "--backup-dir", "{tmp}/b"],
            {"DATABASE_URL": "postgresql://u:pw@127.0.0.1:{port}/campus"},
            3,
            "does not answer",
        ),
        (["list", "--backup-dir", "{tmp}/missing"], {}, 2, "--backup-dir: {tmp}/missing: no such"),
        (["list", "--backup-dir", "{src}"], {}, 2, "--backup-dir: {src}: not a directory"),
        (["upload", "--backup-dir", "{tmp}"], {}, 2, "--to: required"),
        (
            ["download", "x", "--from", "s3://UPPER/x", "--backup-dir", "{tmp}"],
            {},
            2,
            "--from: expected s3://BUCKET[/PREFIX]",
        ),
        (
            ["download", "../../etc", "--from", "s3://bucket/x", "--backup-dir", "{tmp}"],
            {},
            2,
            "BACKUP: not a backup name",
        ),
    ],
)
def test_bad_input_exits_non_zero_naming_the_option(
    args: list[str],
    env: dict[str, str],
    code: int,
    expected: str,
    demo_sqlite: Path,
    tmp_path: Path,
) -> None:
    values = {"tmp": str(tmp_path), "src": str(demo_sqlite), "port": str(_free_port())}
    result = backup_cli(
        *[arg.format(**values) for arg in args],
        **{key: value.format(**values) for key, value in env.items()},
    )
    assert result.exit_code == code, result.stdout + result.stderr
    assert expected.format(**values) in message(result)
    assert "Traceback" not in result.output
    # Nothing half-written: no backup directory content beyond what existed.
    backups = tmp_path / "b"
    assert not backups.exists() or list(backups.iterdir()) == []


def test_a_password_never_appears_in_messages(tmp_path: Path) -> None:
    url = f"postgresql://campus:s3cret-pw@127.0.0.1:{_free_port()}/campus"
    result = backup_cli("create", "--backup-dir", str(tmp_path), database_url=url)
    assert result.exit_code == 3
    assert "s3cret-pw" not in result.output


def test_unknown_backup_names_and_engine_mismatches_are_refused(
    one_backup: tuple[Path, str], tmp_path: Path
) -> None:
    backup_dir, name = one_backup
    unknown = backup_cli("verify", "nope", "--backup-dir", str(backup_dir))
    assert (
        unknown.exit_code == 2 and "BACKUP: " in message(unknown) and "'nope'" in message(unknown)
    )
    mismatch = backup_cli(
        "restore",
        name,
        "--backup-dir",
        str(backup_dir),
        "--target-url",
        "postgresql://u:p@127.0.0.1/other",
    )
    assert mismatch.exit_code == 2
    assert "--target-url: this is a sqlite backup; it cannot be restored into postgresql" in (
        message(mismatch)
    )
    missing_target = backup_cli("restore", name, "--backup-dir", str(backup_dir))
    assert missing_target.exit_code == 2 and "--target-url" in missing_target.output


def test_a_postgres_drill_without_a_postgres_server_is_refused(
    one_backup: tuple[Path, str],
) -> None:
    backup_dir, name = one_backup
    manifest_path = backup_dir / name / "manifest.json"
    document = json.loads(manifest_path.read_text())
    document["engine"] = "postgresql"
    manifest_path.write_text(json.dumps(document))
    result = backup_cli("verify", "--backup-dir", str(backup_dir), database_url="sqlite:///x.db")
    assert result.exit_code == 2
    assert message(result).startswith("backup verify: DATABASE_URL: a PostgreSQL backup's")


def test_a_garbled_manifest_makes_the_backup_incomplete(one_backup: tuple[Path, str]) -> None:
    backup_dir, name = one_backup
    (backup_dir / name / "manifest.json").write_text('{"format": 1, "engine": "sqlite"')
    listed = json_of(backup_cli("list", "--backup-dir", str(backup_dir), "--json"))
    assert listed[0]["complete"] is False and "unreadable manifest" in listed[0]["problem"]
    result = backup_cli("verify", name, "--backup-dir", str(backup_dir))
    assert result.exit_code == 2 and "is not complete" in message(result)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"files": [{"path": "../../etc/passwd", "size": 1, "sha256": "0" * 64}]},
            "files[0].path: not a safe relative path",
        ),
        (
            {"files": [{"path": "data/x", "size": -1, "sha256": "0" * 64}]},
            "files[0].size: expected a non-negative integer",
        ),
        ({"files": [{"path": "data/x", "size": 1, "sha256": "xyz"}]}, "files[0].sha256"),
        ({"engine": "oracle"}, "engine: expected one of sqlite, postgresql"),
        ({"started_at": "yesterday"}, "started_at: expected an ISO 8601 time"),
        ({"started_at": "2026-01-01T00:00:00"}, "started_at: expected a time with its UTC offset"),
        ({"tables": {"t": {"rows": True, "checksum": "c"}}}, "tables.t.rows"),
        ({"format": 2}, "format: expected 1"),
    ],
)
def test_manifest_fields_are_validated_on_reading(change: dict, expected: str) -> None:
    document = {
        "format": 1,
        "id": "campus-20260101T000000Z",
        "database": "campus",
        "engine": "sqlite",
        "server_version": "3.40.1",
        "schema_version": "0001",
        "method": "sqlite-online-backup",
        "started_at": "2026-01-01T00:00:00+00:00",
        "finished_at": "2026-01-01T00:01:00+00:00",
        "files": [{"path": "data/campus.sqlite3", "size": 1, "sha256": "0" * 64}],
        "tables": {},
        "tool_version": "0.1.0",
    }
    parse_manifest(document)
    with pytest.raises(ManifestError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        parse_manifest({**document, **change})
