"""`platform-tools outbox dispatch` against a real SMTP server on loopback (aiosmtpd), on both
engines: each message delivered once, none lost when the dispatcher dies mid-way."""

from __future__ import annotations

import email
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import falcon.testing
import pytest
import structlog
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from app.http.app import create_app
from app.services.outbox import Message, enqueue
from app.store.engine import write_transaction
from app.store.schema_employers import outbox_message
from platform_tools.cli import app as cli
from tests.app.conftest import engine, postgres_url, settings, sqlite_template, token_for
from tests.app.employers.builders import employees, request_body, rule, sign_up
from tests.app.fixtures import School, post

__all__ = ["engine", "postgres_url", "settings", "sqlite_template"]
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts; `on_data` may act before 250."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.on_data: Any = None
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        if self.on_data is not None:
            self.on_data(self.messages[-1])
        return "250 Message accepted for delivery"

    def ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


@pytest.fixture(autouse=True)
def restore_logging():
    """A CLI run points the logs at its runner's stderr, closed afterwards: start from, and
    leave, the defaults, whatever ran before."""
    structlog.reset_defaults()
    logging.getLogger().handlers[:] = []
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers[:] = []


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield mailbox, f"127.0.0.1:{controller.port}"
    controller.stop()


class MarkBlocker:
    """Holds a lock that stops any write to the outbox: SQLite's write lock, or the rows'
    locks on PostgreSQL."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.raw = engine.raw_connection()

    def hold(self) -> None:
        cursor = self.raw.cursor()
        if self.engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("SELECT id FROM outbox_message FOR UPDATE")

    def release(self) -> None:
        self.raw.rollback()
        self.raw.close()


def _queue(engine, count: int) -> None:
    with write_transaction(engine) as conn:
        enqueue(
            conn,
            [
                Message("test", f"hr{i}@company.example", f"Subject {i}", f"Body {i}")
                for i in range(count)
            ],
        )


def _dispatch(settings, address: str, journal: Path, *extra: str):
    return CliRunner().invoke(
        cli,
        ["outbox", "dispatch", "--smtp", address, "--journal", str(journal), "--json", *extra],
        env={"DATABASE_URL": settings.database_url},
    )


def _rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(outbox_message).order_by(outbox_message.c.id)).all()


def _expire_claims(engine) -> None:
    """The lease of a dead dispatcher runs out (time passing, written down)."""
    with engine.begin() as conn:
        conn.execute(
            update(outbox_message).values(
                claimed_until=datetime.now(UTC) - timedelta(seconds=1),
                next_attempt_at=datetime.now(UTC) - timedelta(seconds=1),
            )
        )


def test_an_employer_gets_each_confirmation_once_from_sign_up_to_approval(
    settings, engine, smtp, tmp_path
):
    mailbox, address = smtp
    client = falcon.testing.TestClient(create_app(settings, engine))
    staff = token_for(engine, "staff")
    school = School(client, staff)
    post(
        client,
        "/api/v1/validation-rules",
        rule(effective_from=datetime.now(UTC).date().isoformat()),
        staff,
    )
    org = sign_up(client, 1, email="hr@acme.example")
    body = request_body(school.step, employees(5_000, 4_000))
    submitted = post(client, "/api/v1/requests", body, org["headers"])
    assert submitted["total_hours"] == 20_000_000
    assert post(client, "/api/v1/requests/validate", {}, staff, 200) == {
        "approved": 1,
        "referred": 0,
    }
    first = _dispatch(settings, address, tmp_path / "journal")
    assert first.exit_code == 0, first.output
    second = _dispatch(settings, address, tmp_path / "journal")
    assert second.exit_code == 0, second.output
    subjects = sorted(m["Subject"] for m in mailbox.messages)
    assert subjects == [
        "Campus: Company 1 is registered",
        "Campus: request R1 approved",
        "Campus: request R1 received",
    ]
    assert {m["To"] for m in mailbox.messages} == {"hr@acme.example"}
    assert len(set(mailbox.ids())) == 3
    rows = _rows(engine)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1)] * 3
    assert sorted(r.message_id for r in rows) == sorted(mailbox.ids())


def test_a_dispatcher_killed_between_send_and_mark_does_not_send_twice(
    settings, engine, smtp, tmp_path
):
    mailbox, address = smtp
    _queue(engine, 1)
    journal = tmp_path / "journal"
    blocker = MarkBlocker(engine)
    accepted = threading.Event()

    def hold_the_mark(_message) -> None:
        # Before answering 250, lock the message so the dispatcher's mark has to wait.
        blocker.hold()
        accepted.set()

    mailbox.on_data = hold_the_mark
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "platform_tools",
            "outbox",
            "dispatch",
            "--smtp",
            address,
            "--journal",
            str(journal),
            "--batch",
            "1",
        ],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": settings.database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert accepted.wait(60), "the dispatcher never sent"
        # The journal line is written once the 250 arrives; the mark is blocked behind it.
        for _ in range(600):
            if journal.exists() and journal.read_text().strip():
                break
            threading.Event().wait(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
        blocker.release()
    assert process.returncode == -signal.SIGKILL
    [row] = _rows(engine)
    assert (row.status, row.attempts) == ("pending", 1), "killed before the mark"
    assert mailbox.ids() == [row.message_id]
    mailbox.on_data = None
    _expire_claims(engine)
    restarted = _dispatch(settings, address, journal)
    assert restarted.exit_code == 0, restarted.output
    assert '"already_accepted": 1' in restarted.stdout and '"sent": 0' in restarted.stdout
    [row] = _rows(engine)
    assert (row.status, row.attempts) == ("sent", 2)
    assert mailbox.ids() == [row.message_id], "delivered once"


def test_a_dispatcher_killed_before_hearing_250_resends_with_the_same_message_id(
    settings, engine, smtp, tmp_path
):
    mailbox, address = smtp
    _queue(engine, 1)
    journal = tmp_path / "journal"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "platform_tools",
            "outbox",
            "dispatch",
            "--smtp",
            address,
            "--journal",
            str(journal),
        ],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": settings.database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # The server has the message; the dispatcher dies before the answer reaches it.
    mailbox.on_data = lambda _message: os.kill(process.pid, signal.SIGKILL)
    process.wait(60)
    assert process.returncode == -signal.SIGKILL
    [row] = _rows(engine)
    assert row.status == "pending", "not lost: still waiting to be sent"
    mailbox.on_data = None
    _expire_claims(engine)
    assert _dispatch(settings, address, journal).exit_code == 0
    [row] = _rows(engine)
    assert (row.status, row.attempts) == ("sent", 2)
    # Outside the journal's knowledge: the copy carries the same Message-ID, for the receiver
    # to drop (see platform_tools/outbox/journal.py).
    assert mailbox.ids() == [row.message_id, row.message_id]


def test_a_refused_message_is_retried_with_backoff_and_its_attempts_recorded(
    settings, engine, smtp, tmp_path
):
    mailbox, address = smtp
    _queue(engine, 2)
    mailbox.refuse = {"hr0@company.example"}
    journal = tmp_path / "journal"
    refused = _dispatch(settings, address, journal)
    assert refused.exit_code == 1, refused.output
    first, second = _rows(engine)
    assert (first.status, first.attempts) == ("pending", 1) and "550" in first.last_error
    assert first.next_attempt_at > datetime.now(UTC) + timedelta(seconds=20)
    assert (second.status, second.attempts) == ("sent", 1)
    # Not due yet: the next run leaves it alone.
    assert _dispatch(settings, address, journal).exit_code == 0
    assert _rows(engine)[0].attempts == 1
    mailbox.refuse = set()
    _expire_claims(engine)
    assert _dispatch(settings, address, journal).exit_code == 0
    first, _ = _rows(engine)
    assert (first.status, first.attempts, first.last_error) == ("sent", 2, None)
    assert len(mailbox.messages) == 2


def test_an_unreachable_smtp_server_exits_3_and_keeps_every_message(settings, engine, tmp_path):
    _queue(engine, 3)
    result = _dispatch(settings, f"127.0.0.1:{free_port()}", tmp_path / "journal")
    assert result.exit_code == 3, result.output
    rows = _rows(engine)
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1)] * 3
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).where(outbox_message.c.last_error.is_not(None))
            ).scalar()
            == 3
        )


def test_the_run_writes_backlog_metrics(settings, engine, tmp_path):
    _queue(engine, 2)
    prom = tmp_path / "campus_outbox.prom"
    result = _dispatch(
        settings, f"127.0.0.1:{free_port()}", tmp_path / "journal", "--metrics-file", str(prom)
    )
    assert result.exit_code == 3
    written = prom.read_text()
    assert "campus_outbox_backlog_messages 2.0" in written
    assert "campus_outbox_oldest_unsent_age_seconds" in written
    assert "campus_outbox_dispatch_last_success_timestamp_seconds" not in written
