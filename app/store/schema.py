"""The tables. Migrations under store/migrations are the versioned history of this file."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
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

# Declared in its own module so that other table modules share it without an import cycle.
from app.store.metadata import metadata
from app.store.types import Id, UtcDateTime

# --- curriculum -----------------------------------------------------------------------------

programme = Table(
    "programme",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("label", String(255), nullable=False),
)

programme_version = Table(
    "programme_version",
    metadata,
    Column("id", Id, primary_key=True),
    Column("programme_id", Id, ForeignKey("programme.id"), nullable=False, index=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("label", String(255), nullable=False),
    Column("curriculum_period", String(9), nullable=False),
)

step = Table(
    "step",
    metadata,
    Column("id", Id, primary_key=True),
    Column("programme_version_id", Id, ForeignKey("programme_version.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("label", String(255), nullable=False),
    Column("year_index", Integer, nullable=False),
    UniqueConstraint("programme_version_id", "code"),
)

learner_group = Table(
    "learner_group",
    metadata,
    Column("id", Id, primary_key=True),
    Column("step_id", Id, ForeignKey("step.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("label", String(255), nullable=False),
    UniqueConstraint("step_id", "code"),
)

choice_group = Table(
    "choice_group",
    metadata,
    Column("id", Id, primary_key=True),
    Column("step_id", Id, ForeignKey("step.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("min_choices", Integer, nullable=False),
    Column("max_choices", Integer, nullable=False),
    UniqueConstraint("step_id", "code"),
    CheckConstraint("min_choices >= 0 AND max_choices >= min_choices", name="bounds"),
)

element = Table(
    "element",
    metadata,
    Column("id", Id, primary_key=True),
    Column("programme_version_id", Id, ForeignKey("programme_version.id"), nullable=False),
    Column("step_id", Id, ForeignKey("step.id"), nullable=False, index=True),
    Column("parent_id", Id, ForeignKey("element.id"), nullable=True),
    Column("code", String(64), nullable=False),
    Column("label", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("optional", Boolean, nullable=False),
    Column("choice_group_id", Id, ForeignKey("choice_group.id"), nullable=True),
    Column("ects", Integer, nullable=True),
    Column("hours", Integer, nullable=True),
    UniqueConstraint("programme_version_id", "code"),
)

# Every (ancestor, descendant) pair of the element trees, each element its own ancestor at
# depth 0: "every element on the path" becomes one join instead of a recursive walk.
element_closure = Table(
    "element_closure",
    metadata,
    Column("ancestor_id", Id, ForeignKey("element.id"), primary_key=True),
    Column("descendant_id", Id, ForeignKey("element.id"), primary_key=True),
    Column("depth", Integer, nullable=False),
    Index("ix_element_closure_descendant", "descendant_id", "ancestor_id"),
)

# --- people and enrolments ------------------------------------------------------------------

learner = Table(
    "learner",
    metadata,
    Column("id", Id, primary_key=True),
    Column("external_id", String(64), nullable=False, unique=True),
    Column("first_name", String(128), nullable=False),
    Column("last_name", String(128), nullable=False),
    Column("email", String(254), nullable=False),
)

enrolment = Table(
    "enrolment",
    metadata,
    Column("id", Id, primary_key=True),
    Column("learner_id", Id, ForeignKey("learner.id"), nullable=False),
    Column("step_id", Id, ForeignKey("step.id"), nullable=False),
    Column("academic_year", String(9), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime, nullable=True),
    CheckConstraint("status IN ('active', 'cancelled')", name="status"),
    # A step's cohort for a year in learner order: the schedule-conflict report walks it.
    Index("ix_enrolment_step_year", "step_id", "academic_year", "learner_id"),
    Index("ix_enrolment_learner", "learner_id"),
    # One active enrolment per learner, step and year; cancelled ones are kept as history.
    Index(
        "uq_enrolment_active",
        "learner_id",
        "step_id",
        "academic_year",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
)

enrolment_group = Table(
    "enrolment_group",
    metadata,
    Column("enrolment_id", Id, ForeignKey("enrolment.id"), primary_key=True),
    Column("group_id", Id, ForeignKey("learner_group.id"), primary_key=True),
)

enrolment_choice = Table(
    "enrolment_choice",
    metadata,
    Column("enrolment_id", Id, ForeignKey("enrolment.id"), primary_key=True),
    Column("element_id", Id, ForeignKey("element.id"), primary_key=True),
)

enrolment_exemption = Table(
    "enrolment_exemption",
    metadata,
    Column("enrolment_id", Id, ForeignKey("enrolment.id"), primary_key=True),
    Column("element_id", Id, ForeignKey("element.id"), primary_key=True),
)

# --- teaching activities and participations -------------------------------------------------

activity = Table(
    "activity",
    metadata,
    Column("id", Id, primary_key=True),
    Column("element_id", Id, ForeignKey("element.id"), nullable=False),
    Column("academic_year", String(9), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("group_id", Id, ForeignKey("learner_group.id"), nullable=True),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("capacity", Integer, nullable=True),
    CheckConstraint("ends_at > starts_at", name="period"),
    CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity"),
    Index("ix_activity_element_year", "element_id", "academic_year"),
)

# Which activity a year rollover made from which source slot. A re-run of the rollover reads
# this instead of matching slots, so an activity staff moved or removed since is not made again.
# Plain pointers, not foreign keys: carried activities stay deletable like any other.
activity_rollover = Table(
    "activity_rollover",
    metadata,
    Column("source_id", Id, primary_key=True),
    Column("target_year", String(9), primary_key=True),
    Column("activity_id", Id, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# `id` is the order of arrival: seats and the waitlist are settled by it.
# `run_id` names the propagation that wrote the row (an audit pointer, not a foreign key):
# only propagation writes it, from the run row it has just created, and a foreign-key check
# on every participation cost about a sixth of a large batch on PostgreSQL.
participation = Table(
    "participation",
    metadata,
    Column("id", Id, primary_key=True),
    Column("activity_id", Id, ForeignKey("activity.id"), nullable=False),
    Column("enrolment_id", Id, ForeignKey("enrolment.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("run_id", Id, nullable=False),
    UniqueConstraint("activity_id", "enrolment_id"),
    CheckConstraint("status IN ('active', 'waitlisted')", name="status"),
    Index("ix_participation_enrolment", "enrolment_id", "activity_id"),
    # Who waits, per activity: "does anyone wait here?" is then one lookup in a small index
    # instead of a walk over every seated participant.
    Index(
        "ix_participation_waitlisted",
        "activity_id",
        "id",
        sqlite_where=text("status = 'waitlisted'"),
        postgresql_where=text("status = 'waitlisted'"),
    ),
)

# One row per propagation: what triggered it, when, and what it changed (an audit trail).
propagation_run = Table(
    "propagation_run",
    metadata,
    Column("id", Id, primary_key=True),
    Column("trigger", String(32), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("participations_created", Integer, nullable=False, server_default="0"),
    Column("participations_removed", Integer, nullable=False, server_default="0"),
    Column("waitlisted", Integer, nullable=False, server_default="0"),
)

# --- access ---------------------------------------------------------------------------------

api_token = Table(
    "api_token",
    metadata,
    Column("id", Id, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("name", String(128), nullable=False),
    Column("learner_id", Id, ForeignKey("learner.id"), nullable=True),
    Column("organisation_id", Id, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),
    CheckConstraint("role IN ('admin', 'staff', 'student', 'employer')", name="role"),
)

idempotency_record = Table(
    "idempotency_record",
    metadata,
    Column("token_id", Id, ForeignKey("api_token.id"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("state IN ('running', 'done')", name="state"),
    Index("ix_idempotency_record_created_at", "created_at"),
)

# Exam registration tables live in their own module, on this same metadata.
# The employer tables live in their own module on the same metadata.
from app.store import schema_employers as _schema_employers  # noqa: E402, F401
from app.store import schema_exams  # noqa: E402, F401
