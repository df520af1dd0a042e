"""The unit's own device: offers, answers, progress, own status and position reports.

A unit acts on its own assignments and tickets only; every other id is 404 to it.
"""

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.extensions import db
from callcenter.models import Assignment, UnitPosition
from callcenter.services import clock, routing
from tests.helpers import KEPANJEN, offset, ticket_payload

NEAR = offset(KEPANJEN, 300, 0)
FAR = offset(KEPANJEN, 2000, 0)


@pytest.fixture
def dispatcher(factory):
    return factory.headers("dispatcher")


@pytest.fixture
def crew(factory):
    """Two units, A (near Kepanjen) and B (further away), each with its own device token."""
    a = factory.unit(callsign="SGS-1", point=NEAR, age_s=60)
    b = factory.unit(callsign="SGS-2", point=FAR, age_s=60)
    return {"a": a, "b": b, "a_headers": factory.unit_user(a), "b_headers": factory.unit_user(b)}


def new_offer(client, factory, dispatcher, **overrides):
    """Log a call and route it now (no worker needed); returns (ticket json, assignment)."""
    ticket = client.post(
        "/api/v1/tickets", json=ticket_payload(**overrides), headers=dispatcher
    ).get_json()
    assert factory.run(routing.route_ticket, ticket["id"]) == "offered"
    [offer] = [a for a in factory.assignments(ticket["id"]) if a.status == "offered"]
    return ticket, offer


def set_deadline(app, assignment_id, moment):
    with app.app_context():
        db.session.execute(
            db.update(Assignment).where(Assignment.id == assignment_id).values(deadline_at=moment)
        )
        db.session.commit()
        db.session.remove()


def error(response):
    return response.get_json()["error"]


def accept(client, assignment_id, headers):
    return client.post(f"/api/v1/assignments/{assignment_id}/accept", headers=headers)


def progress(client, assignment_id, headers, **body):
    return client.post(f"/api/v1/assignments/{assignment_id}/progress", json=body, headers=headers)


# --- the current offer ---------------------------------------------------------------------


def test_the_unit_sees_its_offer_with_what_it_needs(client, factory, dispatcher, crew):
    empty = client.get("/api/v1/units/me/assignment", headers=crew["a_headers"]).get_json()
    assert empty["assignment"] is None and empty["ticket"] is None
    assert empty["unit"]["callsign"] == "SGS-1"

    ticket, offer = new_offer(
        client, factory, dispatcher, category="violent_robbery", priority=1, units_needed=1
    )
    assert offer.unit_id == crew["a"]
    body = client.get("/api/v1/units/me/assignment", headers=crew["a_headers"]).get_json()
    assert body["assignment"]["id"] == offer.id
    assert body["assignment"]["status"] == "offered"
    assert body["assignment"]["distance_m"] == pytest.approx(300, abs=5)
    assert body["assignment"]["eta_s"] > 0
    deadline = datetime.fromisoformat(body["assignment"]["deadline_at"])
    server_time = datetime.fromisoformat(body["server_time"])
    assert 0 < (deadline - server_time).total_seconds() <= 45
    t = body["ticket"]
    assert t["id"] == ticket["id"] and t["number"] == ticket["number"]
    assert t["category"] == "violent_robbery" and t["priority"] == 1
    assert t["category_label"]["id"].startswith("Pencurian dengan kekerasan")
    assert t["summary"] == "Dompet dicopet di pasar"
    assert t["location"]["address"] == "Pasar Kepanjen"
    assert t["caller"]["phone"] == "+62811482000"
    assert "flags" not in t
    assert body["unit"]["status"] == "dispatched"
    # The other unit has nothing.
    other = client.get("/api/v1/units/me/assignment", headers=crew["b_headers"]).get_json()
    assert other["assignment"] is None


# --- accept and decline --------------------------------------------------------------------


def test_accept_acknowledges_the_ticket_once(client, factory, dispatcher, crew):
    ticket, offer = new_offer(client, factory, dispatcher)
    response = accept(client, offer.id, crew["a_headers"])
    assert response.status_code == 200
    assert response.get_json()["status"] == "accepted"
    assert response.get_json()["ticket_status"] == "acknowledged"
    assert factory.ticket(ticket["id"]).status == "acknowledged"
    assert factory.unit_row(crew["a"]).status == "dispatched"
    accepted = factory.events("assignment.accepted")
    assert [(e.unit_id, e.ticket_id) for e in accepted] == [(crew["a"], ticket["id"])]

    # A retry of the same tap (the answer was lost on the way back) changes nothing.
    again = accept(client, offer.id, crew["a_headers"])
    assert again.status_code == 200 and again.get_json()["status"] == "accepted"
    assert len(factory.events("assignment.accepted")) == 1


def test_decline_needs_a_reason_and_passes_the_ticket_on(client, factory, dispatcher, crew):
    ticket, offer = new_offer(client, factory, dispatcher)
    url = f"/api/v1/assignments/{offer.id}/decline"
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": 5}):
        refused = client.post(url, json=body, headers=crew["a_headers"])
        assert refused.status_code == 422, body
        assert "reason" in error(refused)["fields"]
    assert factory.assignments(ticket["id"])[0].status == "offered"

    response = client.post(url, json={"reason": "too_far"}, headers=crew["a_headers"])
    assert response.status_code == 200
    assert response.get_json()["status"] == "declined"
    assert response.get_json()["decline_reason"] == "too_far"
    assert factory.unit_row(crew["a"]).status == "available"
    first, second = factory.assignments(ticket["id"])
    assert first.status == "declined"
    assert (second.unit_id, second.status) == (crew["b"], "offered")
    [declined] = factory.events("assignment.declined")
    assert declined.unit_id == crew["a"] and declined.data["reason"] == "too_far"

    again = client.post(url, json={"reason": "too_far"}, headers=crew["a_headers"])
    assert again.status_code == 409
    assert error(again)["code"] == "assignment_declined"


def test_accepting_an_expired_offer_is_refused_in_words(client, factory, dispatcher, crew, app):
    ticket, offer = new_offer(client, factory, dispatcher)
    set_deadline(app, offer.id, clock.now() - timedelta(seconds=1))
    response = accept(client, offer.id, crew["a_headers"])
    assert response.status_code == 409
    assert error(response)["code"] == "assignment_expired"
    assert error(response)["message"].startswith("Tawaran ini sudah kedaluwarsa")
    # The late answer expired the offer itself (no sweep needed) and the ticket moved on.
    first, second = factory.assignments(ticket["id"])
    assert first.status == "expired" and first.end_reason == "no_answer"
    assert (second.unit_id, second.status) == (crew["b"], "offered")
    unit = factory.unit_row(crew["a"])
    assert (unit.status, unit.status_reason) == ("unavailable", "offer_expired")
    english = accept(client, offer.id, {**crew["a_headers"], "Accept-Language": "en"})
    assert english.status_code == 409
    assert error(english)["message"].startswith("This offer has expired")


def test_accepting_an_offer_after_the_ticket_was_cancelled(client, factory, dispatcher, crew):
    ticket, offer = new_offer(client, factory, dispatcher)
    cancelled = client.post(
        f"/api/v1/tickets/{ticket['id']}/cancel",
        json={"reason": "Pelapor membatalkan"},
        headers=dispatcher,
    )
    assert cancelled.status_code == 200
    response = accept(client, offer.id, crew["a_headers"])
    assert response.status_code == 409
    assert error(response)["code"] == "assignment_cancelled"
    assert error(response)["message"] == "Pusat komando membatalkan tiket ini."
    assert factory.unit_row(crew["a"]).status == "available"
    decline = client.post(
        f"/api/v1/assignments/{offer.id}/decline",
        json={"reason": "busy"},
        headers=crew["a_headers"],
    )
    assert decline.status_code == 409 and error(decline)["code"] == "assignment_cancelled"


def test_an_offer_given_to_another_unit_is_refused(client, factory, dispatcher, crew):
    ticket, offer = new_offer(client, factory, dispatcher)
    moved = client.post(
        f"/api/v1/tickets/{ticket['id']}/assign", json={"unit_id": crew["b"]}, headers=dispatcher
    )
    assert moved.status_code == 201, moved.get_json()
    response = accept(client, offer.id, crew["a_headers"])
    assert response.status_code == 409
    assert error(response)["code"] == "assignment_cancelled"
    assert "unit lain" in error(response)["message"]


# --- progress ------------------------------------------------------------------------------


def test_progress_en_route_on_scene_cleared(client, factory, dispatcher, crew):
    ticket, offer = new_offer(client, factory, dispatcher)
    assert accept(client, offer.id, crew["a_headers"]).status_code == 200

    response = progress(client, offer.id, crew["a_headers"], status="en_route")
    assert response.status_code == 200 and response.get_json()["ticket_status"] == "en_route"
    assert factory.unit_row(crew["a"]).status == "en_route"
    # A retried step changes nothing.
    n_events = len(factory.events())
    assert progress(client, offer.id, crew["a_headers"], status="en_route").status_code == 200
    assert len(factory.events()) == n_events

    response = progress(client, offer.id, crew["a_headers"], status="on_scene")
    assert response.status_code == 200 and response.get_json()["ticket_status"] == "on_scene"
    assert factory.ticket(ticket["id"]).on_scene_at is not None
    assert factory.unit_row(crew["a"]).status == "on_scene"

    backwards = progress(client, offer.id, crew["a_headers"], status="en_route")
    assert backwards.status_code == 409
    assert error(backwards)["code"] == "invalid_transition"
    assert error(backwards)["message"] == (
        "Tugas berstatus tiba di TKP; tidak dapat berpindah ke dalam perjalanan."
    )

    no_resolution = progress(client, offer.id, crew["a_headers"], status="cleared")
    assert no_resolution.status_code == 422
    assert "resolution" in error(no_resolution)["fields"]
    unknown = progress(client, offer.id, crew["a_headers"], status="cleared", resolution="magic")
    assert unknown.status_code == 422
    bad_status = progress(client, offer.id, crew["a_headers"], status="closed")
    assert bad_status.status_code == 422 and "status" in error(bad_status)["fields"]

    cleared = progress(
        client,
        offer.id,
        crew["a_headers"],
        status="cleared",
        resolution="secured",
        note="Pelaku diamankan ke Polsek",
    )
    assert cleared.status_code == 200
    assert cleared.get_json()["status"] == "completed"
    closed = factory.ticket(ticket["id"])
    assert (closed.status, closed.resolution) == ("closed", "secured")
    assert closed.resolution_note == "Pelaku diamankan ke Polsek"
    assert factory.unit_row(crew["a"]).status == "available"
    [event] = factory.events("ticket.closed")
    assert event.unit_id == crew["a"] and event.data["resolution"] == "secured"


def test_progress_after_cleared_is_refused(client, factory, dispatcher, crew):
    _, offer = new_offer(client, factory, dispatcher)
    accept(client, offer.id, crew["a_headers"])
    progress(client, offer.id, crew["a_headers"], status="cleared", resolution="handled")
    for body in (
        {"status": "en_route"},
        {"status": "on_scene"},
        {"status": "cleared", "resolution": "handled"},
    ):
        response = progress(client, offer.id, crew["a_headers"], **body)
        assert response.status_code == 409, body
        assert error(response)["code"] == "assignment_completed"
        assert error(response)["message"] == "Tugas ini sudah selesai."
    assert len(factory.events("ticket.closed")) == 1


def test_progress_before_accept_is_refused(client, factory, dispatcher, crew):
    _, offer = new_offer(client, factory, dispatcher)
    for body in (
        {"status": "en_route"},
        {"status": "on_scene"},
        {"status": "cleared", "resolution": "handled"},
    ):
        response = progress(client, offer.id, crew["a_headers"], **body)
        assert response.status_code == 409, body
        assert error(response)["code"] == "invalid_transition"
        assert error(response)["message"] == "Terima tawaran terlebih dahulu."
    assert factory.assignments()[0].status == "offered"


def test_a_job_closed_by_the_command_center_cannot_be_progressed(client, factory, dispatcher, crew):
    ticket, offer = new_offer(client, factory, dispatcher)
    accept(client, offer.id, crew["a_headers"])
    closed = client.post(
        f"/api/v1/tickets/{ticket['id']}/close", json={"resolution": "handled"}, headers=dispatcher
    )
    assert closed.status_code == 200
    response = progress(client, offer.id, crew["a_headers"], status="en_route")
    assert response.status_code == 409
    assert error(response)["code"] == "assignment_completed"
    assert error(response)["message"] == "Pusat komando menutup tugas ini."


# --- own status ----------------------------------------------------------------------------


def test_own_status_toggle(client, factory, crew):
    headers = crew["a_headers"]
    for status in ("unavailable", "off_duty", "available"):
        response = client.put("/api/v1/units/me/status", json={"status": status}, headers=headers)
        assert response.status_code == 200
        assert response.get_json()["status"] == status
        assert factory.unit_row(crew["a"]).status == status
    changes = [e for e in factory.events("unit.status_changed") if e.unit_id == crew["a"]]
    assert [e.data["to"] for e in changes] == ["unavailable", "off_duty", "available"]
    for body in ({"status": "on_scene"}, {"status": "dispatched"}, {}, {"status": "x", "y": 1}):
        refused = client.put("/api/v1/units/me/status", json=body, headers=headers)
        assert refused.status_code == 422, body
    assert factory.unit_row(crew["b"]).status == "available"


def test_own_status_is_refused_while_on_a_job(client, factory, dispatcher, crew):
    _, offer = new_offer(client, factory, dispatcher)
    headers = crew["a_headers"]
    offered = client.put("/api/v1/units/me/status", json={"status": "off_duty"}, headers=headers)
    assert offered.status_code == 409 and error(offered)["code"] == "unit_busy"
    accept(client, offer.id, headers)
    progress(client, offer.id, headers, status="en_route")
    busy = client.put("/api/v1/units/me/status", json={"status": "available"}, headers=headers)
    assert busy.status_code == 409 and error(busy)["code"] == "unit_busy"
    assert factory.unit_row(crew["a"]).status == "en_route"
    progress(client, offer.id, headers, status="cleared", resolution="handled")
    free = client.put("/api/v1/units/me/status", json={"status": "off_duty"}, headers=headers)
    assert free.status_code == 200


# --- positions -----------------------------------------------------------------------------


def at(seconds_ago: float) -> str:
    return (clock.now() - timedelta(seconds=seconds_ago)).isoformat()


def positions(factory, app, unit_id):
    with app.app_context():
        rows = db.session.scalars(
            db.select(UnitPosition)
            .where(UnitPosition.unit_id == unit_id)
            .order_by(UnitPosition.recorded_at)
        ).all()
        result = [(r.lat, r.lon, r.applied) for r in rows]
        db.session.remove()
        return result


def test_positions_in_order_late_and_repeated(client, factory, crew, app):
    url, headers = "/api/v1/units/me/location", crew["a_headers"]
    p1, p2, old = offset(KEPANJEN, 100, 0), offset(KEPANJEN, 200, 0), offset(KEPANJEN, 900, 0)
    t1, t2 = at(20), at(10)

    first = client.post(url, json={"lat": p1[0], "lon": p1[1], "recorded_at": t1}, headers=headers)
    assert first.status_code == 201
    assert first.get_json() == {
        "applied": True,
        "duplicate": False,
        "recorded_at": datetime.fromisoformat(t1).isoformat(),
    }
    body = {"lat": p2[0], "lon": p2[1], "accuracy_m": 12.5, "recorded_at": t2}
    assert client.post(url, json=body, headers=headers).status_code == 201
    unit = factory.unit_row(crew["a"])
    assert (unit.lat, unit.lon, unit.accuracy_m) == (p2[0], p2[1], 12.5)

    # A report measured before the one applied arrives late: kept, but the unit stays put.
    late = client.post(
        url, json={"lat": old[0], "lon": old[1], "recorded_at": at(15)}, headers=headers
    )
    assert late.status_code == 200
    assert late.get_json()["applied"] is False and late.get_json()["duplicate"] is False
    assert (factory.unit_row(crew["a"]).lat, factory.unit_row(crew["a"]).lon) == p2

    # The same report sent twice (a retry) is one report and changes nothing.
    repeat = client.post(url, json=body, headers=headers)
    assert repeat.status_code == 200
    assert repeat.get_json()["duplicate"] is True and repeat.get_json()["applied"] is False
    repeat_old = client.post(
        url, json={"lat": p1[0], "lon": p1[1], "recorded_at": t1}, headers=headers
    )
    assert repeat_old.get_json()["duplicate"] is True
    assert positions(factory, app, crew["a"]) == [
        (p1[0], p1[1], True),
        (old[0], old[1], False),
        (p2[0], p2[1], True),
    ]
    assert positions(factory, app, crew["b"]) == []
    # Position pings are not audit events.
    assert not [e for e in factory.events() if e.type.startswith("unit.position")]


def test_a_position_without_a_time_is_taken_as_now(client, factory, crew):
    before = clock.now()
    response = client.post(
        "/api/v1/units/me/location",
        json={"lat": NEAR[0], "lon": NEAR[1]},
        headers=crew["a_headers"],
    )
    assert response.status_code == 201
    recorded = datetime.fromisoformat(response.get_json()["recorded_at"])
    assert recorded >= before
    assert factory.unit_row(crew["a"]).position_at >= before


@pytest.mark.parametrize(
    "body,field",
    [
        ({"lat": 91, "lon": 112.5}, "lat"),
        ({"lat": -8.1, "lon": 181}, "lon"),
        ({"lat": "-8.1", "lon": 112.5}, "lat"),
        ({"lon": 112.5}, "lat"),
        ({"lat": 51.5, "lon": -0.12}, "lat"),  # London: not in Indonesia
        ({"lat": float("nan"), "lon": 112.5}, "lat"),
        ({"lat": -8.1, "lon": 112.5, "accuracy_m": -3}, "accuracy_m"),
        ({"lat": -8.1, "lon": 112.5, "recorded_at": "yesterday"}, "recorded_at"),
        ({"lat": -8.1, "lon": 112.5, "recorded_at": "2026-01-05T10:00:00"}, "recorded_at"),
        ({"lat": -8.1, "lon": 112.5, "speed": 3}, "speed"),
    ],
)
def test_impossible_positions_are_refused(client, factory, crew, app, body, field):
    response = client.post("/api/v1/units/me/location", json=body, headers=crew["a_headers"])
    assert response.status_code == 422
    assert field in error(response)["fields"]
    assert positions(factory, app, crew["a"]) == []
    assert factory.unit_row(crew["a"]).lat == NEAR[0]


def test_a_position_from_the_future_is_refused(client, factory, crew, app):
    future = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    response = client.post(
        "/api/v1/units/me/location",
        json={"lat": -8.1, "lon": 112.5, "recorded_at": future},
        headers=crew["a_headers"],
    )
    assert response.status_code == 422
    assert "recorded_at" in error(response)["fields"]
    assert positions(factory, app, crew["a"]) == []


# --- only its own: 404 for everything else -------------------------------------------------


def test_another_units_assignment_and_ticket_are_404_on_every_endpoint(
    client, factory, dispatcher, crew
):
    a_ticket, a_offer = new_offer(client, factory, dispatcher)
    b_ticket, b_offer = new_offer(client, factory, dispatcher, summary="Motor dicuri")
    assert (a_offer.unit_id, b_offer.unit_id) == (crew["a"], crew["b"])
    a = crew["a_headers"]
    calls = [
        ("POST", f"/api/v1/assignments/{b_offer.id}/accept", None),
        ("POST", f"/api/v1/assignments/{b_offer.id}/decline", {"reason": "busy"}),
        ("POST", f"/api/v1/assignments/{b_offer.id}/progress", {"status": "en_route"}),
        (
            "POST",
            f"/api/v1/assignments/{b_offer.id}/progress",
            {"status": "cleared", "resolution": "handled"},
        ),
        ("GET", f"/api/v1/units/me/tickets/{b_ticket['id']}", None),
        ("POST", "/api/v1/assignments/99999/accept", None),
        ("POST", "/api/v1/assignments/99999/decline", {"reason": "busy"}),
        ("POST", "/api/v1/assignments/99999/progress", {"status": "en_route"}),
        ("GET", "/api/v1/units/me/tickets/99999", None),
    ]
    for method, path, body in calls:
        response = client.open(path, method=method, json=body, headers=a)
        assert response.status_code == 404, (method, path, response.get_json())
        assert error(response)["code"] == "not_found"
    # B's offer is untouched, and B still can work it.
    assert factory.assignments(b_ticket["id"])[0].status == "offered"
    assert accept(client, b_offer.id, crew["b_headers"]).status_code == 200
    # After B accepted, A still cannot touch it.
    for method, path, body in calls[2:5]:
        assert client.open(path, method=method, json=body, headers=a).status_code == 404
    assert factory.ticket(b_ticket["id"]).status == "acknowledged"

    # Its own ticket it may read, with its assignment; a ticket it declined stays readable.
    own = client.get(f"/api/v1/units/me/tickets/{a_ticket['id']}", headers=a)
    assert own.status_code == 200
    assert own.get_json()["assignment"]["id"] == a_offer.id
    assert "flags" not in own.get_json()
    # Its job list has its own jobs only.
    jobs = client.get("/api/v1/units/me/jobs", headers=a).get_json()
    assert [j["id"] for j in jobs] == [a_offer.id]
    assert jobs[0]["ticket"]["number"] == a_ticket["number"]


def test_a_unit_token_reaches_no_staff_endpoint_about_its_own_job(
    client, factory, dispatcher, crew
):
    ticket, _ = new_offer(client, factory, dispatcher)
    a = crew["a_headers"]
    for method, path, body in (
        ("GET", f"/api/v1/tickets/{ticket['id']}", None),
        ("GET", "/api/v1/tickets", None),
        ("POST", f"/api/v1/tickets/{ticket['id']}/cancel", {"reason": "x"}),
        ("POST", f"/api/v1/tickets/{ticket['id']}/close", {"resolution": "handled"}),
        ("POST", f"/api/v1/tickets/{ticket['id']}/assign", {"unit_id": crew["b"]}),
        ("PATCH", f"/api/v1/tickets/{ticket['id']}", {"priority": 1}),
        ("GET", f"/api/v1/units/{crew['b']}", None),
        ("GET", "/api/v1/units", None),
        ("GET", "/api/v1/users", None),
    ):
        response = client.open(path, method=method, json=body, headers=a)
        assert response.status_code == 403, (method, path)
    assert factory.ticket(ticket["id"]).status == "dispatched"


# --- events: a unit reads its own --------------------------------------------------------


def test_the_event_list_carries_only_the_units_own_events(client, factory, dispatcher, crew):
    """A unit reads its own events and what happened to the tickets it was on then; never
    another unit's offer or answer on a ticket it was not on."""
    a_ticket, a_offer = new_offer(client, factory, dispatcher)
    b_ticket, b_offer = new_offer(client, factory, dispatcher, summary="Motor dicuri")
    accept(client, a_offer.id, crew["a_headers"])
    client.post(
        f"/api/v1/assignments/{b_offer.id}/decline",
        json={"reason": "busy"},
        headers=crew["b_headers"],
    )
    seen = client.get("/api/v1/events?after=0", headers=crew["a_headers"]).get_json()
    assert seen and {e["unit_id"] for e in seen} == {crew["a"]}
    assert {e["ticket_id"] for e in seen if e["ticket_id"]} == {a_ticket["id"]}
    assert "assignment.offered" in [e["type"] for e in seen]
    assert "assignment.accepted" in [e["type"] for e in seen]
    seen_b = client.get("/api/v1/events?after=0", headers=crew["b_headers"]).get_json()
    assert {e["unit_id"] for e in seen_b} <= {crew["b"], None}
    assert {e["ticket_id"] for e in seen_b if e["ticket_id"]} == {b_ticket["id"]}
    assert all(e["unit_id"] == crew["b"] for e in seen_b if e["type"].startswith("assignment."))
    assert "assignment.declined" in [e["type"] for e in seen_b]
    # A cursor gives what came after it.
    after = seen[0]["id"]
    later = client.get(f"/api/v1/events?after={after}", headers=crew["a_headers"]).get_json()
    assert [e["id"] for e in later] == [e["id"] for e in seen[1:]]
    # The dispatcher reads everything.
    everything = client.get("/api/v1/events?after=0&limit=500", headers=dispatcher).get_json()
    assert {crew["a"], crew["b"]} <= {e["unit_id"] for e in everything}


def own_types(client, headers, after=0):
    return [
        e["type"]
        for e in client.get(f"/api/v1/events?after={after}&limit=500", headers=headers).get_json()
    ]


def last_event_id(factory):
    return factory.events()[-1].id


def test_every_event_about_the_units_job_reaches_it(client, factory, dispatcher, crew, app):
    """Each change a unit must hear about carries its unit id (else its stream misses it)."""
    a = crew["a_headers"]
    ticket, offer = new_offer(client, factory, dispatcher)
    assert {"assignment.offered", "ticket.status_changed", "unit.status_changed"} <= set(
        own_types(client, a)
    )

    # The dispatcher edits the ticket while it is offered to the unit.
    mark = last_event_id(factory)
    client.patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": 1}, headers=dispatcher)
    assert own_types(client, a, mark) == ["ticket.updated"]

    # The dispatcher cancels it while offered.
    mark = last_event_id(factory)
    client.post(f"/api/v1/tickets/{ticket['id']}/cancel", json={"reason": "x"}, headers=dispatcher)
    assert {"assignment.cancelled", "ticket.cancelled", "unit.status_changed"} <= set(
        own_types(client, a, mark)
    )

    # ... and while accepted.
    ticket, offer = new_offer(client, factory, dispatcher)
    assert offer.unit_id == crew["a"]
    accept(client, offer.id, a)
    mark = last_event_id(factory)
    client.post(f"/api/v1/tickets/{ticket['id']}/cancel", json={"reason": "x"}, headers=dispatcher)
    assert {"assignment.cancelled", "ticket.cancelled", "unit.status_changed"} <= set(
        own_types(client, a, mark)
    )

    # The dispatcher closes an accepted job.
    ticket, offer = new_offer(client, factory, dispatcher)
    accept(client, offer.id, a)
    mark = last_event_id(factory)
    client.post(
        f"/api/v1/tickets/{ticket['id']}/close", json={"resolution": "handled"}, headers=dispatcher
    )
    assert {"assignment.completed", "ticket.closed", "unit.status_changed"} <= set(
        own_types(client, a, mark)
    )

    # The dispatcher gives the job to another unit.
    ticket, offer = new_offer(client, factory, dispatcher)
    mark = last_event_id(factory)
    client.post(
        f"/api/v1/tickets/{ticket['id']}/assign", json={"unit_id": crew["b"]}, headers=dispatcher
    )
    assert {"assignment.cancelled", "unit.status_changed"} <= set(own_types(client, a, mark))
    assert "assignment.offered" not in own_types(client, a, mark)

    # The offer runs out.
    client.post(f"/api/v1/tickets/{ticket['id']}/cancel", json={"reason": "x"}, headers=dispatcher)
    ticket, offer = new_offer(client, factory, dispatcher)
    assert offer.unit_id == crew["a"]
    set_deadline(app, offer.id, clock.now() - timedelta(seconds=1))
    mark = last_event_id(factory)
    from callcenter.services import lifecycle

    assert factory.run(lifecycle.expire_offer, offer.id) is True
    # The slot went straight to unit B: the ticket stayed "dispatched", A hears of its offer.
    assert {"assignment.expired", "unit.status_changed"} <= set(own_types(client, a, mark))
