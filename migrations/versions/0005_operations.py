"""Operations: heartbeats, and indexes for retention

Revision ID: 0005
Revises: 0008
Create Date: 2026-11-28 05:30:00

"""

import sqlalchemy as sa
from alembic import op


revision = "0005"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index("ix_unit_positions_received", "unit_positions", ["received_at"])
    op.create_index("ix_idempotency_created", "idempotency_keys", ["created_at"])
    # events.at is indexed by migration 0009 (the audit view); retention uses it too.


def downgrade():
    op.drop_index("ix_idempotency_created", table_name="idempotency_keys")
    op.drop_index("ix_unit_positions_received", table_name="unit_positions")
    op.drop_table("heartbeats")
