"""The nightly backup script keeps the WAL archive only as far back as something can replay it.

The script is rendered by Ansible from the postgresql role (its defaults and vars, the
inventory's overrides as -e) and run as postgres, as cron or the systemd timer runs it, against
a directory of archived WAL: correctly named segments and backup history files, with PostgreSQL's
own pg_archivecleanup. Only the backup itself is a stand-in (a real pg_basebackup needs a running
server, and this machine's is not ours to use): it leaves a base backup shaped like
pg_basebackup's, whose history file the test puts in the archive as the server would. One test
has the real thing instead: pg_basebackup against a throwaway cluster that archives into the
test's directory.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .ansible_cli import PLAYBOOKS, run_playbook

ROLE = PLAYBOOKS / "roles" / "postgresql"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
DAY = 86400
# The log (high 32 bits of the position) the fake segments are in, as on a server that has
# written 64 GiB of WAL.
LOG = 0x10

pytestmark = pytest.mark.skipif(
    not (PG_BIN / "pg_archivecleanup").exists(), reason="needs PostgreSQL 15's pg_archivecleanup"
)


def segment(number: int, timeline: int = 1) -> str:
    """The file name of WAL segment `number` of LOG on `timeline`."""
    return f"{timeline:08X}{LOG:08X}{number:08X}"


def history_name(number: int) -> str:
    """The backup history file of a backup started 0x28 bytes into segment `number`."""
    return f"{segment(number)}.00000028.backup"


def start_lsn(number: int) -> str:
    """The position 0x28 bytes into segment `number` (16 MiB segments), as PostgreSQL prints it."""
    return f"{LOG:X}/{number * 0x1000000 + 0x28:X}"


def age(path: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


class Workspace:
    """A WAL archive, a backup directory and the rendered script, all owned by postgres."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.archive = root / "wal-archive"
        self.backups = root / "backups"
        self.archive.mkdir()
        self.backups.mkdir()
        self.script = root / "campus-pg-backup"

    def render(self, **variables: object) -> str:
        """Render the role's script from its defaults and vars, overridden as an inventory does."""
        playbook = self.root / "render.yml"
        playbook.write_text(
            json.dumps(
                [
                    {
                        "name": "Render the nightly backup script",
                        "hosts": "localhost",
                        "gather_facts": False,
                        "vars_files": [
                            str(ROLE / "defaults" / "main.yml"),
                            str(ROLE / "vars" / "main.yml"),
                        ],
                        "tasks": [
                            {
                                "name": "Install the backup script",
                                "ansible.builtin.template": {
                                    "src": str(ROLE / "templates" / "campus-pg-backup.sh.j2"),
                                    "dest": str(self.script),
                                    "mode": "0755",
                                },
                            }
                        ],
                    }
                ]
            )
        )
        inventory = self.root / "inventory.ini"
        inventory.write_text(
            "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"
        )
        extra = self.root / "vars.json"
        extra.write_text(
            json.dumps(
                {
                    "postgresql_bin_dir": str(PG_BIN),
                    "postgresql_wal_archive_dir": str(self.archive),
                    "postgresql_backup_dir": str(self.backups),
                    **variables,
                }
            )
        )
        run = run_playbook(
            str(playbook), "-e", f"@{extra}", inventory=inventory, touches_machine=False
        )
        assert run.returncode == 0, run.tail()
        return self.script.read_text()

    def archived(self, *names: str, days_old: float = 0.0) -> None:
        for name in names:
            path = self.archive / name
            path.write_bytes(b"\0" * 64)
            age(path, days_old * DAY)

    def archived_history(self, number: int, days_old: float = 0.0) -> None:
        """The backup history file the server archives when a base backup starts in `number`."""
        path = self.archive / history_name(number)
        path.write_text(
            f"START WAL LOCATION: {start_lsn(number)} (file {segment(number)})\n"
            f"STOP WAL LOCATION: {start_lsn(number + 1)} (file {segment(number + 1)})\n"
            "BACKUP METHOD: streamed\nBACKUP FROM: primary\n"
            "LABEL: pg_basebackup base backup\nSTART TIMELINE: 1\nSTOP TIMELINE: 1\n"
        )
        age(path, days_old * DAY)

    def base_backup(self, folder: Path, number: int, label_only: bool = False) -> Path:
        """A base backup started in segment `number`, shaped as pg_basebackup leaves one."""
        folder.mkdir(parents=True)
        if label_only:  # plain format without a manifest (--format=plain --no-manifest)
            (folder / "backup_label").write_text(
                f"START WAL LOCATION: {start_lsn(number)} (file {segment(number)})\n"
                f"CHECKPOINT LOCATION: {start_lsn(number)}\nBACKUP METHOD: streamed\n"
                "BACKUP FROM: primary\nLABEL: pg_basebackup base backup\nSTART TIMELINE: 1\n"
            )
        else:
            (folder / "base.tar.gz").write_bytes(b"\x1f\x8b" + b"\0" * 64)
            (folder / "backup_manifest").write_text(
                '{ "PostgreSQL-Backup-Manifest-Version": 1,\n"Files": [\n'
                '{ "Path": "backup_label", "Size": 227, "Last-Modified": "2026-11-30 02:30:01 GMT",'
                ' "Checksum-Algorithm": "CRC32C", "Checksum": "4d1a5c2e" }\n],\n'
                '"WAL-Ranges": [\n'
                f'{{ "Timeline": 1, "Start-LSN": "{start_lsn(number)}",'
                f' "End-LSN": "{start_lsn(number + 1)}" }}\n],\n'
                '"Manifest-Checksum": "00"}\n'
            )
        return folder

    def kept_base_backup(
        self, name: str, number: int, days_old: float, label_only: bool = False
    ) -> Path:
        folder = self.base_backup(self.backups / name, number, label_only)
        age(folder, days_old * DAY)
        return folder

    def tonight(self, number: int) -> str:
        """A stand-in for pg_basebackup that leaves tonight's base backup, started in `number`."""
        self.base_backup(self.root / "tonight", number)
        self.archived_history(number)
        return f'cp -R {self.root / "tonight"} "$BACKUP_DIR/base-tonight"'

    def run(self) -> subprocess.CompletedProcess[str]:
        """Run the script as cron or the systemd timer does: as postgres (when this is root)."""
        command = [str(self.script)]
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            # A scratch cluster's files are postgres's already (and come and go): not walked.
            tops = [path for path in self.root.iterdir() if path.name != "cluster"]
            for path in [self.root, *tops, *(p for top in tops for p in top.rglob("*"))]:
                os.chown(path, postgres.pw_uid, postgres.pw_gid, follow_symlinks=False)
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command, cwd="/", capture_output=True, text=True, timeout=120, check=False
        )

    def archive_names(self) -> set[str]:
        return {path.name for path in self.archive.iterdir()}

    def backup_names(self) -> set[str]:
        return {path.name for path in self.backups.iterdir()}


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    # Not pytest's tmp_path: postgres must reach it, and pytest's folders are root's alone.
    root = Path(tempfile.mkdtemp(prefix="campus-wal-retention-"))
    root.chmod(0o755)
    try:
        yield Workspace(root)
    finally:
        shutil.rmtree(root)


def a_week_of_command_backups(ws: Workspace) -> set[str]:
    """Segments 0x10 to 0x20 archived, base backups started in 0x12 (10 days old: past the
    7 days' retention), 0x16 (6 days) and 0x1A (2 days), and what else an archive holds.
    Returns every name in the archive."""
    ws.archived(*(segment(n) for n in range(0x10, 0x21)))
    ws.archived(segment(0x11) + ".partial", "00000002.history", "README", days_old=12)
    for number, days_old in ((0x12, 10), (0x16, 6), (0x1A, 2)):
        ws.archived_history(number, days_old)
    ws.kept_base_backup("base-10-days", 0x12, 10)
    ws.kept_base_backup("base-6-days", 0x16, 6)
    ws.kept_base_backup("base-2-days", 0x1A, 2)
    return ws.archive_names()


@pytest.mark.parametrize("oldest_kept_has", ["manifest", "backup_label"])
def test_a_successful_base_backup_removes_archived_wal_older_than_the_oldest_kept_one(
    workspace: Workspace, oldest_kept_has: str
) -> None:
    ws = workspace
    before = a_week_of_command_backups(ws)
    if oldest_kept_has == "backup_label":
        shutil.rmtree(ws.backups / "base-6-days")
        ws.kept_base_backup("base-6-days", 0x16, 6, label_only=True)
    ws.render(postgresql_backup_tool="command", postgresql_backup_command=ws.tonight(0x1E))

    done = ws.run()

    assert done.returncode == 0, done.stdout + done.stderr
    # The 10-day-old base backup went with the retention; tonight's is there.
    assert ws.backup_names() == {"base-6-days", "base-2-days", "base-tonight"}
    older = {segment(n) for n in range(0x10, 0x16)} | {
        segment(0x11) + ".partial",
        history_name(0x12),
    }
    assert ws.archive_names() == (before | {history_name(0x1E)}) - older
    # From the oldest kept base backup's own segment on, nothing was touched.
    assert {segment(n) for n in range(0x16, 0x21)} <= ws.archive_names()
    assert {"00000002.history", "README", history_name(0x16)} <= ws.archive_names()
    assert f"removed {len(older)} file(s) older than {history_name(0x16)}" in done.stdout


def test_a_failed_backup_removes_nothing(workspace: Workspace) -> None:
    ws = workspace
    before = a_week_of_command_backups(ws)
    ws.render(postgresql_backup_tool="command", postgresql_backup_command="false")

    done = ws.run()

    assert done.returncode != 0
    assert "the backup command failed" in done.stderr
    assert "WAL archive are left as they are" in done.stderr
    assert ws.archive_names() == before
    assert ws.backup_names() == {"base-10-days", "base-6-days", "base-2-days"}


def test_without_a_base_backup_kept_nothing_is_removed(workspace: Workspace) -> None:
    ws = workspace
    ws.archived(*(segment(n) for n in range(0x10, 0x18)), days_old=30)
    ws.archived_history(0x12, days_old=30)
    ws.kept_base_backup("base-30-days", 0x12, 30)
    before = ws.archive_names()
    # A command that takes no base backup (a logical dump): the old base backup ages out.
    ws.render(
        postgresql_backup_tool="command",
        postgresql_backup_command='touch "$BACKUP_DIR/campus.sql"',
    )

    done = ws.run()

    assert done.returncode == 0, done.stderr
    assert ws.backup_names() == {"campus.sql"}
    assert ws.archive_names() == before
    assert "no base backup kept" in done.stdout


def test_an_oldest_base_backup_without_its_history_file_keeps_the_whole_archive(
    workspace: Workspace,
) -> None:
    ws = workspace
    a_week_of_command_backups(ws)
    # Taken before archiving was turned on, say: its history file never reached the archive.
    (ws.archive / history_name(0x16)).unlink()
    ws.render(postgresql_backup_tool="command", postgresql_backup_command=ws.tonight(0x1E))
    before = ws.archive_names()

    done = ws.run()

    assert done.returncode == 0, done.stderr
    assert ws.archive_names() == before
    assert "no backup history file for the oldest base backup kept" in done.stdout
    assert f"start {start_lsn(0x16)} on timeline 1" in done.stdout


def standin_platform_tools(ws: Workspace, fail_create: bool = False) -> Path:
    """Stand-in for the app's CLI (not installed here): records its calls, fails if asked."""
    tools = ws.root / "platform-tools"
    tools.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {ws.root / "calls.log"}\n'
        + ('[ "$2" != create ] || exit 1\n' if fail_create else "")
    )
    tools.chmod(0o755)
    return tools


def an_archive_around_the_age_limit(ws: Workspace, keep_days: int) -> tuple[set[str], set[str]]:
    """Files on both sides of `keep_days` (by ten minutes); returns (older, kept) names."""
    limit = keep_days
    ws.archived(segment(0x10), segment(0x11) + ".partial", history_name(0x10), days_old=limit + 5)
    ws.archived(segment(0x11), days_old=limit + 10 / 1440)
    ws.archived(segment(0x12), history_name(0x12), days_old=limit - 10 / 1440)
    ws.archived(segment(0x13), days_old=0.5)
    # Never removed, however old: timeline history files, and whatever is not WAL.
    ws.archived("00000002.history", "notes.txt", segment(0x10) + ".gz", days_old=limit + 30)
    older = {segment(0x10), segment(0x11) + ".partial", history_name(0x10), segment(0x11)}
    return older, ws.archive_names() - older


@pytest.mark.parametrize("keep_days", [None, 1], ids=["default", "inventory"])
def test_a_logical_backup_host_removes_archived_wal_older_than_the_days_kept(
    workspace: Workspace, keep_days: int | None
) -> None:
    ws = workspace
    variables: dict[str, object] = {
        "postgresql_backup_tool": "platform-tools",
        "postgresql_backup_platform_tools": str(standin_platform_tools(ws)),
    }
    if keep_days is not None:
        variables["postgresql_wal_archive_keep_days"] = keep_days
    older, kept = an_archive_around_the_age_limit(ws, keep_days or 3)
    ws.render(**variables)

    done = ws.run()

    assert done.returncode == 0, done.stderr
    assert ws.archive_names() == kept
    assert f"removed {len(older)} file(s) older than {keep_days or 3} days" in done.stdout
    calls = (ws.root / "calls.log").read_text().splitlines()
    assert [call.split()[:2] for call in calls] == [
        ["backup", "create"],
        ["backup", "verify"],
        ["backup", "prune"],
    ]


def test_a_logical_backup_host_prunes_the_archive_even_when_the_backup_fails(
    workspace: Workspace,
) -> None:
    ws = workspace
    older, kept = an_archive_around_the_age_limit(ws, 3)
    tools = standin_platform_tools(ws, fail_create=True)
    ws.render(postgresql_backup_tool="platform-tools", postgresql_backup_platform_tools=str(tools))

    done = ws.run()

    assert done.returncode != 0
    assert ws.archive_names() == kept
    assert f"removed {len(older)} file(s)" in done.stdout


@pytest.mark.parametrize("tool", ["platform-tools", "command"])
def test_with_archiving_off_the_script_leaves_the_directory_alone(
    workspace: Workspace, tool: str
) -> None:
    ws = workspace
    ws.archived(*(segment(n) for n in range(0x10, 0x14)), days_old=30)
    script = ws.render(
        postgresql_wal_archive_enabled=False,
        postgresql_backup_tool=tool,
        postgresql_backup_platform_tools=str(standin_platform_tools(ws)),
        postgresql_backup_command=ws.tonight(0x13),
    )
    assert "WAL_ARCHIVE" not in script
    before = ws.archive_names()

    done = ws.run()

    assert done.returncode == 0, done.stderr
    assert ws.archive_names() == before


def as_postgres(*command: str) -> str:
    done = subprocess.run(
        ["runuser", "-u", "postgres", "--", *command],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


@pytest.fixture
def scratch_cluster(workspace: Workspace) -> Iterator[Path]:
    """A throwaway PostgreSQL 15 cluster archiving into the workspace's archive.

    It listens on a Unix socket in the workspace only, so it cannot meet the cluster this
    machine runs (which is left alone).
    """
    if os.geteuid() != 0 or not (PG_BIN / "initdb").exists():
        pytest.skip("needs root (to run as postgres) and PostgreSQL 15's initdb")
    data = workspace.root / "cluster"
    workspace.run()  # hands the workspace to postgres
    as_postgres(str(PG_BIN / "initdb"), "--no-sync", "-A", "trust", "-D", str(data))
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"listen_addresses = ''\nunix_socket_directories = '{workspace.root}'\n"
            "port = 5499\nshared_buffers = 16MB\nfsync = off\narchive_mode = on\n"
            f"archive_command = 'test ! -f {workspace.archive}/%f"
            f" && cp %p {workspace.archive}/%f'\n"
        )
    log = workspace.root / "cluster.log"
    as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "start")
    try:
        yield data
    finally:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")


def test_with_real_base_backups_the_archive_starts_at_the_oldest_one_kept(
    workspace: Workspace, scratch_cluster: Path
) -> None:
    ws = workspace
    psql = (str(PG_BIN / "psql"), "-h", str(ws.root), "-p", "5499", "-XAtq", "-d", "postgres")

    def write_wal(segments: int) -> None:
        for _ in range(segments):
            as_postgres(*psql, "-c", "create table if not exists t (x int)")
            as_postgres(*psql, "-c", "insert into t select generate_series(1, 1000)")
            as_postgres(*psql, "-c", "select pg_switch_wal()")
        # Archived: the last segment switched out has reached the archive.
        last = as_postgres(*psql, "-c", "select pg_walfile_name(pg_current_wal_lsn() - 1)")
        deadline = time.monotonic() + 60
        while not (ws.archive / last.strip()).exists() and time.monotonic() < deadline:
            time.sleep(0.2)

    ws.render(
        postgresql_backup_tool="command",
        postgresql_backup_command=(
            f"{PG_BIN / 'pg_basebackup'} -h {ws.root} -p 5499"
            ' --pgdata="$BACKUP_DIR/base-$(date +%s%N)"'
            " --format=tar --gzip --wal-method=fetch --checkpoint=fast"
        ),
    )
    taken = []
    for _ in range(3):
        write_wal(3)
        done = ws.run()
        assert done.returncode == 0, done.stdout + done.stderr
        (new,) = set(ws.backups.iterdir()) - set(taken)
        taken.append(new)
        # Tonight's backups are a day older by the next run.
        for folder in taken:
            age(folder, time.time() - folder.stat().st_mtime + DAY)
    first, second, _ = taken
    age(first, 10 * DAY)  # past the 7 days' retention: the next run deletes it
    write_wal(2)

    done = ws.run()

    assert done.returncode == 0, done.stdout + done.stderr
    assert not first.exists() and second.exists()
    # The history file of the oldest backup kept, found from pg_basebackup's own manifest.
    manifest = json.loads((second / "backup_manifest").read_text())
    start = manifest["WAL-Ranges"][-1]["Start-LSN"]
    (history,) = [
        path.name
        for path in ws.archive.glob("*.backup")
        if f"START WAL LOCATION: {start} " in path.read_text()
    ]
    assert f"older than {history}" in done.stdout
    segments = sorted(name for name in ws.archive_names() if len(name) == 24)
    # Nothing before the segment that backup started in; every segment from it on.
    first_kept = int(history[8:24], 16)
    assert [int(name[8:], 16) for name in segments] == list(
        range(first_kept, int(segments[-1][8:], 16) + 1)
    )
    # The first backup's history file went with its segments.
    assert min(path.name for path in ws.archive.glob("*.backup")) == history
