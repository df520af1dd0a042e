"""What the schema itself guarantees, on both databases: rows written directly in SQL."""

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from callcenter.extensions import db
from callcenter.models import Ticket
from tests.helpers import KEPANJEN


def _ticket(number):
    return Ticket(
        number=number,
        status="new",
        priority=3,
        category="theft",
        channel="phone",
        summary="",
        lat=KEPANJEN[0],
        lon=KEPANJEN[1],
    )


def test_timestamps_are_stored_in_utc_and_come_back_aware(app):
    wib = timezone(timedelta(hours=7))
    moment = datetime(2024, 11, 14, 23, 30, tzinfo=wib)
    with app.app_context():
        ticket = _ticket("110-T-1")
        ticket.created_at = moment
        db.session.add(ticket)
        db.session.commit()
        ticket_id = ticket.id
        db.session.expunge_all()
        created_at = db.session.get(Ticket, ticket_id).created_at
        db.session.remove()
    assert created_at.tzinfo is not None
    assert created_at.utcoffset() == timedelta(0)
    assert created_at == datetime(2024, 11, 14, 16, 30, tzinfo=UTC)


def test_naive_timestamps_are_refused(app):
    with app.app_context():
        ticket = _ticket("110-T-2")
        ticket.created_at = datetime(2024, 1, 1, 12, 0)
        db.session.add(ticket)
        with pytest.raises(Exception, match="naive"):
            db.session.commit()
        db.session.rollback()
        db.session.remove()


# --- the invariants, written in plain SQL so that nothing but the database decides --------

NOW = "2024-11-14 16:30:00+00:00"


def sql(statement: str, **params):
    db.session.execute(text(statement), params)


def add_ticket(number: str, units_needed: int = 1) -> int:
    return db.session.execute(
        text(
            "INSERT INTO tickets (number, status, status_changed_at, priority, units_needed,"
            " category, channel, summary, caller_calls_30d, caller_pranks_30d, created_at,"
            " updated_at) VALUES (:n, 'dispatched', :now, 2, :u, 'brawl', 'phone', '', 0, 0,"
            " :now, :now) RETURNING id"
        ),
        {"n": number, "u": units_needed, "now": NOW},
    ).scalar_one()


def add_assignment(ticket_id: int, unit_id: int, slot: int, status: str = "offered") -> int:
    return db.session.execute(
        text(
            "INSERT INTO assignments (ticket_id, unit_id, slot, status, manual, offered_at,"
            " deadline_at) VALUES (:t, :u, :s, :st, false, :now, :now) RETURNING id"
        ),
        {"t": ticket_id, "u": unit_id, "s": slot, "st": status, "now": NOW},
    ).scalar_one()


def refused(action) -> None:
    """The statement fails with an integrity error; only its savepoint is rolled back."""
    savepoint = db.session.begin_nested()
    with pytest.raises(IntegrityError):
        action()
    savepoint.rollback()


@pytest.fixture
def units(factory):
    return [factory.unit(callsign=f"DB-{i}") for i in range(4)]


def test_a_unit_holds_at_most_one_active_assignment(app, units):
    a, b = units[:2]
    with app.app_context():
        t1, t2 = add_ticket("110-T-10", 2), add_ticket("110-T-11", 2)
        add_assignment(t1, a, 1)
        refused(lambda: add_assignment(t2, a, 1, "accepted"))
        # An ended one does not count.
        sql("UPDATE assignments SET status = 'declined'")
        add_assignment(t2, a, 1, "accepted")
        add_assignment(t1, b, 1)
        db.session.commit()
        db.session.remove()


def test_a_ticket_never_holds_the_same_unit_twice_while_active(app, units):
    a = units[0]
    with app.app_context():
        t = add_ticket("110-T-20", 3)
        add_assignment(t, a, 1, "accepted")
        refused(lambda: add_assignment(t, a, 2))
        sql("UPDATE assignments SET status = 'released'")
        add_assignment(t, a, 2)  # released before: may come back
        db.session.commit()
        db.session.remove()


def test_a_ticket_never_holds_more_active_assignments_than_it_needs(app, units):
    a, b, c, d = units
    with app.app_context():
        t = add_ticket("110-T-30", 2)
        add_assignment(t, a, 1, "accepted")
        add_assignment(t, b, 2)
        refused(lambda: add_assignment(t, c, 3))  # above units_needed (trigger)
        refused(lambda: add_assignment(t, c, 2))  # a slot already held
        refused(lambda: add_assignment(t, c, 11))  # out of range (check)
        # Lowering units_needed below an active slot is refused.
        refused(lambda: sql("UPDATE tickets SET units_needed = 1 WHERE id = :t", t=t))
        # Moving an active assignment to a slot above units_needed is refused.
        refused(lambda: sql("UPDATE assignments SET slot = 3 WHERE unit_id = :u", u=b))
        # Raising makes room; once the third slot's assignment ends, lowering is fine.
        sql("UPDATE tickets SET units_needed = 3 WHERE id = :t", t=t)
        third = add_assignment(t, c, 3)
        refused(lambda: add_assignment(t, d, 1))
        sql("UPDATE assignments SET status = 'expired' WHERE id = :i", i=third)
        sql("UPDATE tickets SET units_needed = 2 WHERE id = :t", t=t)
        db.session.commit()
        active = db.session.scalar(
            text("SELECT count(*) FROM assignments WHERE status IN ('offered', 'accepted')")
        )
        db.session.remove()
    assert active == 2


@pytest.mark.parametrize("value", [0, 11, -1])
def test_units_needed_out_of_range_is_refused(app, value):
    with app.app_context():
        refused(lambda: add_ticket("110-T-40", value))
        t = add_ticket("110-T-41", 1)
        refused(lambda: sql("UPDATE tickets SET units_needed = :v WHERE id = :t", v=value, t=t))
        db.session.rollback()
        db.session.remove()


def test_one_open_emergency_per_unit(app, units):
    a = units[0]
    insert = "INSERT INTO emergencies (ticket_id, unit_id, raised_at) VALUES (:t, :u, :now)"
    with app.app_context():
        t1, t2, t3 = (add_ticket(f"110-T-5{i}") for i in range(3))
        sql(insert, t=t1, u=a, now=NOW)
        refused(lambda: sql(insert, t=t2, u=a, now=NOW))
        refused(lambda: sql(insert, t=t1, u=units[1], now=NOW))  # one emergency per ticket
        sql("UPDATE emergencies SET ended_at = :now", now=NOW)
        sql(insert, t=t3, u=a, now=NOW)
        db.session.commit()
        db.session.remove()


def test_a_concurrent_lowering_of_units_needed_cannot_slip_past_a_new_assignment(
    production_stack, factory
):
    """PostgreSQL, two transactions at once: one adds an assignment in slot 2 while the other
    lowers units_needed to 1. Whichever commits first, the other is refused."""
    app = production_stack
    a = factory.unit(callsign="RACE-1")
    with app.app_context():
        t = add_ticket("110-T-60", 2)
        db.session.commit()
        db.session.remove()
        engine = db.engine
        for first in ("assignment", "lowering"):
            with engine.connect() as one, engine.connect() as two:
                one.execute(text("UPDATE assignments SET status = 'cancelled'"))
                one.commit()
                one.execute(text("UPDATE tickets SET units_needed = 2 WHERE id = :t"), {"t": t})
                one.commit()
                assign = text(
                    "INSERT INTO assignments (ticket_id, unit_id, slot, status, manual,"
                    " offered_at, deadline_at) VALUES (:t, :u, 2, 'offered', false, :now, :now)"
                )
                lower = text("UPDATE tickets SET units_needed = 1 WHERE id = :t")
                steps = [(assign, {"t": t, "u": a, "now": NOW}), (lower, {"t": t})]
                if first == "lowering":
                    steps.reverse()
                one.execute(*steps[0])
                outcome = {}

                def second():
                    try:
                        two.execute(*steps[1])
                        two.commit()
                        outcome["ok"] = True
                    except IntegrityError as exc:
                        two.rollback()
                        outcome["refused"] = str(exc.orig)

                thread = threading.Thread(target=second)
                thread.start()
                thread.join(0.5)
                assert thread.is_alive(), "the second transaction must wait for the first"
                one.commit()
                thread.join(10)
                assert "refused" in outcome, (first, outcome)
            with engine.connect() as check:
                needed, active = check.execute(
                    text(
                        "SELECT units_needed, (SELECT count(*) FROM assignments WHERE"
                        " ticket_id = :t AND status IN ('offered', 'accepted')) FROM tickets"
                        " WHERE id = :t"
                    ),
                    {"t": t},
                ).one()
            assert active <= needed
