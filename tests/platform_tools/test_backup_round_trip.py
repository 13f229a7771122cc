"""Backup → verify → restore gives back the source, on SQLite and PostgreSQL; the restore
drill and the checksums catch damage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from platform_tools.backup.manifest import MANIFEST_NAME
from tests.platform_tools.backup_cli import backup_cli, json_of, message, samples
from tests.platform_tools.conftest import dump_database


def _create(source_url: str, backup_dir: Path, metrics: Path) -> dict:
    result = backup_cli(
        "create",
        "--backup-dir",
        str(backup_dir),
        "--metrics-file",
        str(metrics),
        "--json",
        database_url=source_url,
    )
    assert result.exit_code == 0, result.stderr
    return json_of(result)


@pytest.mark.slow
def test_a_backup_verifies_and_restores_to_a_database_identical_to_the_source(
    source_url: str, target_url: str, tmp_path: Path
) -> None:
    before = dump_database(source_url)
    backup_dir, metrics = tmp_path / "backups", tmp_path / "campus_backup.prom"
    manifest = _create(source_url, backup_dir, metrics)
    assert manifest["tables"]["participation"]["rows"] > 20_000
    assert manifest["schema_version"] and manifest["server_version"]
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"])
    assert manifest["started_at"] <= manifest["finished_at"]

    verified = backup_cli(
        "verify",
        "--backup-dir",
        str(backup_dir),
        "--metrics-file",
        str(metrics),
        "--json",
        database_url=source_url,
    )
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    report = json_of(verified)
    assert report["ok"] is True and report["problems"] == []
    assert report["tables_compared"] == len(manifest["tables"])
    assert report["restore_seconds"] is not None

    restored = backup_cli(
        "restore",
        manifest["id"],
        "--backup-dir",
        str(backup_dir),
        "--target-url",
        target_url,
        "--json",
    )
    assert restored.exit_code == 0, restored.stderr
    assert json_of(restored)["rows"] == sum(t["rows"] for t in manifest["tables"].values())
    # The source did not change, and the restored copy dumps to exactly the same text.
    assert dump_database(source_url) == before
    assert dump_database(target_url) == before

    produced = samples(metrics)
    assert produced["campus_backup_last_success_timestamp_seconds"] > 1.7e9
    assert produced["campus_backup_last_size_bytes"] == sum(
        entry["size"] for entry in manifest["files"]
    )
    assert produced["campus_backup_last_verify_success"] == 1
    assert produced["campus_backup_last_restore_duration_seconds"] >= 0
    listed = json_of(backup_cli("list", "--backup-dir", str(backup_dir), "--json"))
    assert [(b["id"], b["complete"], b["verified"]) for b in listed] == [
        (manifest["id"], True, True)
    ]


@pytest.mark.slow
def test_restore_refuses_a_target_with_data_unless_told_yes_then_replaces_it(
    source_url: str, target_url: str, tmp_path: Path
) -> None:
    backup_dir = tmp_path / "backups"
    manifest = _create(source_url, backup_dir, tmp_path / "m.prom")
    args = ["restore", manifest["id"], "--backup-dir", str(backup_dir), "--target-url", target_url]
    assert backup_cli(*args).exit_code == 0
    from sqlalchemy import create_engine, text

    from app.store.engine import normalise_url

    engine = create_engine(normalise_url(target_url))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM participation WHERE id % 2 = 0"))
    engine.dispose()
    changed = dump_database(target_url)

    refused = backup_cli(*args)
    assert refused.exit_code == 2
    assert "--target-url" in message(refused) and "--yes" in message(refused)
    assert dump_database(target_url) == changed

    replaced = backup_cli(*args, "--yes")
    assert replaced.exit_code == 0, replaced.stderr
    assert "existing data replaced" in replaced.stdout
    assert dump_database(target_url) == dump_database(source_url)


def _data_files(backup: Path) -> list[Path]:
    return sorted(p for p in (backup / "data").rglob("*") if p.is_file() and p.stat().st_size)


@pytest.mark.slow
def test_a_corrupted_byte_fails_verification_and_blocks_restore(
    source_url: str, target_url: str, tmp_path: Path
) -> None:
    backup_dir, metrics = tmp_path / "backups", tmp_path / "m.prom"
    manifest = _create(source_url, backup_dir, metrics)
    backup = backup_dir / manifest["id"]
    victim = max(_data_files(backup), key=lambda p: p.stat().st_size)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))

    verified = backup_cli(
        "verify",
        "--backup-dir",
        str(backup_dir),
        "--metrics-file",
        str(metrics),
        database_url=source_url,
    )
    assert verified.exit_code == 1
    relative = victim.relative_to(backup).as_posix()
    assert f"{relative}: sha256" in verified.stdout
    assert "FAILED verification" in message(verified)
    assert samples(metrics)["campus_backup_last_verify_success"] == 0
    listed = json_of(backup_cli("list", "--backup-dir", str(backup_dir), "--json"))
    assert listed[0]["verified"] is False and listed[0]["verification"]["ok"] is False

    restored = backup_cli(
        "restore", manifest["id"], "--backup-dir", str(backup_dir), "--target-url", target_url
    )
    assert restored.exit_code == 1
    assert "does not match its checksums, not restored" in message(restored)


@pytest.mark.slow
def test_the_drill_compares_restored_tables_with_the_manifest(
    source_url: str, tmp_path: Path
) -> None:
    # The files are intact, but the manifest claims other content for one table: only the
    # restore drill's per-table comparison can notice.
    backup_dir = tmp_path / "backups"
    manifest = _create(source_url, backup_dir, tmp_path / "m.prom")
    path = backup_dir / manifest["id"] / MANIFEST_NAME
    document = json.loads(path.read_text())
    document["tables"]["learner"]["checksum"] = "rowsum64:0000000000000000"
    document["tables"]["enrolment"]["rows"] += 1
    path.write_text(json.dumps(document))

    verified = backup_cli("verify", "--backup-dir", str(backup_dir), database_url=source_url)
    assert verified.exit_code == 1
    out = " ".join(verified.stdout.split())
    assert "table learner: content differs from the backup" in out
    assert "table enrolment:" in out and "rows restored" in out


def test_a_failed_run_keeps_the_last_success_and_leaves_no_partial_backup(
    source_url: str, tmp_path: Path
) -> None:
    backup_dir, metrics = tmp_path / "backups", tmp_path / "m.prom"
    manifest = _create(source_url, backup_dir, metrics)
    succeeded_at = samples(metrics)["campus_backup_last_success_timestamp_seconds"]
    # pg_dump / the source file vanish: the next run fails with an environment error.
    empty_bin = tmp_path / "no-pg-bin"
    empty_bin.mkdir()
    if source_url.startswith("sqlite"):
        Path(source_url.removeprefix("sqlite:///")).unlink()
    failed = backup_cli(
        "create",
        "--backup-dir",
        str(backup_dir),
        "--metrics-file",
        str(metrics),
        database_url=source_url,
        PLATFORM_TOOLS_PG_BIN=str(empty_bin),
    )
    assert failed.exit_code == 2
    assert "no such SQLite database file" in message(failed) or "no executable pg_dump" in (
        message(failed)
    )
    after = samples(metrics)
    assert after["campus_backup_last_success_timestamp_seconds"] == succeeded_at
    assert sorted(p.name for p in backup_dir.iterdir()) == [manifest["id"]]


@pytest.mark.slow
def test_the_drill_notices_a_schema_that_differs_from_the_backup(
    source_url: str, tmp_path: Path
) -> None:
    backup_dir = tmp_path / "backups"
    manifest = _create(source_url, backup_dir, tmp_path / "m.prom")
    assert manifest["schema_fingerprint"].startswith("sha256:")
    path = backup_dir / manifest["id"] / MANIFEST_NAME
    document = json.loads(path.read_text())
    document["schema_fingerprint"] = "sha256:" + "0" * 64
    path.write_text(json.dumps(document))
    verified = backup_cli("verify", "--backup-dir", str(backup_dir), database_url=source_url)
    assert verified.exit_code == 1
    assert "schema differs from the backup's" in verified.stdout
