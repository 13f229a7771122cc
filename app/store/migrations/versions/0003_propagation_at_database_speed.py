"""Propagation at database speed: participation.run_id is an audit pointer without a
foreign-key check, and a partial index finds the waitlisted participants of an activity.
Schedule conflicts: a step's cohort for a year is indexed in learner order.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WAITLISTED = "status = 'waitlisted'"


def upgrade() -> None:
    # SQLite cannot drop a constraint in place: batch mode rebuilds the table.
    with op.batch_alter_table("participation") as batch:
        batch.drop_constraint("fk_participation_run_id_propagation_run", type_="foreignkey")
    op.create_index(
        "ix_participation_waitlisted",
        "participation",
        ["activity_id", "id"],
        sqlite_where=sa.text(_WAITLISTED),
        postgresql_where=sa.text(_WAITLISTED),
    )
    op.drop_index("ix_enrolment_step_year", table_name="enrolment")
    op.create_index(
        "ix_enrolment_step_year", "enrolment", ["step_id", "academic_year", "learner_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_enrolment_step_year", table_name="enrolment")
    op.create_index("ix_enrolment_step_year", "enrolment", ["step_id", "academic_year"])
    op.drop_index("ix_participation_waitlisted", table_name="participation")
    with op.batch_alter_table("participation") as batch:
        batch.create_foreign_key(
            "fk_participation_run_id_propagation_run", "propagation_run", ["run_id"], ["id"]
        )
