"""End to end through a real Celery worker: intake -> worker -> offer, on both stacks."""

from callcenter.models import Ticket
from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.system.sim import wait_for


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


def test_an_unanswered_offer_expires_and_goes_to_the_next_unit(client, factory, start_worker):
    """The deadline lives in the database; beat's sweep enforces it, no countdown message."""
    first = factory.unit(callsign="SLOW-1", point=offset(KEPANJEN, 200, 0))
    second = factory.unit(callsign="NEXT-1", point=offset(KEPANJEN, 900, 0))
    start_worker(CALLCENTER_OFFER_TIMEOUT_S=2, CALLCENTER_SWEEP_INTERVAL_S=0.5)
    headers = factory.headers("dispatcher")
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=headers).get_json()
    wait_for(lambda: [a.unit_id for a in factory.assignments(ticket["id"])] == [first, second])
    expired, offered = factory.assignments(ticket["id"])
    assert expired.status == "expired" and offered.status == "offered"
    # Expired within a sweep interval or two of its deadline.
    assert (expired.ended_at - expired.deadline_at).total_seconds() < 5
    assert factory.unit_row(first).status == "unavailable"


def test_celery_is_configured_not_to_lose_tasks(app):
    conf = app.extensions["celery"].conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_ignore_result is True
    if app.config["REDIS_URL"]:
        assert conf.broker_url.startswith("redis://")
        assert conf.broker_transport == "callcenter.broker:RedisTransport"
        assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    else:
        assert conf.broker_url.startswith("sqlite:///")
        assert conf.broker_transport == "callcenter.broker:Transport"


def test_a_starting_worker_rebuilds_the_geo_index(production_stack, factory, start_worker):
    from callcenter.services import bus

    unit = factory.unit(point=KEPANJEN)
    with production_stack.app_context():
        conn = bus.client()
        conn.delete(bus.key("geo", "available"), bus.key("geo", "built"))
    start_worker(beat=False)
    with production_stack.app_context():
        members = wait_for(lambda: conn.zrange(bus.key("geo", "available"), 0, -1))
        assert conn.exists(bus.key("geo", "built"))
    assert [int(m) for m in members] == [unit]
