"""A year rollover records which activity it made from which source slot.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.types import Id, UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity_rollover",
        sa.Column("source_id", Id, nullable=False),
        sa.Column("target_year", sa.String(length=9), nullable=False),
        sa.Column("activity_id", Id, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source_id", "target_year", name=op.f("pk_activity_rollover")),
    )


def downgrade() -> None:
    op.drop_table("activity_rollover")
