"""End to end through a real Celery worker: intake -> worker -> offer, on both stacks."""

import time

from callcenter.models import Ticket
from tests.helpers import KEPANJEN, offset, ticket_payload


def wait_for(predicate, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def test_a_logged_call_is_offered_to_the_nearest_unit_by_the_worker(client, factory, start_worker):
    near = factory.unit(callsign="NEAR-1", point=offset(KEPANJEN, 500, 0))
    factory.unit(callsign="FAR-1", point=offset(KEPANJEN, 5000, 0))
    start_worker()
    headers = factory.headers("dispatcher")
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=headers).get_json()
    offered = wait_for(lambda: factory.events("assignment.offered"))
    assert offered[0].unit_id == near
    assert offered[0].ticket_id == ticket["id"]
    assert factory.ticket(ticket["id"]).status == "dispatched"


def test_the_sweep_routes_a_ticket_whose_message_was_lost(client, factory, start_worker, app):
    """No message at all (the broker was down at intake): beat's sweep still routes it."""
    from callcenter.extensions import db
    from callcenter.services import clock, intake

    unit = factory.unit(point=offset(KEPANJEN, 300, 0))
    dispatcher = factory.user("dispatcher")
    with app.app_context():
        from callcenter.models import User

        actor = db.session.get(User, dispatcher["id"])
        # Intake without the after-commit hand-off, as if the broker had lost the message.
        data = intake.validate(ticket_payload())
        category = data.pop("category")
        t = Ticket(
            number="110-LOST-00001",
            category=category.code,
            created_by_id=actor.id,
            created_at=clock.now(),
            **data,
        )
        db.session.add(t)
        db.session.commit()
        ticket_id = t.id
        db.session.remove()
    start_worker(CALLCENTER_STUCK_NEW_S=1)
    wait_for(lambda: factory.ticket(ticket_id).status == "dispatched")
    assert factory.assignments(ticket_id)[0].unit_id == unit
