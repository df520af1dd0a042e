"""The unit's live stream over real HTTP: only its own events, resumable with Last-Event-ID,
and a new offer arrives without polling."""

import pytest

from callcenter.services import routing
from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.sse import Stream


@pytest.fixture
def streams(live_server):
    opened: list[Stream] = []

    def open_(headers: dict, last_event_id: int | None = None) -> Stream:
        extra = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
        stream = Stream(live_server + "/api/v1/events/stream", {**headers, **extra})
        opened.append(stream)
        return stream

    yield open_
    for stream in opened:
        stream.close()


def visible_to_unit(event) -> bool:
    """A unit's feed leaves out sign-ins and account changes, even about its own users."""
    return not event.type.startswith(("auth.", "user."))


def offer(client, factory, dispatcher, **overrides):
    ticket = client.post(
        "/api/v1/tickets", json=ticket_payload(**overrides), headers=dispatcher
    ).get_json()
    assert factory.run(routing.route_ticket, ticket["id"]) == "offered"
    return ticket, next(a for a in factory.assignments(ticket["id"]) if a.status == "offered")


def test_a_units_stream_carries_its_own_events_and_resumes(client, factory, streams):
    dispatcher = factory.headers("dispatcher")
    a = factory.unit(callsign="SGS-1", point=offset(KEPANJEN, 300, 0))
    b = factory.unit(callsign="SGS-2", point=offset(KEPANJEN, 2000, 0))
    a_headers, b_headers = factory.unit_user(a), factory.unit_user(b)
    a_ticket, a_offer = offer(client, factory, dispatcher)
    _, b_offer = offer(client, factory, dispatcher)
    assert (a_offer.unit_id, b_offer.unit_id) == (a, b)

    # From the beginning: exactly A's events, in id order, each with its id.
    own = [e.id for e in factory.events() if e.unit_id == a and visible_to_unit(e)]
    stream = streams(a_headers, last_event_id=0)
    backlog = stream.take(len(own))
    assert [m["id"] for m in backlog] == own
    assert all(m["data"]["unit_id"] == a and m["data"]["id"] == m["id"] for m in backlog)
    offered = [m["data"] for m in backlog if m["data"]["type"] == "assignment.offered"]
    assert offered[0]["data"]["assignment_id"] == a_offer.id
    assert offered[0]["data"]["deadline_at"]
    assert offered[0]["ticket_id"] == a_ticket["id"]

    # Live: B's answer is not sent to A; A's own answer is, at once.
    client.post(f"/api/v1/assignments/{b_offer.id}/accept", headers=b_headers)
    client.post(f"/api/v1/assignments/{a_offer.id}/accept", headers=a_headers)
    accepted = [e for e in factory.events("assignment.accepted") if e.unit_id == a]
    live = stream.next()
    assert live["data"]["type"] == "assignment.accepted"
    assert (live["id"], live["data"]["unit_id"]) == (accepted[0].id, a)

    # B's stream has only B's events.
    b_own = [e.id for e in factory.events() if e.unit_id == b and visible_to_unit(e)]
    b_stream = streams(b_headers, last_event_id=0)
    assert [m["id"] for m in b_stream.take(len(b_own))] == b_own

    # A reconnect with Last-Event-ID resumes right after it, missing nothing.
    resumed = streams(a_headers, last_event_id=backlog[1]["id"])
    expected = [
        e.id
        for e in factory.events()
        if e.unit_id == a and e.id > backlog[1]["id"] and visible_to_unit(e)
    ]
    assert [m["id"] for m in resumed.take(len(expected))] == expected


def test_a_new_offer_reaches_an_open_stream(client, factory, streams):
    dispatcher = factory.headers("dispatcher")
    a = factory.unit(callsign="SGS-1", point=offset(KEPANJEN, 300, 0))
    factory.unit(callsign="SGS-2", point=offset(KEPANJEN, 2000, 0))
    a_headers = factory.unit_user(a)
    offer(client, factory, dispatcher)  # before the stream opened: not replayed
    accepted = factory.assignments()[0]
    client.post(f"/api/v1/assignments/{accepted.id}/accept", headers=a_headers)
    client.post(
        f"/api/v1/assignments/{accepted.id}/progress",
        json={"status": "cleared", "resolution": "handled"},
        headers=a_headers,
    )

    stream = streams(a_headers)  # no Last-Event-ID: from now on
    ticket, new = offer(client, factory, dispatcher, summary="Motor dicuri di parkiran")
    assert new.unit_id == a
    messages = []
    while not any(m["data"]["type"] == "assignment.offered" for m in messages):
        messages.append(stream.next())
    assert all(m["data"]["unit_id"] == a for m in messages)
    assert all(m["data"]["ticket_id"] == ticket["id"] for m in messages)
    [message] = [m for m in messages if m["data"]["type"] == "assignment.offered"]
    assert message["data"]["data"]["assignment_id"] == new.id
    assert message["data"]["data"]["number"] == ticket["number"]


def test_every_unit_on_a_ticket_hears_what_happens_to_it(client, factory, streams):
    """Two units on one incident: an edit of the ticket and the other unit's release reach
    both, a unit not on it hears none of it, and a replay gives exactly what was live."""
    dispatcher = factory.headers("dispatcher")
    a = factory.unit(callsign="SGS-1", point=offset(KEPANJEN, 300, 0))
    b = factory.unit(callsign="SGS-2", point=offset(KEPANJEN, 600, 0))
    c = factory.unit(callsign="SGS-3", point=offset(KEPANJEN, 9000, 0))
    heads = {u: factory.unit_user(u) for u in (a, b, c)}
    ticket = client.post(
        "/api/v1/tickets", json=ticket_payload(units_needed=2), headers=dispatcher
    ).get_json()
    assert factory.run(routing.route_ticket, ticket["id"]) == "offered"
    offers = {x.unit_id: x for x in factory.assignments(ticket["id"])}
    assert set(offers) == {a, b}
    for unit in (a, b):
        accepted = client.post(f"/api/v1/assignments/{offers[unit].id}/accept", headers=heads[unit])
        assert accepted.status_code == 200

    b_stream, c_stream = streams(heads[b]), streams(heads[c])
    edited = client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"summary": "Dua motor bertabrakan, satu korban"},
        headers=dispatcher,
    )
    assert edited.status_code == 200
    released = client.post(
        f"/api/v1/assignments/{offers[a].id}/release",
        json={"reason": "dibutuhkan di tempat lain", "refill": False},
        headers=dispatcher,
    )
    assert released.status_code == 200, released.get_json()

    about_ticket = [e for e in factory.events() if e.ticket_id == ticket["id"]]
    edit_event = next(e for e in about_ticket if e.type == "ticket.updated")
    release_event = next(e for e in about_ticket if e.type == "assignment.released")
    assert edit_event.unit_id is None and release_event.unit_id == a
    live = []
    while release_event.id not in [m["id"] for m in live]:
        live.append(b_stream.next())
    assert edit_event.id in [m["id"] for m in live]
    assert all(m["data"]["ticket_id"] == ticket["id"] for m in live)

    # C hears nothing of it: its first message is a later event of its own.
    near_c = offset(KEPANJEN, 9000, 0)
    other = client.post(
        "/api/v1/tickets",
        json=ticket_payload(location={"lat": near_c[0], "lon": near_c[1], "address": "Jl. Raya"}),
        headers=dispatcher,
    ).get_json()
    assert factory.run(routing.route_ticket, other["id"]) == "offered"
    first = c_stream.next()
    assert first["data"]["ticket_id"] == other["id"] and first["data"]["unit_id"] == c

    # A replay from just before gives B exactly what it heard live, in order.
    replay = streams(heads[b], last_event_id=live[0]["id"] - 1)
    assert [m["id"] for m in replay.take(len(live))] == [m["id"] for m in live]
