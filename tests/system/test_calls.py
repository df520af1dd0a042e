"""Calls about one incident, end to end with a real Celery worker, on both stacks: ten
callers about one crash dispatch one unit; a call split off is routed by the worker."""

from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.system.sim import wait_for

FAST = {"CALLCENTER_SWEEP_INTERVAL_S": 0.5}


def offers(factory, ticket_id):
    return [a for a in factory.assignments(ticket_id) if a.status in ("offered", "accepted")]


def test_attached_calls_dispatch_nothing_and_a_split_call_is_routed(client, factory, start_worker):
    units = [
        factory.unit(callsign=f"LK-{i}", point=offset(KEPANJEN, 300 * (i + 1), 0)) for i in range(3)
    ]
    far = offset(KEPANJEN, 0, 4000)
    other = factory.unit(callsign="JAUH-1", point=far)
    start_worker(**FAST)
    headers = factory.headers("dispatcher")
    first = client.post(
        "/api/v1/tickets", json=ticket_payload(category="traffic_accident"), headers=headers
    ).get_json()
    wait_for(lambda: offers(factory, first["id"]), timeout=30, message="the crash was not routed")
    for i in range(9):  # nine more people call about the same crash
        body = ticket_payload(
            category="traffic_accident",
            caller={"phone": f"0812000000{i:02d}"},
            summary=f"penelepon {i}",
            attach_to=first["id"],
        )
        assert client.post("/api/v1/tickets", json=body, headers=headers).status_code == 201
    call = client.post(
        f"/api/v1/tickets/{first['id']}/calls",
        json={
            "channel": "phone",
            "caller": {"name": "Andi"},
            "text": "Motor saya dicuri di Jl. Jauh",
        },
        headers=headers,
    ).get_json()["call"]
    body = client.get(f"/api/v1/tickets/{first['id']}", headers=headers).get_json()
    assert len(body["calls"]) == 11
    split = client.post(
        f"/api/v1/calls/{call['id']}/split",
        json={"category": "theft", "location": {"lat": far[0], "lon": far[1]}},
        headers=headers,
    )
    assert split.status_code == 201, split.get_json()
    new = split.get_json()
    # The worker routes the split ticket to the unit near it; the crash keeps its one unit.
    routed = wait_for(
        lambda: offers(factory, new["id"]), timeout=30, message="the split call was not routed"
    )
    assert [a.unit_id for a in routed] == [other]
    assert len(offers(factory, first["id"])) == 1
    assert offers(factory, first["id"])[0].unit_id == units[0]
    assert sum(1 for a in factory.assignments() if a.ticket_id == first["id"]) == 1
