"""Exam registration tables: periods, modalities, centres, exams, registrations, payments and
the certificate signatory. Declared on the one `metadata` of app.store.schema."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)

from app.store.metadata import metadata
from app.store.types import Id, UtcDateTime

exam_period = Table(
    "exam_period",
    metadata,
    Column("id", Id, primary_key=True),
    Column("academic_year", String(9), nullable=False),
    # 1 and 2 are the ordinary periods, 3 the resit period of the same year.
    Column("number", Integer, nullable=False),
    Column("opens_at", UtcDateTime, nullable=False),
    Column("closes_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False, server_default="planned"),
    UniqueConstraint("academic_year", "number"),
    CheckConstraint("number IN (1, 2, 3)", name="number"),
    CheckConstraint("closes_at > opens_at", name="window"),
    CheckConstraint("status IN ('planned', 'open', 'closed', 'archived')", name="status"),
)

exam_modality = Table(
    "exam_modality",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("label", String(255), nullable=False),
    # Money in integer cents, 64-bit.
    Column("fixed_fee_cents", BigInteger, nullable=False),
    Column("fee_per_hour_cents", BigInteger, nullable=False),
    Column("needs_centre", Boolean, nullable=False),
    CheckConstraint("fixed_fee_cents >= 0 AND fee_per_hour_cents >= 0", name="fees"),
)

exam_centre = Table(
    "exam_centre",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("label", String(255), nullable=False),
    Column("modality_id", Id, ForeignKey("exam_modality.id"), nullable=False, index=True),
    Column("capacity", Integer, nullable=False),
    CheckConstraint("capacity >= 0", name="capacity"),
)

exam = Table(
    "exam",
    metadata,
    Column("id", Id, primary_key=True),
    Column("element_id", Id, ForeignKey("element.id"), nullable=False),
    Column("period_id", Id, ForeignKey("exam_period.id"), nullable=False, index=True),
    Column("supervised_hours", Integer, nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    # The room at the main campus (modalities without centres), and its seats; null: no limit.
    Column("room", String(255), nullable=True),
    Column("capacity", Integer, nullable=True),
    UniqueConstraint("period_id", "element_id"),
    CheckConstraint("supervised_hours BETWEEN 1 AND 24", name="hours"),
    CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity"),
)

exam_allowed_modality = Table(
    "exam_allowed_modality",
    metadata,
    Column("exam_id", Id, ForeignKey("exam.id"), primary_key=True),
    Column("modality_id", Id, ForeignKey("exam_modality.id"), primary_key=True),
)

exam_registration = Table(
    "exam_registration",
    metadata,
    Column("id", Id, primary_key=True),
    Column("learner_id", Id, ForeignKey("learner.id"), nullable=False),
    Column("period_id", Id, ForeignKey("exam_period.id"), nullable=False, index=True),
    Column("modality_id", Id, ForeignKey("exam_modality.id"), nullable=False),
    Column("centre_id", Id, ForeignKey("exam_centre.id"), nullable=True),
    Column("status", String(16), nullable=False, server_default="draft"),
    # Set at submission, from the modality's prices and the exams sat this period.
    Column("fee_cents", BigInteger, nullable=True),
    Column("rejection_reason", String(1000), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("submitted_at", UtcDateTime, nullable=True),
    Column("verified_at", UtcDateTime, nullable=True),
    Column("paid_at", UtcDateTime, nullable=True),
    Column("final_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    CheckConstraint(
        "status IN ('draft', 'submitted', 'verified', 'paid', 'final', 'rejected', 'cancelled')",
        name="status",
    ),
    Index("ix_exam_registration_learner", "learner_id"),
    # One live registration per learner and period; rejected and cancelled ones are history.
    Index(
        "uq_exam_registration_live",
        "learner_id",
        "period_id",
        unique=True,
        sqlite_where=text("status <> 'rejected' AND status <> 'cancelled'"),
        postgresql_where=text("status <> 'rejected' AND status <> 'cancelled'"),
    ),
)

# The exams a registration names: sat this period, or deferred to the resit period.
exam_registration_exam = Table(
    "exam_registration_exam",
    metadata,
    Column("registration_id", Id, ForeignKey("exam_registration.id"), primary_key=True),
    Column("exam_id", Id, ForeignKey("exam.id"), primary_key=True),
    Column("deferred", Boolean, nullable=False),
    Index("ix_exam_registration_exam_exam", "exam_id", "registration_id"),
)

# Who was there: staff record it from the signed attendance sheet; certificates need it.
exam_attendance = Table(
    "exam_attendance",
    metadata,
    Column("registration_id", Id, ForeignKey("exam_registration.id"), primary_key=True),
    Column("exam_id", Id, ForeignKey("exam.id"), primary_key=True),
    Column("recorded_at", UtcDateTime, nullable=False),
)

# A payment's reference is unique: recording it again is recognised and changes nothing.
exam_payment = Table(
    "exam_payment",
    metadata,
    Column("id", Id, primary_key=True),
    Column("registration_id", Id, ForeignKey("exam_registration.id"), nullable=False, index=True),
    Column("reference", String(128), nullable=False, unique=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)

# The one signatory of attendance certificates (row id 1), set by an admin.
certificate_signatory = Table(
    "certificate_signatory",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(255), nullable=False),
    Column("title", String(255), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("id = 1", name="single"),
)
