"""Enrolment and propagation core: curriculum, learners, enrolments, activities, participations.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 03:00:56.539533
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.types import UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learner",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.String(length=128), nullable=False),
        sa.Column("last_name", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learner")),
        sa.UniqueConstraint("external_id", name=op.f("uq_learner_external_id")),
    )
    op.create_table(
        "programme",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme")),
        sa.UniqueConstraint("code", name=op.f("uq_programme_code")),
    )
    op.create_table(
        "propagation_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("participations_created", sa.Integer(), server_default="0", nullable=False),
        sa.Column("participations_removed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("waitlisted", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_propagation_run")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "learner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'staff', 'student', 'employer')", name=op.f("ck_api_token_role")
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_api_token_learner_id_learner")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_table(
        "programme_version",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "programme_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("curriculum_period", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_programme_version_programme_id_programme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_version")),
        sa.UniqueConstraint("code", name=op.f("uq_programme_version_code")),
    )
    with op.batch_alter_table("programme_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_version_programme_id"), ["programme_id"], unique=False
        )

    op.create_table(
        "idempotency_record",
        sa.Column("token_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('running', 'done')", name=op.f("ck_idempotency_record_state")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_token.id"], name=op.f("fk_idempotency_record_token_id_api_token")
        ),
        sa.PrimaryKeyConstraint("token_id", "key", name=op.f("pk_idempotency_record")),
    )
    op.create_table(
        "step",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "programme_version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("year_index", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_version_id"],
            ["programme_version.id"],
            name=op.f("fk_step_programme_version_id_programme_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step")),
        sa.UniqueConstraint(
            "programme_version_id", "code", name=op.f("uq_step_programme_version_id_code")
        ),
    )
    op.create_table(
        "choice_group",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("step_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("min_choices", sa.Integer(), nullable=False),
        sa.Column("max_choices", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "min_choices >= 0 AND max_choices >= min_choices", name=op.f("ck_choice_group_bounds")
        ),
        sa.ForeignKeyConstraint(
            ["step_id"], ["step.id"], name=op.f("fk_choice_group_step_id_step")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_choice_group")),
        sa.UniqueConstraint("step_id", "code", name=op.f("uq_choice_group_step_id_code")),
    )
    op.create_table(
        "enrolment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "learner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("step_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("academic_year", sa.String(length=9), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("cancelled_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('active', 'cancelled')", name=op.f("ck_enrolment_status")),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_enrolment_learner_id_learner")
        ),
        sa.ForeignKeyConstraint(["step_id"], ["step.id"], name=op.f("fk_enrolment_step_id_step")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment")),
    )
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.create_index("ix_enrolment_learner", ["learner_id"], unique=False)
        batch_op.create_index("ix_enrolment_step_year", ["step_id", "academic_year"], unique=False)
        batch_op.create_index(
            "uq_enrolment_active",
            ["learner_id", "step_id", "academic_year"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "learner_group",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("step_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["step_id"], ["step.id"], name=op.f("fk_learner_group_step_id_step")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learner_group")),
        sa.UniqueConstraint("step_id", "code", name=op.f("uq_learner_group_step_id_code")),
    )
    op.create_table(
        "element",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "programme_version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("step_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("optional", sa.Boolean(), nullable=False),
        sa.Column(
            "choice_group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("ects", sa.Integer(), nullable=True),
        sa.Column("hours", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["choice_group_id"],
            ["choice_group.id"],
            name=op.f("fk_element_choice_group_id_choice_group"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["element.id"], name=op.f("fk_element_parent_id_element")
        ),
        sa.ForeignKeyConstraint(
            ["programme_version_id"],
            ["programme_version.id"],
            name=op.f("fk_element_programme_version_id_programme_version"),
        ),
        sa.ForeignKeyConstraint(["step_id"], ["step.id"], name=op.f("fk_element_step_id_step")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_element")),
        sa.UniqueConstraint(
            "programme_version_id", "code", name=op.f("uq_element_programme_version_id_code")
        ),
    )
    with op.batch_alter_table("element", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_element_step_id"), ["step_id"], unique=False)

    op.create_table(
        "enrolment_group",
        sa.Column(
            "enrolment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
            name=op.f("fk_enrolment_group_enrolment_id_enrolment"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["learner_group.id"],
            name=op.f("fk_enrolment_group_group_id_learner_group"),
        ),
        sa.PrimaryKeyConstraint("enrolment_id", "group_id", name=op.f("pk_enrolment_group")),
    )
    op.create_table(
        "activity",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "element_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("academic_year", sa.String(length=9), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name=op.f("ck_activity_capacity")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_activity_period")),
        sa.ForeignKeyConstraint(
            ["element_id"], ["element.id"], name=op.f("fk_activity_element_id_element")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["learner_group.id"], name=op.f("fk_activity_group_id_learner_group")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_activity_element_year", ["element_id", "academic_year"], unique=False
        )

    op.create_table(
        "element_closure",
        sa.Column(
            "ancestor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "descendant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ancestor_id"], ["element.id"], name=op.f("fk_element_closure_ancestor_id_element")
        ),
        sa.ForeignKeyConstraint(
            ["descendant_id"], ["element.id"], name=op.f("fk_element_closure_descendant_id_element")
        ),
        sa.PrimaryKeyConstraint("ancestor_id", "descendant_id", name=op.f("pk_element_closure")),
    )
    with op.batch_alter_table("element_closure", schema=None) as batch_op:
        batch_op.create_index(
            "ix_element_closure_descendant", ["descendant_id", "ancestor_id"], unique=False
        )

    op.create_table(
        "enrolment_choice",
        sa.Column(
            "enrolment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "element_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["element_id"], ["element.id"], name=op.f("fk_enrolment_choice_element_id_element")
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
            name=op.f("fk_enrolment_choice_enrolment_id_enrolment"),
        ),
        sa.PrimaryKeyConstraint("enrolment_id", "element_id", name=op.f("pk_enrolment_choice")),
    )
    op.create_table(
        "enrolment_exemption",
        sa.Column(
            "enrolment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "element_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["element_id"], ["element.id"], name=op.f("fk_enrolment_exemption_element_id_element")
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
            name=op.f("fk_enrolment_exemption_enrolment_id_enrolment"),
        ),
        sa.PrimaryKeyConstraint("enrolment_id", "element_id", name=op.f("pk_enrolment_exemption")),
    )
    op.create_table(
        "participation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "activity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "enrolment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'waitlisted')", name=op.f("ck_participation_status")
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activity.id"], name=op.f("fk_participation_activity_id_activity")
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_participation_enrolment_id_enrolment")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["propagation_run.id"], name=op.f("fk_participation_run_id_propagation_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation")),
        sa.UniqueConstraint(
            "activity_id", "enrolment_id", name=op.f("uq_participation_activity_id_enrolment_id")
        ),
    )
    with op.batch_alter_table("participation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_participation_enrolment", ["enrolment_id", "activity_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("participation", schema=None) as batch_op:
        batch_op.drop_index("ix_participation_enrolment")

    op.drop_table("participation")
    op.drop_table("enrolment_exemption")
    op.drop_table("enrolment_choice")
    with op.batch_alter_table("element_closure", schema=None) as batch_op:
        batch_op.drop_index("ix_element_closure_descendant")

    op.drop_table("element_closure")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_element_year")

    op.drop_table("activity")
    op.drop_table("enrolment_group")
    with op.batch_alter_table("element", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_element_step_id"))

    op.drop_table("element")
    op.drop_table("learner_group")
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_enrolment_active",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index("ix_enrolment_step_year")
        batch_op.drop_index("ix_enrolment_learner")

    op.drop_table("enrolment")
    op.drop_table("choice_group")
    op.drop_table("step")
    op.drop_table("idempotency_record")
    with op.batch_alter_table("programme_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_version_programme_id"))

    op.drop_table("programme_version")
    op.drop_table("api_token")
    op.drop_table("propagation_run")
    op.drop_table("programme")
    op.drop_table("learner")
