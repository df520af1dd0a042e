"""Running notes from both sides with their scope, notes on the units' live streams, edits
that keep before and after, and what a unit may read of a ticket (its grace period)."""

from datetime import timedelta

import pytest

from callcenter.extensions import db
from callcenter.models import Assignment, TicketNote
from callcenter.services import clock, routing
from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.sse import Stream


@pytest.fixture
def dispatcher(factory):
    return factory.headers("dispatcher")


@pytest.fixture
def crew(factory):
    """Three units north of Kepanjen, nearest first: ``[(unit_id, headers), ...]``."""
    out = []
    for i in range(3):
        unit_id = factory.unit(callsign=f"NT-{i + 1}", point=offset(KEPANJEN, 300 * (i + 1), 0))
        out.append((unit_id, factory.unit_user(unit_id)))
    return out


def offered(client, factory, dispatcher, **overrides):
    ticket = client.post(
        "/api/v1/tickets", json=ticket_payload(**overrides), headers=dispatcher
    ).get_json()
    factory.run(routing.route_ticket, ticket["id"])
    return ticket, [a for a in factory.assignments(ticket["id"]) if a.status == "offered"]


def note(client, ticket_id, headers, text):
    return client.post(f"/api/v1/tickets/{ticket_id}/notes", json={"text": text}, headers=headers)


def notes_count(factory) -> int:
    return factory.count(TicketNote)


def error(response):
    return response.get_json()["error"]


def accept(client, assignment_id, headers):
    response = client.post(f"/api/v1/assignments/{assignment_id}/accept", headers=headers)
    assert response.status_code == 200, response.get_json()


# --- notes from both sides ------------------------------------------------------------------


def test_notes_from_the_dispatcher_and_the_unit_on_the_ticket(client, factory, dispatcher, crew):
    (unit, unit_headers), (_, other_headers) = crew[0], crew[1]
    ticket, offers = offered(client, factory, dispatcher)
    assert offers[0].unit_id == unit
    accept(client, offers[0].id, unit_headers)

    response = note(client, ticket["id"], dispatcher, "  Pelapor menunggu di depan toko  ")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["text"] == "Pelapor menunggu di depan toko"
    assert response.get_json()["unit"] is None
    response = note(client, ticket["id"], unit_headers, "pelaku kabur ke arah utara")
    assert response.status_code == 201
    assert response.get_json()["unit"]["callsign"] == "NT-1"

    # A unit not on the ticket gets 404, as for reading it, and nothing is stored.
    stranger = note(client, ticket["id"], other_headers, "saya juga")
    assert stranger.status_code == 404
    assert (
        client.get(f"/api/v1/units/me/tickets/{ticket['id']}", headers=other_headers).status_code
        == 404
    )
    assert notes_count(factory) == 2

    body = client.get(f"/api/v1/tickets/{ticket['id']}", headers=dispatcher).get_json()
    assert [n["text"] for n in body["notes"]] == [
        "Pelapor menunggu di depan toko",
        "pelaku kabur ke arah utara",
    ]
    added = [e for e in body["timeline"] if e["type"] == "ticket.note_added"]
    assert [e["data"]["callsign"] for e in added] == [None, "NT-1"]
    mine = client.get(f"/api/v1/units/me/tickets/{ticket['id']}", headers=unit_headers).get_json()
    assert len(mine["notes"]) == 2
    job = client.get("/api/v1/units/me/assignment", headers=unit_headers).get_json()
    assert [n["text"] for n in job["ticket"]["notes"]][-1] == "pelaku kabur ke arah utara"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": 5}, "text"),
        ({}, "text"),
        ({"text": "ok", "colour": "red"}, "colour"),
    ],
)
def test_empty_long_or_odd_notes_are_refused(client, factory, dispatcher, body, field):
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=dispatcher).get_json()
    before = len(factory.events())
    response = client.post(f"/api/v1/tickets/{ticket['id']}/notes", json=body, headers=dispatcher)
    assert response.status_code == 422 and field in error(response)["fields"]
    assert notes_count(factory) == 0 and len(factory.events()) == before


def test_a_note_of_2000_characters_is_kept_whole(client, factory, dispatcher):
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=dispatcher).get_json()
    assert note(client, ticket["id"], dispatcher, "a" * 2000).status_code == 201
    assert note(client, 99999, dispatcher, "a").status_code == 404


@pytest.mark.parametrize("lang,words", [("id", "Tulis"), ("en", "Write the note")])
def test_the_refusal_is_in_words(client, factory, dispatcher, lang, words):
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=dispatcher).get_json()
    response = client.post(
        f"/api/v1/tickets/{ticket['id']}/notes?lang={lang}",
        json={"text": ""},
        headers={**dispatcher, "Accept-Language": lang},
    )
    assert words in error(response)["fields"]["text"]


# --- notes live on every unit's stream ----------------------------------------------------


def test_a_note_reaches_every_unit_on_the_ticket_and_no_other(
    client, factory, dispatcher, crew, live_server
):
    ticket, offers = offered(client, factory, dispatcher, units_needed=2)
    on_it = {a.unit_id for a in offers}
    assert on_it == {crew[0][0], crew[1][0]}
    heads = dict(crew)
    accept(client, offers[0].id, heads[offers[0].unit_id])
    streams = {u: Stream(live_server + "/api/v1/events/stream", h) for u, h in crew}
    try:
        response = note(client, ticket["id"], heads[offers[0].unit_id], "butuh ambulans")
        assert response.status_code == 201
        for unit_id in on_it:
            message = streams[unit_id].next()
            assert message["data"]["type"] == "ticket.note_added"
            assert message["data"]["data"]["text"] == "butuh ambulans"
            assert message["data"]["ticket_id"] == ticket["id"]
        # The third unit is not on the ticket: its stream carries nothing of it; the next
        # thing it hears is its own.
        client.put(
            "/api/v1/units/me/status", json={"status": "unavailable"}, headers=heads[crew[2][0]]
        )
        assert streams[crew[2][0]].next()["data"]["type"] == "unit.status_changed"
    finally:
        for stream in streams.values():
            stream.close()
    # A reconnect from the start replays the note to the units on the ticket only.
    replay = client.get("/api/v1/events?after=0", headers=heads[crew[1][0]]).get_json()
    assert any(e["type"] == "ticket.note_added" for e in replay)
    third = client.get("/api/v1/events?after=0", headers=heads[crew[2][0]]).get_json()
    assert not any(e["type"] == "ticket.note_added" for e in third)


# --- edits keep before and after -----------------------------------------------------------


def test_edits_keep_the_value_before_and_after(client, factory, dispatcher):
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=dispatcher).get_json()
    moved = offset(KEPANJEN, 100, 100)
    response = client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={
            "summary": "Dompet dan HP dicopet",
            "priority": 2,
            "category": "assault",
            "location": {"lat": moved[0], "lon": moved[1], "address": "Jl. Kawi"},
        },
        headers=dispatcher,
    )
    assert response.status_code == 200, response.get_json()
    timeline = client.get(f"/api/v1/tickets/{ticket['id']}", headers=dispatcher).get_json()[
        "timeline"
    ]
    changes = next(e for e in timeline if e["type"] == "ticket.updated")["data"]["changes"]
    assert changes["summary"] == ["Dompet dicopet di pasar", "Dompet dan HP dicopet"]
    assert changes["priority"] == [3, 2]
    assert changes["category"] == ["theft", "assault"]
    assert changes["address"] == ["Pasar Kepanjen", "Jl. Kawi"]
    assert changes["lat"][0] == KEPANJEN[0] and changes["lat"][1] == moved[0]


# --- what a unit may read: while on it, and a grace period after clearing ----------------------


def ended_ago(app, assignment_id, seconds):
    with app.app_context():
        row = db.session.get(Assignment, assignment_id)
        row.ended_at = clock.now() - timedelta(seconds=seconds)
        db.session.commit()
        db.session.remove()


def test_a_unit_reads_a_ticket_while_on_it_and_for_the_grace_after_clearing(
    client, factory, dispatcher, crew, app
):
    _, headers = crew[0]
    ticket, offers = offered(client, factory, dispatcher)
    url = f"/api/v1/units/me/tickets/{ticket['id']}"
    assert client.get(url, headers=headers).status_code == 200  # offered: it may look
    accept(client, offers[0].id, headers)
    assert client.get(url, headers=headers).get_json()["caller"]["name"] == "Budi Santoso"
    cleared = client.post(
        f"/api/v1/assignments/{offers[0].id}/progress",
        json={"status": "cleared", "resolution": "handled"},
        headers=headers,
    )
    assert cleared.status_code == 200, cleared.get_json()
    assert client.get(url, headers=headers).status_code == 200  # finishing its report
    assert note(client, ticket["id"], headers, "laporan: pelaku diamankan").status_code == 201
    ended_ago(app, offers[0].id, 3599)
    assert client.get(url, headers=headers).status_code == 200
    ended_ago(app, offers[0].id, 3601)
    gone = client.get(url, headers=headers)
    assert gone.status_code == 404 and "caller" not in gone.get_json()
    assert note(client, ticket["id"], headers, "terlambat").status_code == 404


def test_a_unit_that_declined_or_was_released_reads_nothing_more(client, factory, dispatcher, crew):
    (a, a_headers), (b, b_headers) = crew[0], crew[1]
    ticket, offers = offered(client, factory, dispatcher)
    assert offers[0].unit_id == a
    declined = client.post(
        f"/api/v1/assignments/{offers[0].id}/decline", json={"reason": "busy"}, headers=a_headers
    )
    assert declined.status_code == 200, declined.get_json()
    url = f"/api/v1/units/me/tickets/{ticket['id']}"
    assert client.get(url, headers=a_headers).status_code == 404

    b_offer = next(x for x in factory.assignments(ticket["id"]) if x.status == "offered")
    assert b_offer.unit_id == b
    accept(client, b_offer.id, b_headers)
    released = client.post(
        f"/api/v1/assignments/{b_offer.id}/release",
        json={"reason": "salah unit"},
        headers=dispatcher,
    )
    assert released.status_code == 200, released.get_json()
    assert client.get(url, headers=b_headers).status_code == 404


def test_the_grace_period_is_a_setting(app):
    assert app.config["CALLCENTER_UNIT_TICKET_GRACE_S"] == 3600


def test_the_push_engine_gets_a_note_on_the_channel_of_each_unit_on_the_ticket(
    client, factory, dispatcher, crew, app
):
    """With Pushpin the relay publishes each event on its scopes' channels: a note goes to
    every unit on the ticket, each with the prev-id of that unit's own channel."""
    from callcenter.streams import feed
    from callcenter.streams.relay import Relay

    ticket, offers = offered(client, factory, dispatcher, units_needed=2)
    a, b = sorted(x.unit_id for x in offers)
    assert note(client, ticket["id"], dispatcher, "pelaku dua orang").status_code == 201
    with app.app_context():
        entries, _ = feed.read(0, limit=500)
        relay = Relay(app, publish_url="http://127.0.0.1:9")
        items = relay.items_for(entries)
        b_before = feed.last_in_scope(feed.Scope("unit", b), before=entries[-1].id)
        db.session.remove()
    noted = entries[-1]
    assert noted.type == "ticket.note_added" and noted.unit_id is None
    assert set(noted.channels()) == {"staff", "supervisor", f"unit-{a}", f"unit-{b}"}
    published = {i["channel"]: i for i in items if i["id"] == str(noted.id)}
    assert published[f"unit-{b}"]["prev-id"] == str(b_before)
    assert feed.Scope("unit", a).sees(noted) and not feed.Scope("unit", crew[2][0]).sees(noted)
