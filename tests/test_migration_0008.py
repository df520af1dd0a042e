"""Migration 0008 fills the report's milestones of tickets logged before it: the offer that
was accepted (from the assignments) and the Polsek nearest to each ticket, on both databases."""

from flask_migrate import upgrade
from sqlalchemy import text

from callcenter import create_app
from callcenter.extensions import db
from tests.test_migrations import empty_database  # noqa: F401  (the fixture)

T = "2026-03-10 01:00:{:02d}+00:00"
ROWS = [
    "INSERT INTO sectors (id, code, name, lat, lon) VALUES (1, 'A', 'Polsek A', -8.13, 112.57)",
    "INSERT INTO sectors (id, code, name, lat, lon) VALUES (2, 'B', 'Polsek B', -8.0, 112.7)",
    "INSERT INTO units (id, callsign, name, kind, status, status_changed_at, created_at) "
    "VALUES (1, 'U1', 'U1', 'car', 'available', '{t0}', '{t0}'), "
    "(2, 'U2', 'U2', 'car', 'available', '{t0}', '{t0}')",
    # Ticket 1: U1 declined the first offer, U2 accepted the second.
    "INSERT INTO tickets (id, number, status, status_changed_at, priority, category, channel, "
    "summary, lat, lon, caller_calls_30d, caller_pranks_30d, created_at, updated_at, "
    "dispatched_at, acknowledged_at) VALUES (1, 'N1', 'acknowledged', '{t0}', 2, 'theft', "
    "'phone', '', -8.01, 112.69, 0, 0, '{t0}', '{t0}', '{t1}', '{t4}')",
    # Ticket 2: a prank, no location.
    "INSERT INTO tickets (id, number, status, status_changed_at, priority, category, channel, "
    "summary, caller_calls_30d, caller_pranks_30d, created_at, updated_at) VALUES "
    "(2, 'N2', 'closed', '{t0}', 4, 'prank', 'phone', '', 0, 0, '{t0}', '{t0}')",
    "INSERT INTO assignments (id, ticket_id, unit_id, status, manual, offered_at, deadline_at, "
    "responded_at) VALUES (1, 1, 1, 'declined', false, '{t1}', '{t9}', '{t2}'), "
    "(2, 1, 2, 'accepted', false, '{t3}', '{t9}', '{t4}')",
]


def test_old_tickets_get_their_accepted_offer_and_polsek(empty_database):  # noqa: F811
    app = create_app({"DATABASE_URL": empty_database})
    times = {f"t{i}": T.format(i) for i in range(10)}
    with app.app_context():
        upgrade(revision="0003")
        sqlite = db.engine.dialect.name == "sqlite"
        for statement in ROWS:
            statement = statement.format(**times)
            if sqlite:  # naive UTC text, as the app stores it there
                statement = statement.replace("+00:00", ".000000").replace("false", "0")
            db.session.execute(text(statement))
        db.session.commit()
        upgrade()
        rows = db.session.execute(
            text("SELECT id, accepted_offer_at, sector_id FROM tickets ORDER BY id")
        ).all()
        db.session.remove()
        db.engine.dispose()
    (_, accepted, sector), (_, none_accepted, no_sector) = rows
    assert "01:00:03" in str(accepted)  # the accepted offer's, not the declined first one
    assert sector == 2
    assert none_accepted is None and no_sector is None
