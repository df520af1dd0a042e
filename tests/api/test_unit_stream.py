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
