"""Routing, answers, expiry, escalation and manual assignment, called as services.

These run on both stacks without a worker, so each step is deterministic; the worker-driven
behaviour is in tests/system/.
"""

from datetime import timedelta

import pytest

from callcenter.extensions import db
from callcenter.models import Assignment, Ticket, Unit, User
from callcenter.services import clock, lifecycle, repair, routing
from callcenter.services.errors import Conflict
from tests.helpers import KEPANJEN, offset, ticket_payload


@pytest.fixture
def dispatcher(client, factory):
    return factory.headers("dispatcher")


@pytest.fixture
def new_ticket(client, dispatcher):
    def make(point=KEPANJEN, **overrides):
        body = ticket_payload(location={"lat": point[0], "lon": point[1]}, **overrides)
        response = client.post("/api/v1/tickets", json=body, headers=dispatcher)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    return make


def route(factory, ticket_id):
    return factory.run(routing.route_ticket, ticket_id)


def _as(app, user_id):
    return db.session.get(User, user_id)


def answer(factory, app, fn, assignment_id, *args):
    """Call lifecycle.accept/decline as the unit's own user would."""
    with app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        unit = db.session.get(Unit, assignment.unit_id)
        user = db.session.scalars(db.select(User).where(User.unit_id == unit.id)).first()
        if user is None:
            user = User(username=f"u{unit.id}", password_hash="x", role="unit", unit_id=unit.id)
            db.session.add(user)
            db.session.commit()
        try:
            return fn(assignment_id, *args, unit=unit, actor=user)
        finally:
            db.session.remove()


def active(factory, ticket_id):
    rows = [a for a in factory.assignments(ticket_id) if a.status in ("offered", "accepted")]
    assert len(rows) <= 1
    return rows[0] if rows else None


def test_nearest_available_unit_gets_the_offer(factory, new_ticket):
    far = factory.unit(point=offset(KEPANJEN, 3000, 0))
    near = factory.unit(point=offset(KEPANJEN, 0, 800), kind="motorcycle")
    factory.unit(point=offset(KEPANJEN, 100, 0), status="dispatched")  # busy
    factory.unit(point=offset(KEPANJEN, 50, 0), status="off_duty")
    ticket_id = new_ticket()
    assert route(factory, ticket_id) == "offered"
    offer = active(factory, ticket_id)
    assert offer.unit_id == near
    assert offer.status == "offered"
    assert 790 < offer.distance_m < 810
    assert offer.eta_s > 0
    timeout = factory.app.config["CALLCENTER_OFFER_TIMEOUT_S"]
    assert abs((offer.deadline_at - offer.offered_at).total_seconds() - timeout) < 1
    assert factory.ticket(ticket_id).status == "dispatched"
    assert factory.unit_row(near).status == "dispatched"
    assert factory.unit_row(far).status == "available"
    types = [e.type for e in factory.events() if e.ticket_id == ticket_id]
    assert types == [
        "ticket.created",
        "unit.status_changed",
        "assignment.offered",
        "ticket.status_changed",
    ]
    # Routing again changes nothing.
    assert route(factory, ticket_id) == "skipped"
    assert len(factory.assignments(ticket_id)) == 1


def test_eta_depends_on_the_unit_kind(factory, new_ticket):
    car = factory.unit(point=offset(KEPANJEN, 2000, 0), kind="car")
    t1 = new_ticket()
    route(factory, t1)
    bike = factory.unit(point=offset(KEPANJEN, 2000, 0), kind="motorcycle")
    t2 = new_ticket(point=KEPANJEN, category="noise")
    route(factory, t2)
    car_offer, bike_offer = active(factory, t1), active(factory, t2)
    assert (car_offer.unit_id, bike_offer.unit_id) == (car, bike)
    assert bike_offer.eta_s > car_offer.eta_s  # slower default speed for motorcycles


def test_stale_positions_are_skipped(factory, new_ticket, app):
    max_age = app.config["CALLCENTER_POSITION_MAX_AGE_S"]
    factory.unit(point=offset(KEPANJEN, 100, 0), age_s=max_age + 5)
    fresh = factory.unit(point=offset(KEPANJEN, 2000, 0), age_s=max_age - 30)
    ticket_id = new_ticket()
    route(factory, ticket_id)
    assert active(factory, ticket_id).unit_id == fresh


@pytest.mark.parametrize(
    "setup,reason",
    [
        ("none", "none_available"),
        ("stale", "positions_stale"),
        ("far", "none_within_radius"),
        ("busy", "none_available"),
    ],
)
def test_queued_with_the_reason(factory, new_ticket, app, setup, reason):
    radius_m = app.config["CALLCENTER_SEARCH_RADIUS_KM"] * 1000
    if setup == "stale":
        factory.unit(point=KEPANJEN, age_s=app.config["CALLCENTER_POSITION_MAX_AGE_S"] + 60)
    elif setup == "far":
        factory.unit(point=offset(KEPANJEN, radius_m + 2000, 0))
    elif setup == "busy":
        factory.unit(point=KEPANJEN, status="on_scene")
    ticket_id = new_ticket()
    assert route(factory, ticket_id) == "queued"
    ticket = factory.ticket(ticket_id)
    assert (ticket.status, ticket.status_reason) == ("queued", reason)
    queued = [e for e in factory.events("ticket.status_changed") if e.data["to"] == "queued"]
    assert queued[-1].data["reason"] == reason
    # Routing again with nothing changed writes no new event.
    before = len(factory.events())
    assert route(factory, ticket_id) == "queued"
    assert len(factory.events()) == before


def test_decline_goes_to_the_next_nearest_and_never_back(factory, new_ticket, app):
    first = factory.unit(point=offset(KEPANJEN, 100, 0))
    second = factory.unit(point=offset(KEPANJEN, 500, 0))
    ticket_id = new_ticket()
    route(factory, ticket_id)
    offer = active(factory, ticket_id)
    assert offer.unit_id == first
    answer(factory, app, lifecycle.decline, offer.id, {"reason": "busy"})
    assert factory.unit_row(first).status == "available"
    nxt = active(factory, ticket_id)
    assert nxt.unit_id == second
    answer(factory, app, lifecycle.decline, nxt.id, {"reason": "too_far"})
    # Both declined: the ticket waits, it is not offered to the first unit again.
    ticket = factory.ticket(ticket_id)
    assert (ticket.status, ticket.status_reason) == ("queued", "all_declined")
    assert active(factory, ticket_id) is None
    statuses = [a.status for a in factory.assignments(ticket_id)]
    assert statuses == ["declined", "declined"]
    assert factory.assignments(ticket_id)[0].decline_reason == "busy"


def test_decline_needs_a_reason(factory, new_ticket, app):
    factory.unit(point=KEPANJEN)
    ticket_id = new_ticket()
    route(factory, ticket_id)
    offer = active(factory, ticket_id)
    from callcenter.services.errors import ValidationError

    with pytest.raises(ValidationError):
        answer(factory, app, lifecycle.decline, offer.id, {"reason": "  "})
    assert active(factory, ticket_id).status == "offered"


def expire_now(app, assignment_id):
    with app.app_context():
        row = db.session.get(Assignment, assignment_id)
        row.deadline_at = clock.now() - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()


def test_expiry_marks_the_unit_unavailable_and_offers_the_next(factory, new_ticket, app):
    first = factory.unit(point=offset(KEPANJEN, 100, 0))
    second = factory.unit(point=offset(KEPANJEN, 900, 0))
    ticket_id = new_ticket()
    route(factory, ticket_id)
    offer = active(factory, ticket_id)
    expire_now(app, offer.id)
    report = factory.run(repair.sweep)
    assert report["expired"] == 1
    unit = factory.unit_row(first)
    assert (unit.status, unit.status_reason) == ("unavailable", "offer_expired")
    assert active(factory, ticket_id).unit_id == second
    assert factory.assignments(ticket_id)[0].status == "expired"
    # Sweeping again changes nothing.
    assert factory.run(repair.sweep)["expired"] == 0


def test_late_accept_after_expiry_is_409_and_changes_nothing(factory, new_ticket, app):
    factory.unit(point=offset(KEPANJEN, 100, 0))
    ticket_id = new_ticket()
    route(factory, ticket_id)
    offer = active(factory, ticket_id)
    expire_now(app, offer.id)
    # Deadline passed, sweep not yet run: the accept itself expires the offer.
    with pytest.raises(Conflict) as err:
        answer(factory, app, lifecycle.accept, offer.id)
    assert err.value.code == "assignment_expired"
    assert factory.assignments(ticket_id)[0].status == "expired"
    assert factory.ticket(ticket_id).status == "queued"
    before = len(factory.events())
    with pytest.raises(Conflict):
        answer(factory, app, lifecycle.accept, offer.id)
    assert len(factory.events()) == before


def test_accept_after_cancel_is_409(factory, new_ticket, app, client, dispatcher):
    unit = factory.unit(point=KEPANJEN)
    ticket_id = new_ticket()
    route(factory, ticket_id)
    offer = active(factory, ticket_id)
    response = client.post(
        f"/api/v1/tickets/{ticket_id}/cancel", json={"reason": "double call"}, headers=dispatcher
    )
    assert response.status_code == 200
    assert factory.unit_row(unit).status == "available"
    with pytest.raises(Conflict) as err:
        answer(factory, app, lifecycle.accept, offer.id)
    assert err.value.code == "assignment_cancelled"


def test_accept_then_progress_to_cleared(factory, new_ticket, app):
    unit = factory.unit(point=KEPANJEN)
    ticket_id = new_ticket()
    route(factory, ticket_id)
    offer = active(factory, ticket_id)
    answer(factory, app, lifecycle.accept, offer.id)
    assert factory.ticket(ticket_id).status == "acknowledged"
    assert factory.unit_row(unit).status == "dispatched"
    for step in ("en_route", "on_scene"):
        answer(factory, app, lifecycle.progress, offer.id, {"status": step})
        assert factory.ticket(ticket_id).status == step
        assert factory.unit_row(unit).status == step
    answer(
        factory,
        app,
        lifecycle.progress,
        offer.id,
        {"status": "cleared", "resolution": "handled", "note": "Diselesaikan"},
    )
    ticket = factory.ticket(ticket_id)
    assert (ticket.status, ticket.resolution) == ("closed", "handled")
    assert ticket.on_scene_at is not None and ticket.closed_at is not None
    assert factory.unit_row(unit).status == "available"
    assert factory.assignments(ticket_id)[0].status == "completed"
    with pytest.raises(Conflict):
        answer(
            factory,
            app,
            lifecycle.progress,
            offer.id,
            {"status": "cleared", "resolution": "handled"},
        )


def test_escalation_after_max_offers(factory, new_ticket, app):
    app.config["CALLCENTER_MAX_OFFERS"] = 2
    try:
        for i in range(3):
            factory.unit(point=offset(KEPANJEN, 100 * (i + 1), 0))
        ticket_id = new_ticket()
        route(factory, ticket_id)
        for _ in range(2):
            answer(
                factory, app, lifecycle.decline, active(factory, ticket_id).id, {"reason": "busy"}
            )
        ticket = factory.ticket(ticket_id)
        assert ticket.escalation_reason == "max_offers"
        assert (ticket.status, ticket.status_reason) == ("queued", "max_offers")
        assert active(factory, ticket_id) is None  # the third unit is left to the dispatcher
        escalated = factory.events("ticket.escalated")
        assert len(escalated) == 1 and escalated[0].data["reason"] == "max_offers"
        # The sweep does not offer it again.
        factory.run(repair.sweep)
        assert active(factory, ticket_id) is None
    finally:
        app.config["CALLCENTER_MAX_OFFERS"] = 5


def test_high_priority_ticket_queued_too_long_is_escalated(factory, new_ticket, app):
    ticket_id = new_ticket(priority=1)
    low_id = new_ticket(priority=3, category="noise")
    route(factory, ticket_id)
    route(factory, low_id)
    with app.app_context():
        for tid in (ticket_id, low_id):
            row = db.session.get(Ticket, tid)
            row.waiting_since = clock.now() - timedelta(
                seconds=app.config["CALLCENTER_ESCALATE_QUEUED_S"] + 1
            )
        db.session.commit()
        db.session.remove()
    assert factory.run(repair.sweep)["escalated"] == 1
    assert factory.ticket(ticket_id).escalation_reason == "queued_too_long"
    assert factory.ticket(low_id).escalated_at is None
    # Still routed when a unit turns up.
    factory.unit(point=KEPANJEN)
    factory.run(repair.sweep)
    assert active(factory, ticket_id) is not None


def test_queued_tickets_go_by_priority_then_age(factory, new_ticket, app):
    old_low = new_ticket(priority=4, category="noise")
    high = new_ticket(priority=1, point=offset(KEPANJEN, 200, 0), category="assault")
    young_low = new_ticket(priority=4, point=offset(KEPANJEN, 300, 0), category="fraud")
    for tid in (old_low, high, young_low):
        assert route(factory, tid) == "queued"
    unit = factory.unit(point=offset(KEPANJEN, 5000, 0), status="off_duty")
    unit_user = factory.user("unit", unit_id=unit)
    with app.app_context():
        lifecycle.set_own_status(
            db.session.get(Unit, unit), {"status": "available"}, actor=_as(app, unit_user["id"])
        )
        db.session.remove()
    factory.run(routing.route_queued)
    assert active(factory, high).unit_id == unit
    assert active(factory, old_low) is None
    second = factory.unit(point=offset(KEPANJEN, 5000, 0))
    assert second
    factory.run(routing.route_queued)
    assert active(factory, old_low) is not None  # older of the two low ones first
    assert active(factory, young_low) is None


def test_a_position_report_near_a_queued_ticket_leads_to_routing(factory, new_ticket, app):
    ticket_id = new_ticket()
    route(factory, ticket_id)  # nothing around: queued
    unit = factory.unit(point=offset(KEPANJEN, 60_000, 0))  # far outside the radius
    route(factory, ticket_id)
    assert factory.ticket(ticket_id).status_reason == "none_within_radius"
    from callcenter.services import units as unit_service

    with app.app_context():
        result = unit_service.report_position(
            db.session.get(Unit, unit), {"lat": KEPANJEN[0], "lon": KEPANJEN[1]}
        )
        db.session.remove()
    assert result["applied"] is True
    factory.run(routing.route_queued)
    assert active(factory, ticket_id).unit_id == unit


class TestManualAssignment:
    def assign(self, client, headers, ticket_id, unit_id, **extra):
        return client.post(
            f"/api/v1/tickets/{ticket_id}/assign",
            json={"unit_id": unit_id, **extra},
            headers=headers,
        )

    def test_assign_a_free_unit(self, client, dispatcher, factory, new_ticket):
        factory.unit(point=KEPANJEN)  # the nearest, not chosen
        chosen = factory.unit(point=offset(KEPANJEN, 4000, 0))
        ticket_id = new_ticket()
        response = self.assign(client, dispatcher, ticket_id, chosen)
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        assert body["status"] == "dispatched" and body["unit"]["id"] == chosen
        offer = active(factory, ticket_id)
        assert offer.manual is True and offer.unit_id == chosen
        assert 3900 < offer.distance_m < 4100

    def test_suggestions_list_the_units_that_could_go(
        self, client, dispatcher, factory, new_ticket, app
    ):
        a = factory.unit(point=offset(KEPANJEN, 100, 0))
        factory.unit(point=offset(KEPANJEN, 50, 0), status="off_duty")
        factory.unit(point=offset(KEPANJEN, 60, 0), status="unavailable")
        busy_high = factory.unit(point=offset(KEPANJEN, 70, 0))
        busy_low = factory.unit(point=offset(KEPANJEN, 900, 0))
        stale = factory.unit(point=offset(KEPANJEN, 3000, 0), age_s=3600)
        urgent = new_ticket(priority=1, category="assault", point=offset(KEPANJEN, 70, 0))
        route(factory, urgent)  # takes busy_high, the nearest to it
        assert active(factory, urgent).unit_id == busy_high
        low = new_ticket(priority=4, category="noise", point=offset(KEPANJEN, 900, 0))
        route(factory, low)
        assert active(factory, low).unit_id == busy_low
        ticket_id = new_ticket(priority=2, category="fight")
        body = client.get(f"/api/v1/tickets/{ticket_id}/suggestions", headers=dispatcher).get_json()
        # The free unit, the one on a lower-priority job, and the stale free one; never
        # the off-duty, unavailable or higher-priority-busy units, however near.
        assert [s["unit"]["id"] for s in body] == [a, busy_low, stale]
        assert body[0]["distance_m"] == pytest.approx(100, abs=3)
        assert body[0]["eta_s"] > 0 and body[0]["stale"] is False
        assert body[0]["needs_confirmation"] is False
        assert body[1]["current_job"]["priority"] == 4 and body[1]["needs_confirmation"]
        assert body[2]["stale"] is True

    def test_reassign_an_offered_ticket_frees_the_first_unit(
        self, client, dispatcher, factory, new_ticket
    ):
        first = factory.unit(point=KEPANJEN)
        other = factory.unit(point=offset(KEPANJEN, 2000, 0))
        ticket_id = new_ticket()
        route(factory, ticket_id)
        assert self.assign(client, dispatcher, ticket_id, other).status_code == 201
        assert factory.unit_row(first).status == "available"
        statuses = [(a.unit_id, a.status) for a in factory.assignments(ticket_id)]
        assert statuses == [(first, "cancelled"), (other, "offered")]

    def test_pulling_a_unit_off_a_lower_priority_job_needs_confirmation(
        self, client, dispatcher, factory, new_ticket, app
    ):
        unit = factory.unit(point=KEPANJEN)
        low = new_ticket(priority=4, category="noise")
        route(factory, low)
        answer(factory, app, lifecycle.accept, active(factory, low).id)
        answer(factory, app, lifecycle.progress, active(factory, low).id, {"status": "en_route"})
        urgent = new_ticket(priority=1, category="assault", point=offset(KEPANJEN, 500, 0))
        refused = self.assign(client, dispatcher, urgent, unit)
        assert refused.status_code == 409
        assert refused.get_json()["error"]["code"] == "confirmation_required"
        assert factory.ticket(low).status == "en_route"  # nothing changed
        confirmed = self.assign(client, dispatcher, urgent, unit, confirm=True)
        assert confirmed.status_code == 201
        assert active(factory, urgent).unit_id == unit
        assert factory.unit_row(unit).status == "dispatched"
        low_ticket = factory.ticket(low)
        assert (low_ticket.status, low_ticket.status_reason) == ("queued", "unit_reassigned")
        withdrawn = factory.assignments(low)[0]
        assert (withdrawn.status, withdrawn.end_reason) == ("cancelled", "reassigned")

    def test_a_unit_on_an_equal_or_higher_priority_job_is_refused(
        self, client, dispatcher, factory, new_ticket
    ):
        unit = factory.unit(point=KEPANJEN)
        first = new_ticket(priority=2, category="assault")
        route(factory, first)
        second = new_ticket(priority=2, category="fight", point=offset(KEPANJEN, 400, 0))
        response = self.assign(client, dispatcher, second, unit, confirm=True)
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "unit_busy"
        assert active(factory, first).unit_id == unit

    def test_off_duty_unit_and_bad_input(self, client, dispatcher, factory, new_ticket):
        off = factory.unit(point=KEPANJEN, status="off_duty")
        ticket_id = new_ticket()
        assert self.assign(client, dispatcher, ticket_id, off).status_code == 409
        assert self.assign(client, dispatcher, ticket_id, "x").status_code == 422
        assert self.assign(client, dispatcher, ticket_id, 99999).status_code == 422
        assert self.assign(client, dispatcher, 99999, off).status_code == 404
        assert factory.assignments() == []


def test_routing_skips_a_unit_another_transaction_holds(production_stack, factory, new_ticket):
    """PostgreSQL: a routing transaction may claim several units; it never waits for a unit
    row another transaction holds (two of them could wait for each other: a deadlock). The
    held unit is passed over for the next nearest."""
    import threading

    from sqlalchemy import text

    app = production_stack
    held = factory.unit(point=offset(KEPANJEN, 100, 0))
    free = factory.unit(point=offset(KEPANJEN, 800, 0))
    ticket_id = new_ticket()
    with app.app_context():
        other = db.engine.connect()
        other.execute(text("SELECT id FROM units WHERE id = :u FOR UPDATE"), {"u": held})
        outcome = {}
        thread = threading.Thread(
            target=lambda: outcome.setdefault("result", route(factory, ticket_id))
        )
        thread.start()
        thread.join(10)
        finished = not thread.is_alive()
        other.rollback()
        other.close()
        thread.join(10)
        db.session.remove()
    assert finished, "routing waited for a unit another transaction held"
    assert outcome["result"] == "offered"
    assert active(factory, ticket_id).unit_id == free
    assert factory.unit_row(held).status == "available"
