"""PostgreSQL backups with pg_dump's directory format (parallel jobs), restored with
pg_restore; the checksums of the manifest come from the very snapshot pg_dump saves."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from app.store import databases as store_databases
from platform_tools.backup.manifest import TableEntry
from platform_tools.backup.pg_programs import last_lines, libpq_environment, major_version, program
from platform_tools.backup.schema_fingerprint import postgres_fingerprint
from platform_tools.backup.table_checksums import postgres_checksums, postgres_tables
from platform_tools.run.errors import EnvironmentFailure, UsageError

DUMP_DIR = "dump"
TableDone = Callable[[str], None]


@dataclass(frozen=True)
class PostgresSnapshot:
    """What a dump holds: server version, migration, tables, and how it was taken."""

    server_version: str
    schema_version: str | None
    tables: dict[str, TableEntry]
    schema_fingerprint: str
    details: dict[str, object] = field(default_factory=dict)


def server_version(conn: Connection) -> str:
    """The server's version string (e.g. `15.18 (Debian 15.18-0+deb12u1)`)."""
    return str(conn.execute(text("SHOW server_version")).scalar_one())


def server_major(conn: Connection) -> int:
    """The server's major version number."""
    return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10_000


def schema_version(conn: Connection) -> str | None:
    """The Alembic revision of the connection's database, or None before the first one."""
    if "alembic_version" not in postgres_tables(conn):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _check_client(name: str, server: int) -> None:
    client = major_version(name)
    if client < server:
        raise EnvironmentFailure(
            f"{name} {client} cannot handle a PostgreSQL {server} server: install "
            f"postgresql-client-{server} or point PLATFORM_TOOLS_PG_BIN at it"
        )


def _pump(stream, on_line: Callable[[str], None], sink: list[str]) -> None:  # type: ignore[no-untyped-def]
    for raw in stream:
        line = raw.rstrip("\n")
        sink.append(line)
        on_line(line)


def _start(argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def dump_postgres(
    engine: Engine,
    url: URL,
    data_dir: Path,
    jobs: int,
    table_dumped: TableDone | None = None,
    table_checked: TableDone | None = None,
) -> PostgresSnapshot:
    """pg_dump the database into `data_dir/dump` (directory format, `jobs` in parallel).

    One REPEATABLE READ transaction exports its snapshot; pg_dump saves exactly that snapshot
    (`--snapshot`) while this process counts and checksums the tables in it, in parallel.
    """
    pg_dump = program("pg_dump")
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            major = server_major(conn)
            _check_client("pg_dump", major)
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            argv = [
                pg_dump,
                "--format=directory",
                f"--jobs={jobs}",
                f"--snapshot={snapshot}",
                f"--file={data_dir / DUMP_DIR}",
                "--no-password",
                "--verbose",
            ]
            errors: list[str] = []

            def on_line(line: str) -> None:
                marker = "dumping contents of table "
                if table_dumped is not None and marker in line:
                    table_dumped(line.split(marker, 1)[1].strip('"'))

            started = time.monotonic()
            try:
                process = _start(argv, libpq_environment(url))
            except OSError as exc:
                raise EnvironmentFailure(f"cannot run {pg_dump}: {exc.strerror}") from None
            reader = threading.Thread(target=_pump, args=(process.stderr, on_line, errors))
            reader.start()
            try:
                tables = postgres_checksums(conn, table_checked)
                version = server_version(conn)
                revision = schema_version(conn)
                fingerprint = postgres_fingerprint(conn)
            finally:
                code = process.wait()
                reader.join()
            if code != 0:
                raise EnvironmentFailure(f"pg_dump exited with {code}: {last_lines(errors)}")
            dump_seconds = time.monotonic() - started
    return PostgresSnapshot(
        server_version=version,
        schema_version=revision,
        tables=tables,
        schema_fingerprint=fingerprint,
        details={
            "format": "directory",
            "jobs": jobs,
            "pg_dump_major": major_version("pg_dump"),
            "dump_seconds": round(dump_seconds, 3),
        },
    )


def admin_engine(url: URL) -> Engine:
    """An AUTOCOMMIT engine on `url`, for CREATE and DROP DATABASE."""
    return create_engine(
        url, isolation_level="AUTOCOMMIT", connect_args={"options": "-c timezone=UTC"}
    )


def database_exists(admin: Engine, name: str) -> bool:
    """True when the server has a database of that name."""
    with admin.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
        )


def create_database(admin: Engine, name: str) -> None:
    """CREATE DATABASE from template0 (nothing a site added to template1 leaks in)."""
    quoted = admin.dialect.identifier_preparer.quote(name)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {quoted} TEMPLATE template0"))


def drop_database(admin: Engine, name: str) -> None:
    """DROP DATABASE, disconnecting whoever is still in it."""
    with admin.connect() as conn:
        store_databases.drop_database(conn, name)


@contextmanager
def scratch_database(server: URL, prefix: str) -> Iterator[URL]:
    """A new empty database on `server` for a restore drill, dropped afterwards whatever
    happens."""
    name = f"{prefix}_drill_{uuid.uuid4().hex[:10]}"[:63]
    admin = admin_engine(server)
    try:
        try:
            create_database(admin, name)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise EnvironmentFailure(
                f"cannot create the scratch database {name} for the restore drill: {reason} "
                "(the role needs CREATEDB, or give --scratch-url)"
            ) from None
        try:
            yield server.set(database=name)
        finally:
            drop_database(admin, name)
    finally:
        admin.dispose()


def user_relations(conn: Connection) -> int:
    """How many tables, views and sequences the current schema holds (0: an empty target)."""
    return int(
        conn.execute(
            text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
            )
        ).scalar_one()
    )


def restore_parallel(dump_dir: Path, target: URL, jobs: int, table_done: TableDone | None) -> float:
    """pg_restore into an empty database with `jobs` workers; returns the seconds it took."""
    pg_restore = program("pg_restore")
    argv = [
        pg_restore,
        f"--jobs={jobs}",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--verbose",
        "--no-password",
        f"--dbname={target.database}",
        str(dump_dir),
    ]
    return _run_restore(argv, target, table_done)


def _run_restore(argv: list[str], target: URL, table_done: TableDone | None) -> float:
    lines: list[str] = []

    def on_line(line: str) -> None:
        marker = "processing data for table "
        if table_done is not None and marker in line:
            table_done(line.split(marker, 1)[1].strip('"'))

    started = time.monotonic()
    try:
        process = _start(argv, libpq_environment(target))
    except OSError as exc:
        raise EnvironmentFailure(f"cannot run {argv[0]}: {exc.strerror}") from None
    _pump(process.stderr, on_line, lines)
    code = process.wait()
    if code != 0:
        raise EnvironmentFailure(f"pg_restore exited with {code}: {last_lines(lines)}")
    return time.monotonic() - started


# Drops every object of the current schema but keeps the schema itself (its owner, grants
# and comment are the database's defaults, which a dump does not carry).
EMPTY_CURRENT_SCHEMA = """
DO $empty$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT format('DROP %s IF EXISTS %I.%I CASCADE',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                     WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
                                     ELSE 'TABLE' END,
                      n.nspname, c.relname) AS statement
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
        ORDER BY c.relkind = 'S', c.relname
    LOOP
        EXECUTE item.statement;
    END LOOP;
    FOR item IN
        SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure) AS statement
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema()
    LOOP
        EXECUTE item.statement;
    END LOOP;
    FOR item IN
        SELECT format('DROP TYPE IF EXISTS %I.%I CASCADE', n.nspname, t.typname) AS statement
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd', 'r', 'c')
          AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
    LOOP
        EXECUTE item.statement;
    END LOOP;
END
$empty$;
"""


def restore_replacing(dump_dir: Path, target: URL) -> float:
    """Replace the target's schema by the dump in ONE transaction (psql --single-transaction):
    a failure leaves the target exactly as it was."""
    pg_restore, psql = program("pg_restore"), program("psql")
    env = libpq_environment(target)
    started = time.monotonic()
    try:
        producer = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(dump_dir)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        consumer = subprocess.run(
            [
                psql,
                "--no-psqlrc",
                "--quiet",
                "--no-password",
                "--set=ON_ERROR_STOP=1",
                "--single-transaction",
                f"--command={EMPTY_CURRENT_SCHEMA}",
                "--file=-",
            ],
            env=env,
            stdin=producer.stdout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
    except OSError as exc:
        raise EnvironmentFailure(f"cannot run pg_restore | psql: {exc.strerror}") from None
    assert producer.stdout is not None and producer.stderr is not None
    producer.stdout.close()
    producer_errors = producer.stderr.read().decode(errors="replace")
    producer_code = producer.wait()
    if producer_code != 0:
        raise EnvironmentFailure(
            f"pg_restore exited with {producer_code}: {last_lines(producer_errors)}"
        )
    if consumer.returncode != 0:
        raise EnvironmentFailure(
            f"psql exited with {consumer.returncode}, the target is unchanged: "
            f"{last_lines(consumer.stderr.decode(errors='replace'))}"
        )
    return time.monotonic() - started


@dataclass(frozen=True)
class PostgresCheck:
    """What the restored database says about itself."""

    problems: list[str]
    tables: dict[str, TableEntry]
    schema_version: str | None
    notes: list[str]
    schema_fingerprint: str | None = None


def check_postgres(url: URL, table_done: TableDone | None = None) -> PostgresCheck:
    """amcheck (B-tree indexes and heaps, where the extension can be created), then the
    per-table checksums of the restored database."""
    engine = admin_engine(url)
    problems: list[str] = []
    notes: list[str] = []
    try:
        with engine.connect() as conn:
            notes.append(_amcheck(conn, problems))
            tables = postgres_checksums(conn, table_done)
            version = schema_version(conn)
            fingerprint = postgres_fingerprint(conn)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise EnvironmentFailure(f"checking the restored database failed: {reason}") from None
    finally:
        engine.dispose()
    return PostgresCheck(
        problems=problems,
        tables=tables,
        schema_version=version,
        notes=notes,
        schema_fingerprint=fingerprint,
    )


def _amcheck(conn: Connection, problems: list[str]) -> str:
    try:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return f"amcheck not available here ({reason}): indexes not checked"
    indexes = (
        conn.execute(
            text(
                "SELECT c.relname FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE a.amname = 'btree' AND n.nspname = current_schema() ORDER BY c.relname"
            )
        )
        .scalars()
        .all()
    )
    for index in indexes:
        try:
            # heapallindexed: every heap tuple must be found in the index.
            conn.execute(
                text("SELECT bt_index_check(CAST(:name AS regclass), true)"), {"name": index}
            )
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            problems.append(f"amcheck: index {index}: {reason}")
    heap_problems = conn.execute(
        text(
            "SELECT c.relname, v.msg FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "CROSS JOIN LATERAL verify_heapam(c.oid) AS v "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' LIMIT 20"
        )
    ).all()
    problems += [f"amcheck: table {table}: {message}" for table, message in heap_problems]
    conn.execute(text("DROP EXTENSION amcheck"))
    return f"amcheck: {len(indexes)} B-tree indexes and every table's heap checked"


def check_engine_match(engine_name: str, backup_engine: str, option: str) -> None:
    """Refuse to restore a backup of one engine into a database of the other."""
    if engine_name != backup_engine:
        raise UsageError(
            f"this is a {backup_engine} backup; it cannot be restored into {engine_name}", option
        )
