"""Employer tables: organisations, their requests and employees, validation rules, the outbox.

Hours are BIGINT on both engines: large groups declare tens of millions of hours, and a
field sized for less is the overflow the furlough surge met.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from app.store.metadata import metadata
from app.store.types import Id, UtcDateTime

organisation = Table(
    "organisation",
    metadata,
    Column("id", Id, primary_key=True),
    # The unique index is the duplicate check: sign-up inserts and lets it refuse.
    Column("siret", String(14), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("contact_email", String(254), nullable=False),
    # Hours of every approved request: the rules' per-organisation bound is checked on it.
    Column("approved_hours", BigInteger, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("approved_hours >= 0", name="approved_hours"),
)

# Rules are data, never edited in place: a new decree is a new row with its effective date.
validation_rule = Table(
    "validation_rule",
    metadata,
    Column("id", Id, primary_key=True),
    Column("effective_from", Date, nullable=False),
    Column("max_hours_per_employee", BigInteger, nullable=False),
    Column("max_employees_per_request", Integer, nullable=False),
    Column("max_total_hours_per_organisation", BigInteger, nullable=False),
    # JSON list of step ids, or NULL for every step.
    Column("allowed_step_ids", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_validation_rule_effective", "effective_from", "id"),
)

employer_request = Table(
    "employer_request",
    metadata,
    Column("id", Id, primary_key=True),
    Column("organisation_id", Id, ForeignKey("organisation.id"), nullable=False),
    Column("reference", String(64), nullable=False),
    Column("step_id", Id, ForeignKey("step.id"), nullable=False),
    Column("academic_year", String(9), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("employees", Integer, nullable=False),
    Column("total_hours", BigInteger, nullable=False),
    Column("status", String(16), nullable=False, server_default="submitted"),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("rule_id", Id, ForeignKey("validation_rule.id"), nullable=True),
    # JSON list of {"code", "message"}: why the validator referred it, or staff's reason.
    Column("reasons", Text, nullable=False, server_default="[]"),
    Column("decided_at", UtcDateTime, nullable=True),
    # JSON list of the enrolments approval created, in employee order (migration 0008).
    Column("enrolment_ids", Text, nullable=False, server_default="[]"),
    UniqueConstraint("organisation_id", "reference"),
    CheckConstraint("status IN ('submitted', 'approved', 'referred', 'rejected')", name="status"),
    CheckConstraint("total_hours >= 0", name="total_hours"),
    Index("ix_employer_request_queue", "status", "submitted_at", "id"),
)

request_employee = Table(
    "request_employee",
    metadata,
    Column("request_id", Id, ForeignKey("employer_request.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("external_id", String(64), nullable=False),
    Column("first_name", String(128), nullable=False),
    Column("last_name", String(128), nullable=False),
    Column("email", String(254), nullable=False),
    Column("hours", BigInteger, nullable=False),
    CheckConstraint("hours > 0", name="hours"),
    Index("ix_request_employee_external", "external_id"),
)

# Written in the transaction of the change that causes the message; `platform-tools outbox
# dispatch` sends it. `message_id` is fixed at creation so every retry carries the same one.
outbox_message = Table(
    "outbox_message",
    metadata,
    Column("id", Id, primary_key=True),
    Column("message_id", String(255), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    # A dispatcher's claim: until then no other dispatcher takes the message.
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("last_attempt_at", UtcDateTime, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    CheckConstraint("status IN ('pending', 'sent')", name="status"),
    Index(
        "ix_outbox_message_pending",
        "next_attempt_at",
        "id",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
)
