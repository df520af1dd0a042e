"""The dispatchers' live stream: every event in order with its id, resumable, and the
units' positions coalesced into ``positions`` messages that carry no id."""

from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.sse import Stream


def test_events_then_positions_each_once(client, factory, live_server):
    dispatcher = factory.headers("dispatcher")
    unit = factory.unit(callsign="POS-1", point=KEPANJEN)
    unit_headers = factory.unit_user(unit)
    stream = Stream(live_server + "/api/v1/events/stream", dispatcher)
    try:
        ticket = client.post(
            "/api/v1/tickets", json=ticket_payload(), headers=dispatcher
        ).get_json()
        created = stream.next()
        while created["event"] == "positions":  # the unit's first report, just made
            created = stream.next()
        assert created["data"]["type"] == "ticket.created"
        assert created["data"]["ticket_id"] == ticket["id"]
        assert created["id"] == created["data"]["id"]

        lat, lon = offset(KEPANJEN, 500, 0)
        assert (
            client.post(
                "/api/v1/units/me/location", json={"lat": lat, "lon": lon}, headers=unit_headers
            ).status_code
            == 201
        )
        moved = stream.next()
        while moved["data"].get("units", [{}])[0].get("lat") != lat:  # the first report
            moved = stream.next()
        assert moved["event"] == "positions" and moved["id"] is None
        assert moved["data"]["units"] == [
            {
                "id": unit,
                "lat": lat,
                "lon": lon,
                "position_at": moved["data"]["units"][0]["position_at"],
            }
        ]
        # The same report is not sent again; the next thing on the stream is a new event.
        client.post(
            f"/api/v1/tickets/{ticket['id']}/cancel", json={"reason": "test"}, headers=dispatcher
        )
        following = stream.next()
        assert following["event"] is None
        assert following["data"]["type"] == "ticket.cancelled"
    finally:
        stream.close()

    # Resuming after the first event replays the rest, in order, with nothing skipped.
    resumed = Stream(
        live_server + "/api/v1/events/stream", {**dispatcher, "Last-Event-ID": str(created["id"])}
    )
    try:
        after = [
            e.id
            for e in factory.events()
            if e.id > created["id"] and not e.type.startswith(("auth.", "user."))
        ]
        assert [m["id"] for m in resumed.take(len(after))] == after
    finally:
        resumed.close()
