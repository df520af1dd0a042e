"""EIDO: incidents taken in from other centers, one row per EIDO incident id

Revision ID: 0011
Revises: 0005
Create Date: 2026-11-28 08:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "eido_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("eido_id", sa.String(length=255), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("last_update_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "components",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("eido_id", name="uq_eido_links_eido_id"),
    )
    op.create_index("ix_eido_links_ticket", "eido_links", ["ticket_id"])


def downgrade():
    op.drop_index("ix_eido_links_ticket", table_name="eido_links")
    op.drop_table("eido_links")
