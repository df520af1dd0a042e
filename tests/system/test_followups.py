"""Hand-offs escalated and call-backs marked late by the beat sweep of a real Celery worker,
on both stacks."""

import time

from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.system.sim import wait_for

FAST = {"CALLCENTER_SWEEP_INTERVAL_S": 0.5, "CALLCENTER_HANDOFF_ACK_S": 1}


def test_an_unacknowledged_hand_off_is_escalated_once_and_an_answered_one_never(
    app, client, factory, start_worker, monkeypatch
):
    monkeypatch.setitem(app.config, "CALLCENTER_HANDOFF_ACK_S", 1)  # due times set here
    headers = factory.headers("dispatcher")
    late = client.post(
        "/api/v1/tickets", json=ticket_payload(category="fire_no_crime"), headers=headers
    ).get_json()
    answered = client.post(
        "/api/v1/tickets", json=ticket_payload(category="fire_no_crime"), headers=headers
    ).get_json()
    [pending] = client.get(f"/api/v1/tickets/{answered['id']}", headers=headers).get_json()[
        "handoffs"
    ]
    ack = client.post(
        f"/api/v1/handoffs/{pending['id']}/acknowledge", json={"by": "Damkar"}, headers=headers
    )
    assert ack.status_code == 200
    start_worker(**FAST)

    event = wait_for(
        lambda: next(iter(factory.events("handoff.escalated")), None),
        timeout=30,
        message="the hand-off was never escalated",
    )
    assert event.ticket_id == late["id"] and event.data["agency"] == "damkar"
    body = client.get(f"/api/v1/tickets/{late['id']}", headers=headers).get_json()
    assert body["flags"]["escalated"]
    assert body["flags"]["escalation_reason"] == "handoff_unacknowledged"
    assert body["handoffs"][0]["escalated_at"] is not None
    assert body["status"] == "handed_off"  # still waiting for Damkar
    # Several more sweeps: still one escalation, and none for the answered hand-off.
    wait_for(lambda: len(factory.events("ticket.escalated")) >= 1, timeout=10, message="no flag")

    time.sleep(2)
    assert [e.ticket_id for e in factory.events("handoff.escalated")] == [late["id"]]
    assert [e.ticket_id for e in factory.events("ticket.escalated")] == [late["id"]]
    # Acknowledged late, the ticket closes all the same; the record says it was late.
    client.post(
        f"/api/v1/handoffs/{body['handoffs'][0]['id']}/acknowledge",
        json={"by": "Damkar Kepanjen", "reference": "K-9"},
        headers=headers,
    )
    assert factory.events("handoff.acknowledged")[-1].data["late"] is True
    assert factory.ticket(late["id"]).status == "closed"


def test_a_hand_off_only_ticket_is_never_routed_to_a_patrol_unit(client, factory, start_worker):
    factory.unit(callsign="NEAR-1", point=offset(KEPANJEN, 100, 0))
    start_worker(**FAST)
    headers = factory.headers("dispatcher")
    handed = client.post(
        "/api/v1/tickets", json=ticket_payload(category="power_line"), headers=headers
    ).get_json()
    # A routed ticket logged after it is offered to the unit: the worker did look.
    routed = client.post("/api/v1/tickets", json=ticket_payload(), headers=headers).get_json()
    wait_for(
        lambda: factory.assignments(routed["id"]),
        timeout=30,
        message="the worker routed nothing",
    )
    assert factory.assignments(handed["id"]) == []
    assert factory.ticket(handed["id"]).status == "handed_off"


def test_a_late_call_back_is_marked_once_by_the_sweep(
    app, client, factory, start_worker, monkeypatch
):
    monkeypatch.setitem(app.config, "CALLCENTER_CALLBACK_DUE_S", 1)
    headers = factory.headers("dispatcher")
    silent = client.post(
        "/api/v1/tickets",
        json=ticket_payload(category="silent_call", location=None, summary=""),
        headers=headers,
    ).get_json()
    start_worker(**FAST)
    event = wait_for(
        lambda: next(iter(factory.events("callback.overdue")), None),
        timeout=30,
        message="the call-back was never marked late",
    )
    assert event.ticket_id == silent["id"]
    [task] = client.get("/api/v1/callbacks", headers=headers).get_json()
    assert task["overdue"] and task["overdue_at"] is not None

    time.sleep(1.5)
    assert len(factory.events("callback.overdue")) == 1
