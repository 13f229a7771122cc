"""`python -m app`: migrate, serve, tokens, seed-demo, check-participations, purge-idempotency."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from app.domain.errors import DomainError
from app.settings import Settings, SettingsError

cli = typer.Typer(
    help="Campus Platform app: enrolment and propagation.",
    add_completion=False,
    no_args_is_help=True,
)


def _settings() -> Settings:
    """The environment's settings, DATABASE_URL included, refused with a message and exit 2."""
    from app.store.engine import normalise_url

    try:
        settings = Settings.from_env()
        normalise_url(settings.database_url)
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    return settings


@contextmanager
def _domain_errors() -> Iterator[None]:
    """A refused input becomes a message naming it and exit 2, never a traceback."""
    try:
        yield
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from app.store.engine import build_engine

    return build_engine(settings)


@cli.command()
def migrate() -> None:
    """Apply the schema migrations (idempotent)."""
    from app.store import migrate as migrations

    engine = _engine(_settings())
    migrations.upgrade(engine)
    typer.echo(f"database at migration {migrations.current_revision(engine)}", err=True)


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
) -> None:
    """Serve the app with the production server: gunicorn threaded workers that time the queue
    (APP_SERVER=gthread, the default) or granian behind a stamping proxy (APP_SERVER=granian)."""
    from app.observability import metrics_dir

    settings = _settings()
    try:
        directory, owned = metrics_dir.prepare(os.environ)
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    env = {
        **os.environ,
        metrics_dir.ENV: str(directory),
        metrics_dir.OWNED_ENV: str(directory) if owned else "",
        "APP_BIND": f"{host}:{port}",
        "APP_WORKERS": str(settings.workers),
        "APP_THREADS": str(settings.threads),
    }
    if settings.server == "granian":
        from app.http import granian_server

        raise typer.Exit(granian_server.exit_code(granian_server.run(settings, host, port, env)))
    conf = Path(__file__).parent / "http" / "gunicorn_conf.py"
    os.execve(  # noqa: S606 (replaces this process: signals reach gunicorn directly)
        sys.executable,
        [sys.executable, "-m", "gunicorn", "-c", str(conf), "app.http.wsgi:application"],
        env,
    )


@cli.command("create-token")
def create_token(
    role: str = typer.Option(..., help="admin, staff, student or employer."),
    name: str = typer.Option(..., help="Who or what holds the token."),
    learner: int | None = typer.Option(None, help="The learner a student token is bound to."),
    organisation: int | None = typer.Option(
        None, help="The organisation an employer token is bound to."
    ),
    expires_in_days: int | None = typer.Option(
        None, min=1, max=3650, help="Refuse the token after this many days (default: never)."
    ),
) -> None:
    """Mint a bearer token and print it (only it) on stdout."""
    from datetime import timedelta

    from app import clock
    from app.services.tokens import create_token as mint
    from app.store.engine import write_transaction

    engine = _engine(_settings())
    expires_at = clock.now() + timedelta(days=expires_in_days) if expires_in_days else None
    with _domain_errors(), write_transaction(engine) as conn:
        token = mint(conn, role, name, learner, organisation, expires_at)
    typer.echo(token)


@cli.command("list-tokens")
def list_tokens(
    as_json: bool = typer.Option(False, "--json", help="One JSON document instead of a table."),
) -> None:
    """Every token: id, role, holder, binding, creation, expiry and revocation (no secrets)."""
    import json

    from app.services.tokens import list_tokens as listed
    from app.store.engine import read_transaction

    with read_transaction(_engine(_settings())) as conn:
        tokens = listed(conn)
    if as_json:
        typer.echo(json.dumps(tokens, default=str))
        return
    for t in tokens:
        state = "revoked" if t["revoked_at"] else "active"
        typer.echo(
            f"{t['id']}\t{t['role']}\t{t['name']}\t{state}\texpires {t['expires_at'] or 'never'}"
        )


@cli.command("revoke-token")
def revoke_token(
    token_id: int | None = typer.Option(None, "--id", min=1, help="The token's id (list-tokens)."),
    token: str | None = typer.Option(None, help="The token itself, when its id is unknown."),
    yes: bool = typer.Option(False, "--yes", help="Revoke (without it, show what would be)."),
) -> None:
    """Revoke a token: requests with it are refused with 401 once each server's kept principal
    is stale (APP_TOKEN_CACHE_SECONDS, 5 s by default)."""
    from app.services.tokens import find_token
    from app.services.tokens import revoke_token as revoke
    from app.store.engine import write_transaction

    engine = _engine(_settings())
    with _domain_errors(), write_transaction(engine) as conn:
        found = find_token(conn, token_id, token)
        label = f"token {found['id']} ({found['role']}, {found['name']})"
        if found["revoked_at"] is not None:
            typer.echo(f"{label} was revoked at {found['revoked_at']}: nothing to do")
            return
        if not yes:
            typer.echo(f"dry run: would revoke {label}; add --yes to revoke it", err=True)
            raise typer.Exit(1)
        revoke(conn, found["id"])
    typer.echo(f"revoked {label}")
    typer.echo(
        "servers refuse it within APP_TOKEN_CACHE_SECONDS "
        f"({_settings().token_cache_seconds:g} s here)",
        err=True,
    )


@cli.command("purge-idempotency")
def purge_idempotency(
    yes: bool = typer.Option(False, "--yes", help="Delete (without it, count what would go)."),
) -> None:
    """Delete idempotency records past their time to live (the app also does it on its own)."""
    from app.services.idempotency import TTL, purge_expired
    from app.store.request_connection import RequestConnection

    db = RequestConnection(_engine(_settings()))
    try:
        count = purge_expired(db, apply=yes)
    finally:
        db.close()
    verb = "deleted" if yes else "dry run: would delete"
    typer.echo(f"{verb} {count} idempotency records older than {TTL}")


@cli.command("seed-demo")
def seed_demo() -> None:
    """Create the demo school (idempotent: a second run adds nothing)."""
    from app.demo.seed import seed_demo as seed
    from app.store.engine import write_transaction

    engine = _engine(_settings())
    with write_transaction(engine) as conn:
        created = seed(conn)
    typer.echo("demo data: " + ", ".join(f"{v} {k} created" for k, v in created.items()), err=True)


@cli.command("demo-banner")
def demo_banner(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Print a fresh staff token and example calls against the demo data."""
    from sqlalchemy import select

    from app.services.tokens import create_token as mint
    from app.store.engine import write_transaction
    from app.store.schema import activity, enrolment

    engine = _engine(_settings())
    with write_transaction(engine) as conn:
        token = mint(conn, "staff", "make run demo")
        enrolment_id = conn.execute(select(enrolment.c.id).order_by(enrolment.c.id)).scalar()
        activity_id = conn.execute(select(activity.c.id).order_by(activity.c.id.desc())).scalar()
    base = f"http://{host}:{port}"
    auth = f'-H "Authorization: Bearer {token}"'
    typer.echo(f"""
Campus Platform on {base}  (SQLite, demo data)
Staff token: {token}

  curl {base}/readyz
  curl {auth} {base}/api/v1/enrolments/{enrolment_id}
  curl {auth} {base}/api/v1/enrolments/{enrolment_id}/participations
  curl {auth} '{base}/api/v1/activities/{activity_id}/participants?limit=5'
  curl {auth} -H 'Content-Type: application/json' -X POST {base}/api/v1/learners \\
       -d '{{"external_id": "NEW-1", "first_name": "Ada", "last_name": "Lovelace",
            "email": "ada@example.org"}}'
  curl {base}/openapi.json
""")


@cli.command("check-participations")
def check_participations(
    repair: bool = typer.Option(False, help="Propagate over every activity that has not started."),
    yes: bool = typer.Option(False, "--yes", help="Apply the repair (without it, a dry run)."),
) -> None:
    """Compare every not-started activity's participations and seats with the invariant.

    Prints each kind of difference with its count; exits 1 when any is found (after a
    repair, when the repair left any), 0 when none is.
    """
    from app.propagation.reconcile import KINDS, reconcile, repair_all
    from app.store.engine import read_transaction, write_transaction

    engine = _engine(_settings())
    with read_transaction(engine) as conn:
        drift = reconcile(conn)
    _print_drift(drift, KINDS)
    if drift.total == 0:
        return
    if repair and yes:
        with write_transaction(engine) as conn:
            outcome = repair_all(conn)
        typer.echo(f"repaired: {outcome.created} created, {outcome.removed} removed, seats settled")
        with read_transaction(engine) as conn:
            left = reconcile(conn)
        if left.total == 0:
            return
        _print_drift(left, KINDS, prefix="still wrong after the repair: ")
    elif repair:
        typer.echo("dry run: add --yes to repair", err=True)
    raise typer.Exit(1)


def _print_drift(drift, kinds: dict[str, str], prefix: str = "") -> None:  # type: ignore[no-untyped-def]
    counts = drift.by_kind()
    typer.echo(prefix + ", ".join(f"{label} {counts[kind]}" for kind, label in kinds.items()))
