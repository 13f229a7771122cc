"""A backup killed mid-way (after its data, while writing its manifest) is never taken for a
complete one: not listed as complete, not verified, not restored, and pruned once stale."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.platform_tools.backup_cli import backup_cli, json_of, message

# The power cut at the worst moment: the data is on disk and half the manifest is written
# when the process is killed with SIGKILL (no handler, no clean-up can run).
KILL_WHILE_WRITING_MANIFEST = textwrap.dedent(
    """
    import json, os, signal, sys
    import platform_tools.backup.create as create

    def torn_manifest(manifest, directory):
        body = json.dumps(manifest.to_json()).encode()
        (directory / "manifest.json").write_bytes(body[: len(body) // 2])
        os.kill(os.getpid(), signal.SIGKILL)

    create.write_manifest = torn_manifest
    from platform_tools.cli import app
    app(["backup", "create", "--backup-dir", sys.argv[1]], prog_name="platform-tools")
    """
)


def _killed_backup(source_url: str, backup_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", KILL_WHILE_WRITING_MANIFEST, str(backup_dir)],
        env={**os.environ, "DATABASE_URL": source_url},
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )


@pytest.mark.slow
def test_a_backup_killed_while_writing_its_manifest_is_never_complete(
    source_url: str, target_url: str, tmp_path: Path
) -> None:
    backup_dir = tmp_path / "backups"
    first = backup_cli("create", "--backup-dir", str(backup_dir), "--json", database_url=source_url)
    assert first.exit_code == 0
    complete_id = json_of(first)["id"]

    killed = _killed_backup(source_url, backup_dir)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    leftovers = [p for p in backup_dir.iterdir() if p.name.startswith(".partial-")]
    assert len(leftovers) == 1 and (leftovers[0] / "manifest.json").is_file()
    killed_id = leftovers[0].name.removeprefix(".partial-")

    listed = json_of(backup_cli("list", "--backup-dir", str(backup_dir), "--json"))
    by_id = {entry["id"]: entry for entry in listed}
    assert by_id[complete_id]["complete"] is True
    assert by_id[killed_id]["complete"] is False
    assert "incomplete" in by_id[killed_id]["problem"]

    # The newest *complete* backup is the one verified by default.
    verified = backup_cli(
        "verify", "--backup-dir", str(backup_dir), "--json", database_url=source_url
    )
    assert verified.exit_code == 0 and json_of(verified)["backup"] == complete_id
    for command in (
        ["verify", killed_id],
        ["restore", killed_id, "--target-url", target_url],
    ):
        refused = backup_cli(*command, "--backup-dir", str(backup_dir), database_url=source_url)
        assert refused.exit_code == 2
        assert f"backup {killed_id} is not complete" in message(refused)

    # Prune leaves a fresh interrupted backup alone (it could still be running) ...
    assert backup_cli("prune", "--backup-dir", str(backup_dir), "--yes").exit_code == 0
    assert leftovers[0].exists()
    # ... and deletes it once it is older than --incomplete-after-hours.
    two_days_ago = time.time() - 48 * 3600
    os.utime(leftovers[0], (two_days_ago, two_days_ago))
    pruned = backup_cli("prune", "--backup-dir", str(backup_dir), "--yes")
    assert pruned.exit_code == 0 and f"{leftovers[0].name} (interrupted)" in pruned.stdout
    assert sorted(p.name for p in backup_dir.iterdir()) == [complete_id]


@pytest.mark.slow
def test_a_backup_dir_with_only_an_interrupted_backup_has_nothing_to_verify(
    source_url: str, tmp_path: Path
) -> None:
    backup_dir = tmp_path / "backups"
    assert _killed_backup(source_url, backup_dir).returncode == -signal.SIGKILL
    result = backup_cli("verify", "--backup-dir", str(backup_dir), database_url=source_url)
    assert result.exit_code == 2
    assert "no complete backup" in message(result)
