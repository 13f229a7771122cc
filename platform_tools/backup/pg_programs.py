"""The PostgreSQL client programs (pg_dump, pg_restore, psql) and how they reach the server.

Connection settings travel in libpq's environment variables, so the password never appears
on a command line (where `ps` would show it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

from platform_tools.run.errors import EnvironmentFailure, UsageError

PG_BIN_ENV = "PLATFORM_TOOLS_PG_BIN"
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")
_QUERY_TO_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "application_name": "PGAPPNAME",
}


def program(name: str) -> str:
    """The path of a PostgreSQL client program: in $PLATFORM_TOOLS_PG_BIN, else on PATH."""
    directory = os.environ.get(PG_BIN_ENV)
    if directory:
        candidate = Path(directory) / name
        if not os.access(candidate, os.X_OK):
            raise UsageError(f"{candidate}: no executable {name} there", PG_BIN_ENV)
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise EnvironmentFailure(
            f"{name} not found on PATH: install the PostgreSQL client (postgresql-client) "
            f"or set {PG_BIN_ENV}"
        )
    return found


def major_version(name: str) -> int:
    """The major version of a client program (`pg_dump --version`)."""
    output = subprocess.run(
        [program(name), "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = _VERSION.search(output)
    if match is None:
        raise EnvironmentFailure(f"{name} --version printed {output.strip()!r}: not PostgreSQL")
    return int(match.group(1))


def libpq_environment(url: URL, database: str | None = None) -> dict[str, str]:
    """The process environment with libpq variables for `url` (another database if given)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = os.environ.get("PGCONNECT_TIMEOUT", "10")
    if url.host:
        env["PGHOST"] = url.host
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = url.username
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    env["PGDATABASE"] = database or url.database or "postgres"
    for key, variable in _QUERY_TO_ENV.items():
        value = url.query.get(key)
        if isinstance(value, tuple):
            value = value[-1]
        if value:
            env[variable] = str(value)
    return env


def last_lines(output: str | list[str], count: int = 5) -> str:
    """The end of a program's error output, for a one-line message."""
    text = output if isinstance(output, str) else "\n".join(output)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "no error output"
