"""Search index on tickets; agencies and hand-offs; call-backs and their attempts

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-28 05:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0003"
branch_labels = None
depends_on = None

# The same expression as callcenter.services.search.TICKET_TSV (the query must match it).
TICKET_TSV = (
    "to_tsvector('simple'::regconfig, (COALESCE(summary, ''::text) || ' '::text)"
    " || COALESCE(address, ''::character varying)::text)"
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_tickets_search ON tickets USING gin ({TICKET_TSV})")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_tickets_search")
