"""The officer in danger (emergency button, alarm, end) and incidents found on patrol."""

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from callcenter.extensions import db
from callcenter.models import Emergency, Ticket, Unit
from callcenter.services import clock, routing
from tests.helpers import KEPANJEN, offset, ticket_payload

HERE = offset(KEPANJEN, 0, 0)


@pytest.fixture
def dispatcher(factory):
    return factory.headers("dispatcher")


@pytest.fixture
def officer(factory):
    """The unit in danger (at Kepanjen, the nearest to itself) and its device token."""
    unit_id = factory.unit(callsign="KPJ-1", point=HERE)
    return unit_id, factory.unit_user(unit_id)


@pytest.fixture
def responders(factory):
    """Three units 300, 600 and 900 m away."""
    return [
        factory.unit(callsign=f"PKS-{i + 1}", point=offset(KEPANJEN, 300 * (i + 1), 0))
        for i in range(3)
    ]


def press(client, headers, body=None):
    return client.post("/api/v1/units/me/emergency", json=body or {}, headers=headers)


def error(response):
    return response.get_json()["error"]


def active(factory, ticket_id):
    return [a for a in factory.assignments(ticket_id) if a.status in ("offered", "accepted")]


def open_emergencies(app) -> int:
    with app.app_context():
        n = db.session.scalar(
            db.select(db.func.count()).select_from(Emergency).where(Emergency.ended_at.is_(None))
        )
        db.session.remove()
    return n


# --- the press ---------------------------------------------------------------------------------


def test_the_press_makes_a_priority_one_ticket_routed_and_escalated_at_once(
    client, factory, officer, responders, dispatcher
):
    unit_id, headers = officer
    point = offset(KEPANJEN, 50, 50)
    response = press(client, headers, {"lat": point[0], "lon": point[1]})
    assert response.status_code == 201, response.get_json()
    t = response.get_json()
    assert (t["priority"], t["category"], t["channel"]) == (1, "officer_emergency", "panic_button")
    assert t["category_label"]["id"] == "Petugas butuh bantuan"
    assert t["units_needed"] == 2
    assert t["location"]["lat"] == pytest.approx(point[0])
    emergency = t["emergency"]
    assert emergency["unit"]["callsign"] == "KPJ-1"
    assert emergency["alarm_active"] is True and emergency["acknowledged_at"] is None
    assert emergency["raised_at"] is not None and emergency["located_at"] is not None
    assert t["position_ignored"] is None
    # Routed at once to the two nearest units, never to the officer in danger.
    assert [u["unit"]["id"] for u in t["units"]] == responders[:2]
    assert unit_id not in {a.unit_id for a in factory.assignments(t["id"])}
    board = client.get(f"/api/v1/tickets/{t['id']}", headers=dispatcher).get_json()
    assert (
        board["flags"]["escalated"] and board["flags"]["escalation_reason"] == "officer_emergency"
    )
    assert board["flags"]["alarm"] is True
    raised = factory.events("emergency.raised")
    assert len(raised) == 1 and raised[0].unit_id == unit_id
    assert raised[0].data["callsign"] == "KPJ-1" and raised[0].data["repeat"] is False
    # The officer's own device sees its emergency, and the alarm, on its stream.
    mine = client.get(f"/api/v1/units/me/tickets/{t['id']}", headers=headers)
    assert mine.status_code == 200 and mine.get_json()["emergency"]["alarm_active"] is True
    me = client.get("/api/v1/units/me", headers=headers).get_json()
    assert me["emergency"]["ticket_id"] == t["id"]
    own = client.get("/api/v1/events", headers=headers).get_json()
    assert "emergency.raised" in {e["type"] for e in own}


def test_pressing_again_returns_the_open_emergency(client, factory, officer, responders):
    _, headers = officer
    first = press(client, headers)
    assert first.status_code == 201
    again = press(client, headers)
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert factory.count(Ticket) == 1
    assert len(factory.events("emergency.raised")) == 1  # nothing new while unacknowledged


def test_without_a_position_in_the_press_the_last_known_one_is_used(
    client, factory, officer, responders
):
    unit_id, headers = officer
    t = press(client, headers).get_json()
    unit = factory.unit_row(unit_id)
    assert (t["location"]["lat"], t["location"]["lon"]) == (unit.lat, unit.lon)


def test_it_works_mid_job_and_off_duty(client, factory, responders, dispatcher):
    busy = factory.unit(callsign="BUSY-1", point=offset(KEPANJEN, 100, 0))
    busy_headers = factory.unit_user(busy)
    job = client.post("/api/v1/tickets", json=ticket_payload(), headers=dispatcher).get_json()
    factory.run(routing.route_ticket, job["id"])
    [offer] = active(factory, job["id"])
    assert offer.unit_id == busy
    client.post(f"/api/v1/assignments/{offer.id}/accept", headers=busy_headers)
    assert press(client, busy_headers).status_code == 201
    # The job it was on is untouched.
    assert [a.status for a in active(factory, job["id"])] == ["accepted"]
    assert factory.unit_row(busy).status == "dispatched"

    off = factory.unit(callsign="OFF-1", point=offset(KEPANJEN, 0, 2000), status="off_duty")
    assert press(client, factory.unit_user(off)).status_code == 201
    assert open_emergencies(factory.app) == 2


def test_a_press_without_any_position_raises_the_alarm_and_waits_for_one(
    client, factory, responders
):
    unit_id = factory.unit(callsign="LOST-1", point=None)
    headers = factory.unit_user(unit_id)
    response = press(client, headers)
    assert response.status_code == 201
    t = response.get_json()
    assert t["location"] is None and t["emergency"]["alarm_active"] is True
    assert (t["status"], t["status_reason"]) == ("queued", "no_location")
    # Its first position report moves the ticket there, and it is routed.
    point = offset(KEPANJEN, 0, 500)
    report = client.post(
        "/api/v1/units/me/location", json={"lat": point[0], "lon": point[1]}, headers=headers
    )
    assert report.status_code == 201
    ticket = factory.ticket(t["id"])
    assert (ticket.lat, ticket.lon) == pytest.approx(point)
    assert len(active(factory, t["id"])) == 2


@pytest.mark.parametrize(
    "body,field",
    [
        ({"lat": 91, "lon": 112}, "lat"),
        ({"lat": -8.1}, "lon"),
        ({"lat": 51.5, "lon": -0.1}, "lat"),
        ({"where": "here"}, "where"),
        ({"recorded_at": "yesterday"}, "recorded_at"),
    ],
)
def test_a_position_the_press_cannot_use_is_set_aside_never_refused(
    client, factory, officer, responders, body, field
):
    """The officer is in danger: a bad point from the device must not stop the alarm."""
    unit_id, headers = officer
    response = press(client, headers, body)
    assert response.status_code == 201
    t = response.get_json()
    assert field in t["position_ignored"]
    unit = factory.unit_row(unit_id)
    assert (t["location"]["lat"], t["location"]["lon"]) == (unit.lat, unit.lon)
    assert factory.events("emergency.raised")[0].data["position_ignored"][field]
    assert len(active(factory, t["id"])) == 2


def test_a_press_with_a_body_that_is_not_json_still_raises_the_alarm(client, officer):
    _, headers = officer
    response = client.post(
        "/api/v1/units/me/emergency",
        data="lat=-8.1",
        headers={**headers, "Content-Type": "text/plain"},
    )
    assert response.status_code == 201
    assert response.get_json()["emergency"]["alarm_active"] is True


# --- the alarm ---------------------------------------------------------------------------------


def test_a_dispatcher_acknowledges_the_alarm(client, factory, officer, responders, dispatcher):
    unit_id, headers = officer
    t = press(client, headers).get_json()
    response = client.post(f"/api/v1/tickets/{t['id']}/alarm/ack", headers=dispatcher)
    assert response.status_code == 200
    emergency = response.get_json()["emergency"]
    assert emergency["alarm_active"] is False and emergency["acknowledged_at"] is not None
    assert emergency["acknowledged_by"]["role"] == "dispatcher"
    acked = factory.events("emergency.acknowledged")
    assert len(acked) == 1 and acked[0].actor_id is not None and acked[0].unit_id == unit_id
    # Acknowledging again changes nothing.
    assert (
        client.post(f"/api/v1/tickets/{t['id']}/alarm/ack", headers=dispatcher).status_code == 200
    )
    assert len(factory.events("emergency.acknowledged")) == 1
    # A press after the acknowledgement raises the alarm again.
    again = press(client, headers)
    assert again.status_code == 200 and again.get_json()["emergency"]["alarm_active"] is True
    raised = factory.events("emergency.raised")
    assert [e.data["repeat"] for e in raised] == [False, True]


def test_acknowledging_a_ticket_without_an_alarm_is_refused(client, factory, dispatcher):
    t = client.post("/api/v1/tickets", json=ticket_payload(), headers=dispatcher).get_json()
    response = client.post(f"/api/v1/tickets/{t['id']}/alarm/ack", headers=dispatcher)
    assert response.status_code == 409 and error(response)["code"] == "no_alarm"
    assert client.post("/api/v1/tickets/99999/alarm/ack", headers=dispatcher).status_code == 404


# --- the position follows the officer -------------------------------------------------------


def test_position_reports_move_the_emergency(client, factory, officer, responders):
    unit_id, headers = officer
    t = press(client, headers).get_json()

    def report(point, seconds):
        moment = (clock.now() + timedelta(seconds=seconds)).isoformat()
        response = client.post(
            "/api/v1/units/me/location",
            json={"lat": point[0], "lon": point[1], "recorded_at": moment},
            headers=headers,
        )
        assert response.status_code == 201

    before = len(factory.events("ticket.updated"))
    report(offset(KEPANJEN, 5, 5), 1)  # a few metres: the age refreshes, no audit event
    assert len(factory.events("ticket.updated")) == before
    ticket = factory.ticket(t["id"])
    assert (ticket.lat, ticket.lon) == (t["location"]["lat"], t["location"]["lon"])
    far = offset(KEPANJEN, 0, 400)
    report(far, 2)
    moved = factory.events("ticket.updated")[-1]
    assert moved.data["source"] == "position" and moved.unit_id == unit_id
    assert moved.data["changes"]["lat"][1] == pytest.approx(far[0])
    assert (factory.ticket(t["id"]).lat, factory.ticket(t["id"]).lon) == pytest.approx(far)


# --- ending it ---------------------------------------------------------------------------------


def test_the_officer_ends_the_emergency(client, factory, officer, responders):
    _, headers = officer
    t = press(client, headers).get_json()
    [first, second] = active(factory, t["id"])
    responder_headers = factory.unit_user(first.unit_id)
    client.post(f"/api/v1/assignments/{first.id}/accept", headers=responder_headers)
    assert (
        client.post("/api/v1/units/me/emergency/end", json={}, headers=headers).status_code == 422
    )
    response = client.post(
        "/api/v1/units/me/emergency/end", json={"reason": "Situasi aman"}, headers=headers
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "closed" and body["resolution_note"] == "Situasi aman"
    assert body["emergency"]["ended_at"] is not None and body["emergency"]["alarm_active"] is False
    statuses = {a.unit_id: (a.status, a.end_reason) for a in factory.assignments(t["id"])}
    assert statuses == {
        first.unit_id: ("completed", "emergency_ended"),
        second.unit_id: ("cancelled", "emergency_ended"),
    }
    assert {factory.unit_row(u).status for u in statuses} == {"available"}
    ended = factory.events("emergency.ended")
    assert len(ended) == 1 and ended[0].data["reason"] == "Situasi aman"
    # The responder hears why, in words (Bahasa Indonesia by default, English if asked).
    for lang, words in (("id", "petugas aman"), ("en", "officer is safe")):
        late = client.post(
            f"/api/v1/assignments/{first.id}/progress",
            json={"status": "en_route"},
            headers={**responder_headers, "Accept-Language": lang},
        )
        assert late.status_code == 409 and words in error(late)["message"]
    none = client.post("/api/v1/units/me/emergency/end", json={"reason": "x"}, headers=headers)
    assert none.status_code == 409 and error(none)["code"] == "no_emergency"
    # A new press is a new emergency.
    assert press(client, headers).status_code == 201


def test_a_dispatcher_closing_or_cancelling_ends_it(
    client, factory, officer, responders, dispatcher
):
    _, headers = officer
    t = press(client, headers).get_json()
    client.post(
        f"/api/v1/tickets/{t['id']}/cancel", json={"reason": "Salah tekan"}, headers=dispatcher
    )
    assert open_emergencies(factory.app) == 0
    assert factory.events("emergency.ended")[-1].data["reason"] == "Salah tekan"
    t = press(client, headers).get_json()
    client.post(
        f"/api/v1/tickets/{t['id']}/close", json={"resolution": "handled"}, headers=dispatcher
    )
    assert open_emergencies(factory.app) == 0


def test_the_emergency_keeps_its_category_and_its_unit_is_never_sent(
    client, factory, officer, responders, dispatcher
):
    unit_id, headers = officer
    t = press(client, headers).get_json()
    refused = client.patch(
        f"/api/v1/tickets/{t['id']}", json={"category": "assault"}, headers=dispatcher
    )
    assert refused.status_code == 409 and error(refused)["code"] == "emergency"
    client.patch(f"/api/v1/tickets/{t['id']}", json={"units_needed": 3}, headers=dispatcher)
    assign = client.post(
        f"/api/v1/tickets/{t['id']}/assign", json={"unit_id": unit_id}, headers=dispatcher
    )
    assert assign.status_code == 409 and error(assign)["code"] == "unit_in_danger"
    suggested = client.get(f"/api/v1/tickets/{t['id']}/suggestions", headers=dispatcher).get_json()
    assert unit_id not in {s["unit"]["id"] for s in suggested}


# --- two presses at once ---------------------------------------------------------------------


def _post(url, headers):
    request = urllib.request.Request(
        url, data=b"{}", method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_presses_at_once_make_one_ticket(live_server, factory, officer, responders):
    """Several presses of one unit at the same moment, over HTTP against a threaded server:
    one ticket, every answer names it (one 201, the others 200). Repeated after each end."""
    _, headers = officer
    url = live_server + "/api/v1/units/me/emergency"
    for _ in range(4):
        barrier = threading.Barrier(4)
        answers = []

        def one():
            barrier.wait()
            answers.append(_post(url, headers))

        threads = [threading.Thread(target=one) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        statuses = sorted(status for status, _ in answers)
        assert statuses == [200, 200, 200, 201], answers
        assert len({body["id"] for _, body in answers}) == 1
        assert open_emergencies(factory.app) == 1
        status, _ = _post_json(
            live_server + "/api/v1/units/me/emergency/end", headers, {"reason": "aman"}
        )
        assert status == 200
    assert factory.count(Ticket) == 4


def _post_json(url, headers, body):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


# --- found on patrol ---------------------------------------------------------------------------


def found(client, headers, **body):
    payload = {"category": "brawl", "summary": "Tawuran di depan TPS 12"} | body
    return client.post("/api/v1/units/me/tickets", json=payload, headers=headers)


def test_a_unit_logs_an_incident_found_on_patrol(client, factory, officer, responders, dispatcher):
    unit_id, headers = officer
    mark = factory.events()[-1].id
    response = found(client, headers)
    assert response.status_code == 201, response.get_json()
    t = response.get_json()
    assert response.headers["Location"] == f"/api/v1/units/me/tickets/{t['id']}"
    assert (t["channel"], t["category"], t["priority"]) == ("on_view", "brawl", 1)
    unit = factory.unit_row(unit_id)
    assert (t["location"]["lat"], t["location"]["lon"]) == (unit.lat, unit.lon)
    assert t["units_needed"] == 2  # the category's default
    mine = next(u for u in t["units"] if u["unit"]["id"] == unit_id)
    assert (mine["status"], mine["step"], mine["slot"]) == ("accepted", "on_scene", 1)
    assert unit.status == "on_scene"
    # The extra slot is routed to the nearest other unit.
    others = [u["unit"]["id"] for u in t["units"] if u["unit"]["id"] != unit_id]
    assert others == [responders[0]]
    assert t["status"] == "on_scene"
    # It is on every console at once: the dispatcher's feed has it.
    feed = client.get(f"/api/v1/events?after={mark}", headers=dispatcher).get_json()
    created = next(e for e in feed if e["type"] == "ticket.created")
    assert created["ticket_id"] == t["id"] and created["data"]["channel"] == "on_view"
    listed = client.get("/api/v1/tickets?status=open", headers=dispatcher).get_json()
    assert t["id"] in {x["id"] for x in listed}
    # The unit works it like any job.
    own = client.get("/api/v1/units/me/assignment", headers=headers).get_json()
    assert own["ticket"]["id"] == t["id"] and own["assignment"]["step"] == "on_scene"


def test_one_unit_only_when_asked(client, factory, officer, responders):
    _, headers = officer
    t = found(
        client, headers, category="theft", summary="Copet tertangkap", units_needed=1
    ).get_json()
    assert len(t["units"]) == 1 and t["slots_open"] == 0


def test_on_patrol_refusals_change_nothing(client, factory, responders, dispatcher):
    stale = factory.unit(callsign="OLD-1", point=KEPANJEN, age_s=3600)
    headers = factory.unit_user(stale)
    response = found(client, headers)
    assert response.status_code == 409 and error(response)["code"] == "no_position"
    for body in (
        {"category": "prank"},
        {"category": "officer_emergency"},
        {"category": "nope"},
        {"summary": ""},
        {"units_needed": 11},
        {"extra": 1},
    ):
        assert found(client, headers, **body).status_code == 422, body
    # Busy on another job.
    busy = factory.unit(callsign="BUSY-2", point=offset(KEPANJEN, 0, 100))
    job = client.post(
        "/api/v1/tickets",
        json=ticket_payload(location={"lat": KEPANJEN[0], "lon": KEPANJEN[1] + 0.001}),
        headers=dispatcher,
    ).get_json()
    factory.run(routing.route_ticket, job["id"])
    assert active(factory, job["id"])[0].unit_id == busy
    refused = found(client, factory.unit_user(busy))
    assert refused.status_code == 409 and error(refused)["code"] == "unit_busy"
    assert job["number"] in error(refused)["message"]
    assert factory.count(Ticket) == 1
    with factory.app.app_context():
        assert db.session.get(Unit, busy).status == "dispatched"
        db.session.remove()
