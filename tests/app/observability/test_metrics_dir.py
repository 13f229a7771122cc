"""The metrics directory belongs to one server instance: made private, or checked, never swept."""

from __future__ import annotations

import os
import stat
import tempfile

import pytest

from app.observability import metrics_dir
from app.settings import SettingsError


def test_without_a_given_directory_each_server_gets_a_fresh_private_one(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    first, owned = metrics_dir.prepare({})
    second, _ = metrics_dir.prepare({})
    assert owned and first != second
    assert first.parent == tmp_path and first.name.startswith(metrics_dir.PREFIX)
    assert stat.S_IMODE(first.stat().st_mode) == 0o700


def test_a_fresh_private_given_directory_is_used_and_not_owned(tmp_path):
    given = tmp_path / "run"
    given.mkdir(mode=0o700)
    assert metrics_dir.prepare({metrics_dir.ENV: str(given)}) == (given, False)


@pytest.mark.parametrize("problem", ["missing", "file", "link", "shared", "not empty"])
def test_an_unsafe_given_directory_is_refused_and_left_as_it_was(tmp_path, problem):
    given = tmp_path / "given"
    if problem == "file":
        given.write_text("x")
    elif problem == "link":
        (tmp_path / "target").mkdir(mode=0o700)
        given.symlink_to(tmp_path / "target")
    elif problem != "missing":
        given.mkdir(mode=0o700)
        if problem == "shared":
            os.chmod(given, 0o770)  # noqa: S103 (the unsafe case under test)
        else:
            (given / "counter_99.db").write_text("another run")
    with pytest.raises(SettingsError, match=metrics_dir.ENV):
        metrics_dir.prepare({metrics_dir.ENV: str(given)})
    if problem == "not empty":
        assert (given / "counter_99.db").read_text() == "another run"


def test_a_directory_of_another_user_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root can give a directory away")
    given = tmp_path / "given"
    given.mkdir(mode=0o700)
    os.chown(given, 65534, 65534)
    with pytest.raises(SettingsError, match="uid 65534"):
        metrics_dir.prepare({metrics_dir.ENV: str(given)})


def test_release_removes_metric_files_and_nothing_else(tmp_path):
    directory, _ = metrics_dir.prepare({})
    (directory / "counter_1.db").write_bytes(b"")
    (directory / "histogram_1.db").write_bytes(b"")
    metrics_dir.release(directory)
    assert not directory.exists()

    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "counter_2.db").write_bytes(b"")
    (kept / "notes.txt").write_text("not a metric file")
    metrics_dir.release(kept)
    assert [p.name for p in kept.iterdir()] == ["notes.txt"]
