"""`python -m app`: migrate, serve, create-token, seed-demo, check-participations."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
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
    """Serve the app with the production WSGI server (gunicorn, threaded workers)."""
    settings = _settings()
    # Every worker writes its metrics here; /metrics adds them up. Start clean: files of a
    # previous run would count twice.
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(
        Path(tempfile.gettempdir()) / f"campus-metrics-{port}"
    )
    shutil.rmtree(metrics_dir, ignore_errors=True)
    Path(metrics_dir).mkdir(parents=True)
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        "APP_BIND": f"{host}:{port}",
        "APP_WORKERS": str(settings.workers),
        "APP_THREADS": str(settings.threads),
    }
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
) -> None:
    """Mint a bearer token and print it (only it) on stdout."""
    from app.services.tokens import create_token as mint
    from app.store.engine import write_transaction

    engine = _engine(_settings())
    try:
        with write_transaction(engine) as conn:
            token = mint(conn, role, name, learner, organisation)
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    typer.echo(token)


@cli.command("seed-demo")
def seed_demo() -> None:
    """Create the demo school (idempotent: a second run adds nothing)."""
    from app.services.demo import seed_demo as seed
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
