"""Tokens may expire; idempotency records are purged by age.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.types import UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.add_column(sa.Column("expires_at", UtcDateTime(), nullable=True))
    with op.batch_alter_table("idempotency_record") as batch_op:
        batch_op.create_index("ix_idempotency_record_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotency_record") as batch_op:
        batch_op.drop_index("ix_idempotency_record_created_at")
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.drop_column("expires_at")
