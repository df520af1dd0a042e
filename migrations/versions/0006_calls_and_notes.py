"""Calls linked to their incident, running notes, events addressed to more units

Every existing ticket gets one call, from its caller fields.

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-28 04:51:10.865791

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('caller_name', sa.String(length=120), nullable=True),
    sa.Column('caller_phone', sa.String(length=20), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('taken_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['taken_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_phone_received', ['caller_phone', 'received_at'], unique=False)
        batch_op.create_index('ix_calls_ticket', ['ticket_id', 'id'], unique=False)

    # Each ticket logged so far was one call: record it from the ticket's caller fields.
    op.execute(
        "INSERT INTO calls (ticket_id, channel, caller_name, caller_phone, text, received_at,"
        " taken_by_id) SELECT id, channel, caller_name, caller_phone, COALESCE(summary, ''),"
        " created_at, created_by_id FROM tickets ORDER BY id"
    )

    op.create_table('ticket_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author_user_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_user_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_notes', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_notes_ticket', ['ticket_id', 'id'], unique=False)

    op.create_table('event_recipients',
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'unit_id')
    )
    with op.batch_alter_table('event_recipients', schema=None) as batch_op:
        batch_op.create_index('ix_event_recipients_unit', ['unit_id', 'event_id'], unique=False)

    # Earlier events reach the units that were on their ticket at the time, as new ones do
    # (services/events.py): an offer or assignment open then, or ended moments before.
    ended_within = (
        "a.ended_at >= e.at - interval '5 seconds'"
        if op.get_bind().dialect.name == 'postgresql'
        else "a.ended_at >= datetime(e.at, '-5 seconds')"
    )
    op.execute(
        "INSERT INTO event_recipients (event_id, unit_id) "
        "SELECT DISTINCT e.id, a.unit_id FROM events e "
        "JOIN assignments a ON a.ticket_id = e.ticket_id "
        "WHERE a.offered_at <= e.at AND (a.ended_at IS NULL OR " + ended_within + ") "
        "AND (e.unit_id IS NULL OR e.unit_id <> a.unit_id)"
    )


def downgrade():
    with op.batch_alter_table('event_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_event_recipients_unit')

    op.drop_table('event_recipients')
    with op.batch_alter_table('ticket_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_notes_ticket')

    op.drop_table('ticket_notes')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_ticket')
        batch_op.drop_index('ix_calls_phone_received')

    op.drop_table('calls')
