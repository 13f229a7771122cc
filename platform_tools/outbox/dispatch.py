"""Send the outbox over SMTP: claim a batch, send each with its fixed Message-ID, journal the
acceptance, mark it sent; a refused message is retried later with backoff."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import Engine

from app import clock
from app.services import outbox
from app.store.engine import read_transaction, write_transaction
from platform_tools.outbox.journal import SentJournal
from platform_tools.run.errors import EnvironmentFailure

SMTP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    sender: str


@dataclass
class DispatchReport:
    """What one dispatch run did."""

    sent: int = 0
    already_accepted: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _email(message: outbox.Claimed, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    # Fixed when the message was queued: a resend carries the same one, so it can be deduped.
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(clock.now())
    email.set_content(message.body)
    return email


def dispatch(
    engine: Engine,
    target: SmtpTarget,
    journal: SentJournal,
    batch: int,
    lease: timedelta,
) -> DispatchReport:
    """Send every due message, `batch` at a time, until none is due."""
    report = DispatchReport()
    while True:
        with write_transaction(engine) as conn:
            claimed = outbox.claim(conn, batch, lease)
        if not claimed:
            return report
        _send_batch(engine, target, journal, claimed, report)


def _send_batch(
    engine: Engine,
    target: SmtpTarget,
    journal: SentJournal,
    claimed: list[outbox.Claimed],
    report: DispatchReport,
) -> None:
    known = [m for m in claimed if journal.accepted(m.message_id)]
    if known:
        # Accepted before a crash, never marked: mark, do not send twice.
        with write_transaction(engine) as conn:
            outbox.mark_sent(conn, [m.id for m in known])
        report.already_accepted += len(known)
    to_send = [m for m in claimed if not journal.accepted(m.message_id)]
    if not to_send:
        return
    try:
        smtp = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS)
    except OSError as exc:
        _fail_all(engine, to_send, f"SMTP {target.host}:{target.port} unreachable: {exc}")
        raise EnvironmentFailure(
            f"SMTP server {target.host}:{target.port} does not answer: {exc}"
        ) from None
    with smtp:
        for position, message in enumerate(to_send):
            try:
                smtp.send_message(_email(message, target.sender))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                with write_transaction(engine) as conn:
                    outbox.mark_failed(conn, message, f"refused: {exc}")
                report.failed += 1
                report.errors.append(f"{message.message_id}: {exc}")
                continue
            except (OSError, smtplib.SMTPException) as exc:
                # The connection is gone: this message and the rest wait for the next run.
                _fail_all(engine, to_send[position:], f"connection lost: {exc}")
                report.failed += len(to_send) - position
                raise EnvironmentFailure(
                    f"SMTP server {target.host}:{target.port} dropped the connection: {exc}"
                ) from None
            journal.record(message.message_id)
            with write_transaction(engine) as conn:
                outbox.mark_sent(conn, [message.id])
            report.sent += 1


def _fail_all(engine: Engine, messages: list[outbox.Claimed], error: str) -> None:
    with write_transaction(engine) as conn:
        for message in messages:
            outbox.mark_failed(conn, message, error)


def current_backlog(engine: Engine) -> outbox.Backlog:
    """The unsent messages after the run."""
    with read_transaction(engine) as conn:
        return outbox.backlog(conn)
