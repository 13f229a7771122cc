"""Exam registration: periods, modalities, centres, exams, registrations, payments, signatory.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:36:02.117752
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.types import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificate_signatory",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_certificate_signatory_single")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_signatory")),
    )
    op.create_table(
        "exam_modality",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("fixed_fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("fee_per_hour_cents", sa.BigInteger(), nullable=False),
        sa.Column("needs_centre", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "fixed_fee_cents >= 0 AND fee_per_hour_cents >= 0", name=op.f("ck_exam_modality_fees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_modality")),
        sa.UniqueConstraint("code", name=op.f("uq_exam_modality_code")),
    )
    op.create_table(
        "exam_period",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("academic_year", sa.String(length=9), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("opens_at", UtcDateTime(), nullable=False),
        sa.Column("closes_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="planned", nullable=False),
        sa.CheckConstraint(
            "status IN ('planned', 'open', 'closed', 'archived')",
            name=op.f("ck_exam_period_status"),
        ),
        sa.CheckConstraint("closes_at > opens_at", name=op.f("ck_exam_period_window")),
        sa.CheckConstraint("number IN (1, 2, 3)", name=op.f("ck_exam_period_number")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_period")),
        sa.UniqueConstraint(
            "academic_year", "number", name=op.f("uq_exam_period_academic_year_number")
        ),
    )
    op.create_table(
        "exam_centre",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column(
            "modality_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_exam_centre_capacity")),
        sa.ForeignKeyConstraint(
            ["modality_id"],
            ["exam_modality.id"],
            name=op.f("fk_exam_centre_modality_id_exam_modality"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_centre")),
        sa.UniqueConstraint("code", name=op.f("uq_exam_centre_code")),
    )
    with op.batch_alter_table("exam_centre", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exam_centre_modality_id"), ["modality_id"], unique=False
        )

    op.create_table(
        "exam_registration",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "learner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "period_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "modality_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("centre_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("fee_cents", sa.BigInteger(), nullable=True),
        sa.Column("rejection_reason", sa.String(length=1000), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("submitted_at", UtcDateTime(), nullable=True),
        sa.Column("verified_at", UtcDateTime(), nullable=True),
        sa.Column("paid_at", UtcDateTime(), nullable=True),
        sa.Column("final_at", UtcDateTime(), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'verified', 'paid', 'final', 'rejected', "
            "'cancelled')",
            name=op.f("ck_exam_registration_status"),
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["exam_centre.id"],
            name=op.f("fk_exam_registration_centre_id_exam_centre"),
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_exam_registration_learner_id_learner")
        ),
        sa.ForeignKeyConstraint(
            ["modality_id"],
            ["exam_modality.id"],
            name=op.f("fk_exam_registration_modality_id_exam_modality"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["exam_period.id"],
            name=op.f("fk_exam_registration_period_id_exam_period"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_registration")),
    )
    with op.batch_alter_table("exam_registration", schema=None) as batch_op:
        batch_op.create_index("ix_exam_registration_learner", ["learner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_exam_registration_period_id"), ["period_id"], unique=False
        )
        batch_op.create_index(
            "uq_exam_registration_live",
            ["learner_id", "period_id"],
            unique=True,
            sqlite_where=sa.text("status <> 'rejected' AND status <> 'cancelled'"),
            postgresql_where=sa.text("status <> 'rejected' AND status <> 'cancelled'"),
        )

    op.create_table(
        "exam_payment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "registration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["exam_registration.id"],
            name=op.f("fk_exam_payment_registration_id_exam_registration"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_payment")),
        sa.UniqueConstraint("reference", name=op.f("uq_exam_payment_reference")),
    )
    with op.batch_alter_table("exam_payment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exam_payment_registration_id"), ["registration_id"], unique=False
        )

    op.create_table(
        "exam",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "element_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "period_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("supervised_hours", sa.Integer(), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("room", sa.String(length=255), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name=op.f("ck_exam_capacity")),
        sa.CheckConstraint("supervised_hours BETWEEN 1 AND 24", name=op.f("ck_exam_hours")),
        sa.ForeignKeyConstraint(
            ["element_id"], ["element.id"], name=op.f("fk_exam_element_id_element")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["exam_period.id"], name=op.f("fk_exam_period_id_exam_period")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam")),
        sa.UniqueConstraint("period_id", "element_id", name=op.f("uq_exam_period_id_element_id")),
    )
    with op.batch_alter_table("exam", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exam_period_id"), ["period_id"], unique=False)

    op.create_table(
        "exam_allowed_modality",
        sa.Column("exam_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "modality_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["exam_id"], ["exam.id"], name=op.f("fk_exam_allowed_modality_exam_id_exam")
        ),
        sa.ForeignKeyConstraint(
            ["modality_id"],
            ["exam_modality.id"],
            name=op.f("fk_exam_allowed_modality_modality_id_exam_modality"),
        ),
        sa.PrimaryKeyConstraint("exam_id", "modality_id", name=op.f("pk_exam_allowed_modality")),
    )
    op.create_table(
        "exam_registration_exam",
        sa.Column(
            "registration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("exam_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("deferred", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exam_id"], ["exam.id"], name=op.f("fk_exam_registration_exam_exam_id_exam")
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["exam_registration.id"],
            name=op.f("fk_exam_registration_exam_registration_id_exam_registration"),
        ),
        sa.PrimaryKeyConstraint(
            "registration_id", "exam_id", name=op.f("pk_exam_registration_exam")
        ),
    )
    with op.batch_alter_table("exam_registration_exam", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exam_registration_exam_exam", ["exam_id", "registration_id"], unique=False
        )
    op.create_table(
        "exam_attendance",
        sa.Column(
            "registration_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("exam_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exam_id"], ["exam.id"], name=op.f("fk_exam_attendance_exam_id_exam")
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["exam_registration.id"],
            name=op.f("fk_exam_attendance_registration_id_exam_registration"),
        ),
        sa.PrimaryKeyConstraint("registration_id", "exam_id", name=op.f("pk_exam_attendance")),
    )


def downgrade() -> None:
    op.drop_table("exam_attendance")
    with op.batch_alter_table("exam_registration_exam", schema=None) as batch_op:
        batch_op.drop_index("ix_exam_registration_exam_exam")

    op.drop_table("exam_registration_exam")
    op.drop_table("exam_allowed_modality")
    with op.batch_alter_table("exam", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exam_period_id"))

    op.drop_table("exam")
    with op.batch_alter_table("exam_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exam_payment_registration_id"))

    op.drop_table("exam_payment")
    with op.batch_alter_table("exam_registration", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_exam_registration_live",
            sqlite_where=sa.text("status <> 'rejected' AND status <> 'cancelled'"),
            postgresql_where=sa.text("status <> 'rejected' AND status <> 'cancelled'"),
        )
        batch_op.drop_index(batch_op.f("ix_exam_registration_period_id"))
        batch_op.drop_index("ix_exam_registration_learner")

    op.drop_table("exam_registration")
    with op.batch_alter_table("exam_centre", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exam_centre_modality_id"))

    op.drop_table("exam_centre")
    op.drop_table("exam_period")
    op.drop_table("exam_modality")
    op.drop_table("certificate_signatory")
