"""Row locks and the event-order lock never deadlock on PostgreSQL.

A use case locks its ticket, changes it and records an event; meanwhile another transaction
records an event about the same ticket. The second inserts its event row (whose foreign key
takes KEY SHARE on the ticket) while holding the event-order lock; the first then needs that
lock to commit. With the ticket locked FOR UPDATE the two wait for each other."""

import threading

import pytest

from callcenter.extensions import db
from callcenter.services import events, state
from tests.helpers import ticket_payload


def test_an_event_about_a_locked_ticket_does_not_deadlock_its_holder(app, client, factory):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("row locks exist on PostgreSQL only")
    ticket = client.post(
        "/api/v1/tickets", json=ticket_payload(), headers=factory.headers("dispatcher")
    ).get_json()
    holding, other_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def holder():
        with app.app_context():
            try:
                locked = state.lock_ticket(ticket["id"])
                holding.set()
                # The other transaction has had time to reach its insert (and to block on
                # this lock, if it were FOR UPDATE).
                other_done.wait(timeout=1.5)
                locked.summary = locked.summary + " (diubah)"
                events.record("test.holder", ticket=locked)
                db.session.commit()
            except BaseException as exc:
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    def other():
        holding.wait(timeout=5)
        with app.app_context():
            try:
                events.record("test.other", ticket=ticket["id"])
                db.session.commit()
            except BaseException as exc:
                errors.append(exc)
                db.session.rollback()
            finally:
                other_done.set()
                db.session.remove()

    threads = [threading.Thread(target=holder), threading.Thread(target=other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert {e.type for e in factory.events() if e.type.startswith("test.")} == {
        "test.holder",
        "test.other",
    }
