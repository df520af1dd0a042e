"""incidents: several units per ticket, backup, the officer in danger

Revision ID: 0002
Revises: 0001

A ticket needs ``units_needed`` units (1..10); each active assignment holds one numbered slot.
The database refuses, on SQLite and on PostgreSQL alike:

- two active assignments of one unit (``uq_assignments_active_unit``, kept from 0001);
- the same unit twice on one ticket while active (``uq_assignments_active_ticket_unit``);
- two active assignments in one slot of a ticket (``uq_assignments_active_ticket_slot``);
- an active slot above the ticket's ``units_needed``, and lowering ``units_needed`` below an
  active slot (the triggers below), so a ticket never holds more active assignments than
  it needs;
- a second open emergency of one unit (``uq_emergencies_open_unit``).

Columns are added with ``ALTER TABLE ... ADD COLUMN`` on both databases (SQLite takes a
column's CHECK there) and none of them is a foreign key, so that no table is ever rebuilt:
SQLite enforces the foreign keys, and a rebuild would delete through them. The emergency,
which refers to units and users, is a table of its own.

Downgrading refuses while a ticket holds several active assignments (0001 allowed one).
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

ACTIVE = "status IN ('offered', 'accepted')"
OPEN_EMERGENCY = "ended_at IS NULL"
WAITING = "waiting_since IS NOT NULL"

SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER trg_assignments_slot_insert BEFORE INSERT ON assignments
    WHEN NEW.{ACTIVE}
     AND NEW.slot > (SELECT units_needed FROM tickets WHERE id = NEW.ticket_id)
    BEGIN
        SELECT RAISE(ABORT, 'assignment slot above the ticket''s units_needed');
    END
    """,
    f"""
    CREATE TRIGGER trg_assignments_slot_update
    BEFORE UPDATE OF slot, status, ticket_id ON assignments
    WHEN NEW.{ACTIVE}
     AND NEW.slot > (SELECT units_needed FROM tickets WHERE id = NEW.ticket_id)
    BEGIN
        SELECT RAISE(ABORT, 'assignment slot above the ticket''s units_needed');
    END
    """,
    f"""
    CREATE TRIGGER trg_tickets_units_needed BEFORE UPDATE OF units_needed ON tickets
    WHEN EXISTS (
        SELECT 1 FROM assignments
        WHERE ticket_id = NEW.id AND {ACTIVE} AND slot > NEW.units_needed
    )
    BEGIN
        SELECT RAISE(ABORT, 'units_needed below an active assignment''s slot');
    END
    """,
)

# READ COMMITTED: the assignment's check takes a share lock on its ticket, so a concurrent
# lowering of units_needed either waits for it (and then sees the new assignment: each
# statement of a volatile function reads a fresh snapshot) or went first (and the share
# lock then reads the lowered value).
POSTGRESQL_TRIGGERS = (
    f"""
    CREATE FUNCTION cc_assignment_slot_check() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        needed integer;
    BEGIN
        IF NEW.{ACTIVE} THEN
            SELECT units_needed INTO needed FROM tickets WHERE id = NEW.ticket_id FOR SHARE;
            IF NEW.slot > needed THEN
                RAISE EXCEPTION 'assignment slot % above the units_needed % of ticket %',
                    NEW.slot, needed, NEW.ticket_id
                    USING ERRCODE = 'check_violation';
            END IF;
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER trg_assignments_slot
    BEFORE INSERT OR UPDATE OF slot, status, ticket_id ON assignments
    FOR EACH ROW EXECUTE FUNCTION cc_assignment_slot_check()
    """,
    f"""
    CREATE FUNCTION cc_ticket_units_needed_check() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.units_needed < OLD.units_needed AND EXISTS (
            SELECT 1 FROM assignments
            WHERE ticket_id = NEW.id AND {ACTIVE} AND slot > NEW.units_needed
        ) THEN
            RAISE EXCEPTION 'units_needed % of ticket % below an active assignment''s slot',
                NEW.units_needed, NEW.id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER trg_tickets_units_needed BEFORE UPDATE OF units_needed ON tickets
    FOR EACH ROW EXECUTE FUNCTION cc_ticket_units_needed_check()
    """,
)


def _timestamp():
    return sa.DateTime(timezone=True)


def upgrade():
    dialect = op.get_bind().dialect.name
    # Tickets.
    op.execute(
        "ALTER TABLE tickets ADD COLUMN units_needed INTEGER DEFAULT 1 NOT NULL"
        " CONSTRAINT ck_tickets_units_needed CHECK (units_needed BETWEEN 1 AND 10)"
    )
    for name in ("waiting_since", "backup_requested_at"):
        op.add_column('tickets', sa.Column(name, _timestamp(), nullable=True))
    # Tickets waiting for their first unit when this runs keep being routed.
    op.execute("UPDATE tickets SET waiting_since = status_changed_at WHERE status IN ('new', 'queued')")
    op.create_index(
        'ix_tickets_waiting', 'tickets', ['priority', 'created_at'], unique=False,
        postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING),
    )

    # Assignments: a slot each (every ticket held at most one, so existing ones take slot 1),
    # each unit's own progress and how its part ended.
    op.execute(
        "ALTER TABLE assignments ADD COLUMN slot INTEGER DEFAULT 1 NOT NULL"
        " CONSTRAINT ck_assignments_slot CHECK (slot BETWEEN 1 AND 10)"
    )
    for name in ("en_route_at", "on_scene_at"):
        op.add_column('assignments', sa.Column(name, _timestamp(), nullable=True))
    op.add_column('assignments', sa.Column('resolution', sa.String(length=40), nullable=True))
    op.add_column('assignments', sa.Column('note', sa.Text(), nullable=True))
    # What is known of the one unit of each ticket so far.
    op.execute(
        "UPDATE assignments SET on_scene_at = (SELECT on_scene_at FROM tickets"
        " WHERE tickets.id = assignments.ticket_id)"
        " WHERE status IN ('accepted', 'completed')"
    )
    op.drop_index('uq_assignments_active_ticket', table_name='assignments')
    op.create_index(
        'uq_assignments_active_ticket_unit', 'assignments', ['ticket_id', 'unit_id'], unique=True,
        postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE),
    )
    op.create_index(
        'uq_assignments_active_ticket_slot', 'assignments', ['ticket_id', 'slot'], unique=True,
        postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE),
    )
    for statement in POSTGRESQL_TRIGGERS if dialect == 'postgresql' else SQLITE_TRIGGERS:
        op.execute(statement)

    op.create_table('emergencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('raised_at', _timestamp(), nullable=False),
    sa.Column('located_at', _timestamp(), nullable=True),
    sa.Column('acknowledged_at', _timestamp(), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', _timestamp(), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('end_reason', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id')
    )
    op.create_index(
        'uq_emergencies_open_unit', 'emergencies', ['unit_id'], unique=True,
        postgresql_where=sa.text(OPEN_EMERGENCY), sqlite_where=sa.text(OPEN_EMERGENCY),
    )


def downgrade():
    dialect = op.get_bind().dialect.name
    op.drop_index('uq_emergencies_open_unit', table_name='emergencies')
    op.drop_table('emergencies')
    if dialect == 'postgresql':
        op.execute("DROP TRIGGER trg_tickets_units_needed ON tickets")
        op.execute("DROP TRIGGER trg_assignments_slot ON assignments")
        op.execute("DROP FUNCTION cc_ticket_units_needed_check()")
        op.execute("DROP FUNCTION cc_assignment_slot_check()")
    else:
        for name in (
            "trg_tickets_units_needed",
            "trg_assignments_slot_update",
            "trg_assignments_slot_insert",
        ):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_index('uq_assignments_active_ticket_slot', table_name='assignments')
    op.drop_index('uq_assignments_active_ticket_unit', table_name='assignments')
    # Fails, and so stops the downgrade, while a ticket holds several active assignments.
    op.create_index(
        'uq_assignments_active_ticket', 'assignments', ['ticket_id'], unique=True,
        postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE),
    )
    if dialect == 'postgresql':
        op.execute("ALTER TABLE assignments DROP CONSTRAINT ck_assignments_slot")
        op.execute("ALTER TABLE tickets DROP CONSTRAINT ck_tickets_units_needed")
    for name in ("note", "resolution", "on_scene_at", "en_route_at", "slot"):
        op.drop_column('assignments', name)
    op.drop_index('ix_tickets_waiting', table_name='tickets')
    for name in ("backup_requested_at", "waiting_since", "units_needed"):
        op.drop_column('tickets', name)
