"""What the schema itself guarantees, on both databases."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from callcenter.extensions import db
from callcenter.models import Assignment, Ticket
from callcenter.services import clock
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


@pytest.mark.parametrize("shared", ["unit", "ticket"])
def test_the_database_refuses_a_second_open_assignment(app, factory, shared):
    unit_a, unit_b = factory.unit(), factory.unit()
    with app.app_context():
        t1, t2 = _ticket("110-T-3"), _ticket("110-T-4")
        db.session.add_all([t1, t2])
        db.session.flush()
        deadline = clock.now() + timedelta(seconds=45)
        db.session.add(
            Assignment(ticket_id=t1.id, unit_id=unit_a, status="offered", deadline_at=deadline)
        )
        db.session.commit()
        second = (
            Assignment(ticket_id=t2.id, unit_id=unit_a, status="accepted", deadline_at=deadline)
            if shared == "unit"
            else Assignment(ticket_id=t1.id, unit_id=unit_b, status="offered", deadline_at=deadline)
        )
        db.session.add(second)
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        # Closed assignments do not count.
        first = db.session.scalars(db.select(Assignment)).one()
        first.status = "declined"
        db.session.commit()
        db.session.add(
            Assignment(ticket_id=t1.id, unit_id=unit_a, status="offered", deadline_at=deadline)
        )
        db.session.commit()
        db.session.remove()
