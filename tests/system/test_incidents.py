"""Several units on one ticket, end to end with real Celery workers, on both stacks."""

from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.system.sim import wait_for

FAST = {"CALLCENTER_SWEEP_INTERVAL_S": 0.5, "CALLCENTER_OFFER_TIMEOUT_S": 2}


def active(factory, ticket_id):
    return [a for a in factory.assignments(ticket_id) if a.status in ("offered", "accepted")]


def offered_units(factory, ticket_id, n):
    """Wait until the ticket holds ``n`` active assignments; their unit ids by slot."""
    rows = wait_for(
        lambda: (lambda rows: rows if len(rows) == n else None)(active(factory, ticket_id)),
        timeout=30,
        message=f"ticket {ticket_id} never held {n} units: {active(factory, ticket_id)}",
    )
    return [a.unit_id for a in sorted(rows, key=lambda a: a.slot)]


def test_a_three_unit_ticket_gets_its_three_nearest_eligible_units(client, factory, start_worker):
    # Nearer units that may not go: off duty, busy, with a stale position.
    factory.unit(callsign="OFF-1", point=offset(KEPANJEN, 50, 0), status="off_duty")
    factory.unit(callsign="BUSY-1", point=offset(KEPANJEN, 60, 0), status="on_scene")
    factory.unit(callsign="STALE-1", point=offset(KEPANJEN, 70, 0), age_s=3600)
    nearest = [
        factory.unit(callsign=f"NEAR-{i}", point=offset(KEPANJEN, 0, 300 * (i + 1)))
        for i in range(4)
    ]
    start_worker(**FAST)
    headers = factory.headers("dispatcher")
    ticket = client.post(
        "/api/v1/tickets", json=ticket_payload(category="brawl", units_needed=3), headers=headers
    ).get_json()
    assert offered_units(factory, ticket["id"], 3) == nearest[:3]
    body = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()
    assert body["status"] == "dispatched" and body["units_offered"] == 3
    assert factory.unit_row(nearest[3]).status == "available"


def test_a_decline_or_an_expiry_refills_the_slot_from_the_next_nearest(
    app, client, factory, start_worker, monkeypatch
):
    for key, value in FAST.items():  # offers made in this process (the decline) as well
        monkeypatch.setitem(app.config, key, value)
    units = [
        factory.unit(callsign=f"R-{i}", point=offset(KEPANJEN, 300 * (i + 1), 0)) for i in range(4)
    ]
    start_worker(**FAST)
    headers = factory.headers("dispatcher")
    ticket = client.post(
        "/api/v1/tickets", json=ticket_payload(units_needed=2), headers=headers
    ).get_json()
    assert offered_units(factory, ticket["id"], 2) == units[:2]
    first = next(a for a in active(factory, ticket["id"]) if a.unit_id == units[0])
    second = next(a for a in active(factory, ticket["id"]) if a.unit_id == units[1])
    # The second unit accepts; the nearest declines: its slot goes to the third.
    client.post(f"/api/v1/assignments/{second.id}/accept", headers=factory.unit_user(units[1]))
    declined = client.post(
        f"/api/v1/assignments/{first.id}/decline",
        json={"reason": "busy"},
        headers=factory.unit_user(units[0]),
    )
    assert declined.status_code == 200
    assert sorted(offered_units(factory, ticket["id"], 2)) == sorted(units[1:3])
    # The third lets it expire: beat's sweep gives that slot to the fourth.
    wait_for(
        lambda: units[3] in {a.unit_id for a in active(factory, ticket["id"])},
        timeout=30,
        message="the expired slot was not offered to the next unit",
    )
    statuses = {a.unit_id: a.status for a in factory.assignments(ticket["id"])}
    assert statuses == {
        units[0]: "declined",
        units[1]: "accepted",
        units[2]: "expired",
        units[3]: "offered",
    }
    assert factory.ticket(ticket["id"]).status == "acknowledged"


def test_a_backup_request_from_the_unit_brings_another_unit(client, factory, start_worker):
    on_job = factory.unit(callsign="TKP-1", point=offset(KEPANJEN, 200, 0))
    helper = factory.unit(callsign="BANTU-1", point=offset(KEPANJEN, 900, 0), status="off_duty")
    start_worker(**FAST)
    headers = factory.headers("dispatcher")
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=headers).get_json()
    assert offered_units(factory, ticket["id"], 1) == [on_job]
    mine = factory.unit_user(on_job)
    [offer] = active(factory, ticket["id"])
    client.post(f"/api/v1/assignments/{offer.id}/accept", headers=mine)
    client.post(
        f"/api/v1/assignments/{offer.id}/progress", json={"status": "on_scene"}, headers=mine
    )

    # From the unit's screen: more units, please. None is free yet: the slot waits.
    response = client.post(
        f"/api/v1/assignments/{offer.id}/backup",
        json={"reason": "Massa bertambah"},
        headers=mine,
    )
    assert response.status_code == 200
    body = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()
    assert body["units_needed"] == 2 and body["slots_open"] == 1
    assert body["flags"]["short"] and body["flags"]["backup_requested"]
    assert body["status"] == "on_scene" and body["status_reason"] == "none_available"

    # A unit signs on: the worker routes the waiting slot to it.
    signed_on = client.put(
        "/api/v1/units/me/status", json={"status": "available"}, headers=factory.unit_user(helper)
    )
    assert signed_on.status_code == 200
    assert sorted(offered_units(factory, ticket["id"], 2)) == sorted([on_job, helper])
    body = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()
    assert body["slots_open"] == 0 and body["status_reason"] is None
