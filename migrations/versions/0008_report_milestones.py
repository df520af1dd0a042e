"""report milestones: when a call rang and was answered, the accepted offer, the Polsek

Revision ID: 0008
Revises: 0003

Tickets keep every milestone a report needs (see models/ticket.py). New columns:

- ``received_at``, ``answered_at``: from the phone system or the console; unknown for the
  tickets logged before (left empty: nothing recorded them);
- ``accepted_offer_at``: when the first offer that a unit went on to accept was made;
  backfilled from the assignments (an assignment was accepted when it has a response and
  was not declined);
- ``sector_id``: the Polsek whose station is nearest to the ticket's location; backfilled
  the same way. Added with ``ALTER TABLE ... ADD COLUMN`` and no foreign key, so that SQLite
  never rebuilds the table (see 0002).
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0009'
branch_labels = None
depends_on = None

COLUMNS = ('received_at', 'answered_at', 'accepted_offer_at')

BACKFILL_ACCEPTED_OFFER = """
UPDATE tickets SET accepted_offer_at = (
    SELECT a.offered_at FROM assignments a
    WHERE a.ticket_id = tickets.id
      AND a.responded_at IS NOT NULL AND a.status <> 'declined'
    ORDER BY a.responded_at, a.id
    LIMIT 1
)
WHERE acknowledged_at IS NOT NULL
"""

# The nearest station by squared degrees (longitude shortened by cos(8 deg), about right
# across Java): good enough to place an old ticket in its Polsek.
DISTANCE = "(({s}.lat - tickets.lat) * ({s}.lat - tickets.lat)" \
    " + ({s}.lon - tickets.lon) * ({s}.lon - tickets.lon) * 0.98)"
BACKFILL_SECTOR = f"""
UPDATE tickets SET sector_id = (
    SELECT MIN(s.id) FROM sectors s
    WHERE s.lat IS NOT NULL AND s.lon IS NOT NULL
      AND {DISTANCE.format(s='s')} = (
        SELECT MIN({DISTANCE.format(s='n')}) FROM sectors n
        WHERE n.lat IS NOT NULL AND n.lon IS NOT NULL
      )
)
WHERE lat IS NOT NULL AND lon IS NOT NULL
"""


def upgrade():
    for name in COLUMNS:
        op.add_column('tickets', sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.add_column('tickets', sa.Column('sector_id', sa.Integer(), nullable=True))
    op.create_index('ix_tickets_sector_id', 'tickets', ['sector_id'], unique=False)
    op.execute(BACKFILL_ACCEPTED_OFFER)
    op.execute(BACKFILL_SECTOR)


def downgrade():
    op.drop_index('ix_tickets_sector_id', table_name='tickets')
    for name in ('sector_id', *COLUMNS):
        op.drop_column('tickets', name)
