"""Employer requests: organisations, requests and their employees, validation rules, outbox.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:35:40.681105
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.types import UtcDateTime

revision: str = "0004"
# Follows the newest revision on main when this branch last merged it (0002); the chain is
# set again when the branches are integrated.
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("siret", sa.String(length=14), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("approved_hours", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("approved_hours >= 0", name=op.f("ck_organisation_approved_hours")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("siret", name=op.f("uq_organisation_siret")),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("claimed_until", UtcDateTime(), nullable=True),
        sa.Column("last_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sent')", name=op.f("ck_outbox_message_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_message_id")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_message_pending",
            ["next_attempt_at", "id"],
            unique=False,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "validation_rule",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("max_hours_per_employee", sa.BigInteger(), nullable=False),
        sa.Column("max_employees_per_request", sa.Integer(), nullable=False),
        sa.Column("max_total_hours_per_organisation", sa.BigInteger(), nullable=False),
        sa.Column("allowed_step_ids", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_rule")),
    )
    with op.batch_alter_table("validation_rule", schema=None) as batch_op:
        batch_op.create_index(
            "ix_validation_rule_effective", ["effective_from", "id"], unique=False
        )

    op.create_table(
        "employer_request",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("step_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("academic_year", sa.String(length=9), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("employees", sa.Integer(), nullable=False),
        sa.Column("total_hours", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="submitted", nullable=False),
        sa.Column("submitted_at", UtcDateTime(), nullable=False),
        sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reasons", sa.Text(), server_default="[]", nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('submitted', 'approved', 'referred', 'rejected')",
            name=op.f("ck_employer_request_status"),
        ),
        sa.CheckConstraint("total_hours >= 0", name=op.f("ck_employer_request_total_hours")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_employer_request_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["validation_rule.id"],
            name=op.f("fk_employer_request_rule_id_validation_rule"),
        ),
        sa.ForeignKeyConstraint(
            ["step_id"], ["step.id"], name=op.f("fk_employer_request_step_id_step")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employer_request")),
        sa.UniqueConstraint(
            "organisation_id",
            "reference",
            name=op.f("uq_employer_request_organisation_id_reference"),
        ),
    )
    with op.batch_alter_table("employer_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_employer_request_queue", ["status", "submitted_at", "id"], unique=False
        )

    op.create_table(
        "request_employee",
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.String(length=128), nullable=False),
        sa.Column("last_name", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("hours", sa.BigInteger(), nullable=False),
        sa.Column(
            "learner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "enrolment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.CheckConstraint("hours > 0", name=op.f("ck_request_employee_hours")),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
            name=op.f("fk_request_employee_enrolment_id_enrolment"),
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_request_employee_learner_id_learner")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["employer_request.id"],
            name=op.f("fk_request_employee_request_id_employer_request"),
        ),
        sa.PrimaryKeyConstraint("request_id", "position", name=op.f("pk_request_employee")),
    )
    with op.batch_alter_table("request_employee", schema=None) as batch_op:
        batch_op.create_index("ix_request_employee_external", ["external_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("request_employee", schema=None) as batch_op:
        batch_op.drop_index("ix_request_employee_external")

    op.drop_table("request_employee")
    with op.batch_alter_table("employer_request", schema=None) as batch_op:
        batch_op.drop_index("ix_employer_request_queue")

    op.drop_table("employer_request")
    with op.batch_alter_table("validation_rule", schema=None) as batch_op:
        batch_op.drop_index("ix_validation_rule_effective")

    op.drop_table("validation_rule")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_message_pending",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.drop_table("outbox_message")
    op.drop_table("organisation")
