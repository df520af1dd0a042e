"""Incidents with several units: units needed at intake and in PATCH, routing that fills
the slots, each unit's own progress, release, backup, cancel and close, manual assignment.

Routing is called as a service here (no worker), so each step is deterministic; the same
flows with real workers are in tests/system/test_incidents.py.
"""

import pytest

from callcenter.models import Assignment, Ticket
from callcenter.services import routing
from tests.helpers import KEPANJEN, offset, ticket_payload


@pytest.fixture
def dispatcher(factory):
    return factory.headers("dispatcher")


@pytest.fixture
def fleet(factory):
    """Five units 200, 400, ... 1000 m north of the incident, nearest first, each with its
    device token: ``fleet[i] = (unit_id, headers)``."""
    units = []
    for i in range(5):
        unit_id = factory.unit(callsign=f"KPJ-{i + 1}", point=offset(KEPANJEN, 200 * (i + 1), 0))
        units.append((unit_id, factory.unit_user(unit_id)))
    return units


def create(client, headers, **overrides):
    response = client.post("/api/v1/tickets", json=ticket_payload(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def route(factory, ticket_id):
    return factory.run(routing.route_ticket, ticket_id)


def get(client, headers, ticket_id):
    return client.get(f"/api/v1/tickets/{ticket_id}", headers=headers).get_json()


def active(factory, ticket_id) -> list[Assignment]:
    return [a for a in factory.assignments(ticket_id) if a.status in ("offered", "accepted")]


def post(client, path, headers, body=None):
    return client.post(path, json=body if body is not None else {}, headers=headers)


def error(response):
    return response.get_json()["error"]


def by_unit(fleet):
    return {unit_id: headers for unit_id, headers in fleet}


def accept_all(client, factory, fleet, ticket_id):
    heads = by_unit(fleet)
    for a in active(factory, ticket_id):
        if a.status == "offered":
            assert (
                post(client, f"/api/v1/assignments/{a.id}/accept", heads[a.unit_id]).status_code
                == 200
            )


# --- units needed at intake -----------------------------------------------------------------


def test_units_needed_defaults_from_the_category_and_may_be_given(client, dispatcher):
    assert create(client, dispatcher, category="brawl")["units_needed"] == 2
    assert create(client, dispatcher, category="traffic_accident_injury")["units_needed"] == 2
    assert create(client, dispatcher, category="theft")["units_needed"] == 1
    body = create(client, dispatcher, category="theft", units_needed=3)
    assert body["units_needed"] == 3
    assert body["units"] == [] and body["unit"] is None and body["assignment"] is None
    assert body["units_accepted"] == 0 and body["slots_open"] == 3
    assert body["flags"]["short"] is True
    assert body["emergency"] is None


def test_the_catalog_gives_each_category_its_units(client, dispatcher):
    categories = {
        c["code"]: c for c in client.get("/api/v1/categories", headers=dispatcher).get_json()
    }
    assert categories["brawl"]["default_units"] == 2
    assert categories["theft"]["default_units"] == 1
    emergency = categories["officer_emergency"]
    assert emergency["intake"] is False and emergency["apco_code"] == "MAYDAY"
    assert emergency["default_priority"] == 1


@pytest.mark.parametrize("value", [0, 11, -1, "2", 2.5, True])
def test_units_needed_out_of_range_at_intake_is_refused(client, dispatcher, factory, value):
    response = client.post(
        "/api/v1/tickets", json=ticket_payload(units_needed=value), headers=dispatcher
    )
    assert response.status_code == 422
    assert "units_needed" in error(response)["fields"]
    assert factory.count(Ticket) == 0


@pytest.mark.parametrize("lang,words", [("id", "bilangan bulat"), ("en", "whole number")])
def test_the_refusal_is_in_words_in_both_languages(client, dispatcher, lang, words):
    response = client.post(
        f"/api/v1/tickets?lang={lang}",
        json=ticket_payload(units_needed=12),
        headers={**dispatcher, "Accept-Language": lang},
    )
    assert words in error(response)["fields"]["units_needed"]


def test_the_emergency_category_cannot_be_chosen_at_intake(client, dispatcher, factory):
    response = client.post(
        "/api/v1/tickets", json=ticket_payload(category="officer_emergency"), headers=dispatcher
    )
    assert response.status_code == 422
    assert "category" in error(response)["fields"]
    assert factory.count(Ticket) == 0


# --- routing fills the slots -----------------------------------------------------------------


def test_a_three_unit_ticket_is_offered_to_the_three_nearest(client, dispatcher, factory, fleet):
    ticket = create(client, dispatcher, units_needed=3)
    assert route(factory, ticket["id"]) == "offered"
    offers = active(factory, ticket["id"])
    assert [a.unit_id for a in offers] == [fleet[0][0], fleet[1][0], fleet[2][0]]
    assert sorted(a.slot for a in offers) == [1, 2, 3]
    assert {a.status for a in offers} == {"offered"}
    body = get(client, dispatcher, ticket["id"])
    assert body["status"] == "dispatched" and body["status_reason"] is None
    assert [u["unit"]["callsign"] for u in body["units"]] == ["KPJ-1", "KPJ-2", "KPJ-3"]
    assert [u["slot"] for u in body["units"]] == [1, 2, 3]
    assert body["units_offered"] == 3 and body["units_accepted"] == 0
    assert body["slots_open"] == 0 and body["flags"]["short"] is True
    assert body["unit"]["callsign"] == "KPJ-1"  # for clients of one unit per ticket
    offered = [e for e in factory.events("assignment.offered") if e.ticket_id == ticket["id"]]
    assert [e.data["slot"] for e in offered] == [1, 2, 3]
    # Routing again changes nothing.
    assert route(factory, ticket["id"]) == "skipped"
    assert len(factory.assignments(ticket["id"])) == 3


def test_the_ticket_status_follows_its_units(client, dispatcher, factory, fleet):
    heads = by_unit(fleet)
    ticket = create(client, dispatcher, units_needed=2)
    route(factory, ticket["id"])
    first, second = active(factory, ticket["id"])
    post(client, f"/api/v1/assignments/{first.id}/accept", heads[first.unit_id])
    body = get(client, dispatcher, ticket["id"])
    assert body["status"] == "acknowledged"
    assert body["units_accepted"] == 1 and body["flags"]["short"] is True
    post(client, f"/api/v1/assignments/{second.id}/accept", heads[second.unit_id])
    body = get(client, dispatcher, ticket["id"])
    assert body["units_accepted"] == 2 and body["flags"]["short"] is False

    # Each unit keeps its own progress; the ticket shows the most advanced.
    progress = f"/api/v1/assignments/{second.id}/progress"
    assert post(client, progress, heads[second.unit_id], {"status": "on_scene"}).status_code == 200
    body = get(client, dispatcher, ticket["id"])
    assert body["status"] == "on_scene" and body["unit"]["callsign"] == "KPJ-2"
    steps = {u["unit"]["callsign"]: u["step"] for u in body["units"]}
    assert steps == {"KPJ-1": "accepted", "KPJ-2": "on_scene"}
    assert body["units"][1]["on_scene_at"] is not None and body["units"][0]["on_scene_at"] is None
    assert body["on_scene_at"] is not None  # the first unit at the scene
    # The other unit still goes en route and on scene in its own order.
    progress = f"/api/v1/assignments/{first.id}/progress"
    assert post(client, progress, heads[first.unit_id], {"status": "en_route"}).status_code == 200
    assert factory.unit_row(first.unit_id).status == "en_route"
    assert get(client, dispatcher, ticket["id"])["status"] == "on_scene"


def test_one_unit_clearing_frees_that_unit_only(client, dispatcher, factory, fleet):
    heads = by_unit(fleet)
    ticket = create(client, dispatcher, units_needed=2)
    route(factory, ticket["id"])
    accept_all(client, factory, fleet, ticket["id"])
    first, second = active(factory, ticket["id"])
    cleared = post(
        client,
        f"/api/v1/assignments/{first.id}/progress",
        heads[first.unit_id],
        {"status": "cleared", "resolution": "secured", "note": "Pelaku diamankan"},
    )
    assert cleared.status_code == 200
    assert factory.unit_row(first.unit_id).status == "available"
    done = next(a for a in factory.assignments(ticket["id"]) if a.id == first.id)
    assert (done.status, done.resolution, done.note) == ("completed", "secured", "Pelaku diamankan")
    body = get(client, dispatcher, ticket["id"])
    assert body["status"] == "acknowledged" and body["resolution"] is None
    assert body["units_cleared"] == 1 and body["slots_open"] == 0  # a cleared unit served its slot
    assert body["flags"]["short"] is False
    # The cleared unit is not offered the ticket again, and no other unit is.
    assert route(factory, ticket["id"]) == "skipped"

    # The last active unit clears, no slot is open: the ticket closes with its resolution.
    post(
        client,
        f"/api/v1/assignments/{second.id}/progress",
        heads[second.unit_id],
        {"status": "cleared", "resolution": "handled"},
    )
    closed = factory.ticket(ticket["id"])
    assert (closed.status, closed.resolution) == ("closed", "handled")
    event = factory.events("ticket.closed")[-1]
    assert event.data["last_unit"] == "KPJ-2"


def test_the_ticket_waits_while_a_slot_cannot_be_filled(client, dispatcher, factory):
    only = factory.unit(callsign="ONLY-1", point=offset(KEPANJEN, 300, 0))
    heads = factory.unit_user(only)
    ticket = create(client, dispatcher, units_needed=2)
    assert route(factory, ticket["id"]) == "offered"
    body = get(client, dispatcher, ticket["id"])
    assert (body["status"], body["status_reason"]) == ("dispatched", "none_available")
    assert body["slots_open"] == 1 and body["waiting_since"] is not None
    [offer] = active(factory, ticket["id"])
    post(client, f"/api/v1/assignments/{offer.id}/accept", heads)
    post(
        client,
        f"/api/v1/assignments/{offer.id}/progress",
        heads,
        {"status": "cleared", "resolution": "handled"},
    )
    # Its only unit cleared but a slot is still open: the ticket is queued, not closed.
    body = get(client, dispatcher, ticket["id"])
    assert (body["status"], body["status_reason"]) == ("queued", "none_available")
    assert body["units_cleared"] == 1 and body["slots_open"] == 1
    # A unit turns up: the open slot goes to it, not back to the unit that cleared.
    other = factory.unit(callsign="NEW-1", point=offset(KEPANJEN, 900, 0))
    assert route(factory, ticket["id"]) == "offered"
    assert [a.unit_id for a in active(factory, ticket["id"])] == [other]


def test_a_decline_refills_the_slot_from_the_next_nearest(client, dispatcher, factory, fleet):
    heads = by_unit(fleet)
    ticket = create(client, dispatcher, units_needed=2)
    route(factory, ticket["id"])
    first, second = active(factory, ticket["id"])
    response = post(
        client, f"/api/v1/assignments/{first.id}/decline", heads[first.unit_id], {"reason": "busy"}
    )
    assert response.status_code == 200
    now = active(factory, ticket["id"])
    assert [a.unit_id for a in now] == [second.unit_id, fleet[2][0]]
    assert next(a for a in now if a.unit_id == fleet[2][0]).slot == first.slot
    assert get(client, dispatcher, ticket["id"])["status"] == "dispatched"


def test_escalation_counts_failed_offers_per_slot(client, dispatcher, factory, fleet, app):
    """Two slots; the first is accepted, the second declined by MAX_OFFERS units in a row:
    the ticket is escalated and that slot left to the dispatcher."""
    heads = by_unit(fleet)
    app.config["CALLCENTER_MAX_OFFERS"] = 2
    try:
        ticket = create(client, dispatcher, units_needed=2)
        route(factory, ticket["id"])
        first, _second = active(factory, ticket["id"])
        post(client, f"/api/v1/assignments/{first.id}/accept", heads[first.unit_id])
        for _ in range(2):
            offer = next(a for a in active(factory, ticket["id"]) if a.status == "offered")
            decline = f"/api/v1/assignments/{offer.id}/decline"
            assert (
                post(client, decline, heads[offer.unit_id], {"reason": "busy"}).status_code == 200
            )
        t = factory.ticket(ticket["id"])
        assert t.escalation_reason == "max_offers"
        assert (t.status, t.status_reason) == ("acknowledged", "max_offers")
        assert [a.unit_id for a in active(factory, ticket["id"])] == [first.unit_id]
        assert route(factory, ticket["id"]) == "queued"  # the blocked slot waits
        assert len(active(factory, ticket["id"])) == 1
        # A new slot (backup) is still routed.
        backup = post(
            client,
            f"/api/v1/assignments/{first.id}/backup",
            heads[first.unit_id],
            {"reason": "Massa bertambah"},
        )
        assert backup.status_code == 200
        assert len(active(factory, ticket["id"])) == 2
    finally:
        app.config["CALLCENTER_MAX_OFFERS"] = 5


# --- PATCH: units needed and category --------------------------------------------------------


def test_raising_units_needed_routes_the_new_slots_at_once(client, dispatcher, factory, fleet):
    ticket = create(client, dispatcher)
    route(factory, ticket["id"])
    response = client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"units_needed": 3}, headers=dispatcher
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["units_needed"] == 3 and len(body["units"]) == 3
    assert [u["unit"]["id"] for u in body["units"]] == [f[0] for f in fleet[:3]]
    updated = factory.events("ticket.updated")[-1]
    assert updated.data["changes"] == {"units_needed": [1, 3]}


def test_lowering_below_the_accepted_units_is_refused_naming_them(
    client, dispatcher, factory, fleet
):
    heads = by_unit(fleet)
    ticket = create(client, dispatcher, units_needed=3)
    route(factory, ticket["id"])
    first, second, _third = active(factory, ticket["id"])
    for a in (first, second):
        post(client, f"/api/v1/assignments/{a.id}/accept", heads[a.unit_id])
    post(
        client,
        f"/api/v1/assignments/{first.id}/progress",
        heads[first.unit_id],
        {"status": "on_scene"},
    )
    before = len(factory.events())
    for lang, words in (("en", "already accepted"), ("id", "sudah menerima")):
        response = client.patch(
            f"/api/v1/tickets/{ticket['id']}?lang={lang}",
            json={"units_needed": 1},
            headers={**dispatcher, "Accept-Language": lang},
        )
        assert response.status_code == 409
        err = error(response)
        assert err["code"] == "below_accepted"
        assert "KPJ-1" in err["message"] and "KPJ-2" in err["message"] and words in err["message"]
    assert len(factory.events()) == before
    assert factory.ticket(ticket["id"]).units_needed == 3
    assert len(active(factory, ticket["id"])) == 3


def test_lowering_below_the_active_offers_withdraws_the_newest(client, dispatcher, factory, fleet):
    heads = by_unit(fleet)
    ticket = create(client, dispatcher, units_needed=3)
    route(factory, ticket["id"])
    first, second, third = active(factory, ticket["id"])
    post(client, f"/api/v1/assignments/{second.id}/accept", heads[second.unit_id])
    response = client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"units_needed": 1}, headers=dispatcher
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["units_needed"] == 1
    assert [u["unit"]["callsign"] for u in body["units"]] == ["KPJ-2"]
    assert body["units"][0]["slot"] == 1  # moved into the one slot left
    withdrawn = [a for a in factory.assignments(ticket["id"]) if a.status == "cancelled"]
    assert {a.unit_id for a in withdrawn} == {first.unit_id, third.unit_id}
    assert {a.end_reason for a in withdrawn} == {"units_reduced"}
    assert factory.unit_row(first.unit_id).status == "available"
    updated = factory.events("ticket.updated")[-1]
    assert updated.data["changes"] == {"units_needed": [3, 1]}
    assert sorted(updated.data["withdrawn"]) == ["KPJ-1", "KPJ-3"]
    # A withdrawn unit answering late is told why.
    late = post(client, f"/api/v1/assignments/{first.id}/accept", heads[first.unit_id])
    assert late.status_code == 409 and error(late)["code"] == "assignment_cancelled"


@pytest.mark.parametrize("value", [0, 11, "x", None])
def test_units_needed_out_of_range_in_patch_changes_nothing(client, dispatcher, factory, value):
    ticket = create(client, dispatcher)
    before = len(factory.events())
    response = client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"units_needed": value}, headers=dispatcher
    )
    assert response.status_code == 422
    assert "units_needed" in error(response)["fields"]
    assert len(factory.events()) == before and factory.ticket(ticket["id"]).units_needed == 1


def test_the_category_changes_with_before_and_after(client, dispatcher, factory):
    ticket = create(client, dispatcher, category="fight", priority=2, summary="Dua orang")
    response = client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"category": "brawl", "summary": "Tawuran pelajar"},
        headers=dispatcher,
    )
    body = response.get_json()
    assert (body["category"], body["priority"], body["units_needed"]) == ("brawl", 2, 1)
    assert factory.events("ticket.updated")[-1].data["changes"] == {
        "category": ["fight", "brawl"],
        "summary": ["Dua orang", "Tawuran pelajar"],
    }
    for bad in ("prank", "officer_emergency", "nope"):
        refused = client.patch(
            f"/api/v1/tickets/{ticket['id']}", json={"category": bad}, headers=dispatcher
        )
        assert refused.status_code == 422 and "category" in error(refused)["fields"]
    assert factory.ticket(ticket["id"]).category == "brawl"


# --- release ---------------------------------------------------------------------------------


def test_release_frees_one_unit_and_refills_its_slot(client, dispatcher, factory, fleet):
    heads = by_unit(fleet)
    ticket = create(client, dispatcher, units_needed=2)
    route(factory, ticket["id"])
    first, second = active(factory, ticket["id"])
    post(client, f"/api/v1/assignments/{first.id}/accept", heads[first.unit_id])
    response = post(
        client, f"/api/v1/assignments/{first.id}/release", dispatcher, {"reason": "Ban bocor"}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "released" and body["end_reason"] == "Ban bocor"
    assert factory.unit_row(first.unit_id).status == "available"
    units = {u["unit"]["id"]: u["slot"] for u in body["ticket"]["units"]}
    assert units == {second.unit_id: second.slot, fleet[2][0]: first.slot}  # the next nearest
    event = factory.events("assignment.released")[-1]
    assert event.data["reason"] == "Ban bocor" and event.actor_id is not None
    # The released unit is told, and is not offered the ticket again automatically.
    late = post(
        client,
        f"/api/v1/assignments/{first.id}/progress",
        heads[first.unit_id],
        {"status": "en_route"},
    )
    assert late.status_code == 409 and error(late)["code"] == "assignment_released"
    factory.run(routing.route_queued)
    assert first.unit_id not in {a.unit_id for a in active(factory, ticket["id"])}


def test_release_without_a_replacement_lowers_the_need(client, dispatcher, factory, fleet):
    ticket = create(client, dispatcher, units_needed=2)
    route(factory, ticket["id"])
    first, second = active(factory, ticket["id"])
    response = post(
        client,
        f"/api/v1/assignments/{second.id}/release",
        dispatcher,
        {"reason": "Cukup satu unit", "refill": False},
    )
    body = response.get_json()
    assert body["ticket"]["units_needed"] == 1
    assert [u["unit"]["id"] for u in body["ticket"]["units"]] == [first.unit_id]
    # One unit is the least a ticket needs.
    refused = post(
        client,
        f"/api/v1/assignments/{first.id}/release",
        dispatcher,
        {"reason": "x", "refill": False},
    )
    assert refused.status_code == 409 and error(refused)["code"] == "last_unit"


def test_a_release_or_a_lowering_that_would_leave_nothing_to_do_says_close(
    client, dispatcher, factory, fleet
):
    heads = by_unit(fleet)
    ticket = create(client, dispatcher, units_needed=2)
    route(factory, ticket["id"])
    first, second = active(factory, ticket["id"])
    accept_all(client, factory, fleet, ticket["id"])
    post(
        client,
        f"/api/v1/assignments/{first.id}/progress",
        heads[first.unit_id],
        {"status": "cleared", "resolution": "handled"},
    )
    before = len(factory.events())
    refused = post(
        client,
        f"/api/v1/assignments/{second.id}/release",
        dispatcher,
        {"reason": "Cukup", "refill": False},
    )
    assert refused.status_code == 409 and error(refused)["code"] == "close_instead"
    lowered = client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"units_needed": 1}, headers=dispatcher
    )
    assert lowered.status_code == 409 and error(lowered)["code"] == "below_accepted"
    assert len(factory.events()) == before
    assert [a.unit_id for a in active(factory, ticket["id"])] == [second.unit_id]


def test_release_refusals(client, dispatcher, factory, fleet):
    ticket = create(client, dispatcher)
    route(factory, ticket["id"])
    [offer] = active(factory, ticket["id"])
    path = f"/api/v1/assignments/{offer.id}/release"
    assert post(client, path, dispatcher, {}).status_code == 422
    assert post(client, path, dispatcher, {"reason": "x", "refill": "no"}).status_code == 422
    assert (
        post(client, "/api/v1/assignments/99999/release", dispatcher, {"reason": "x"}).status_code
        == 404
    )
    assert post(client, path, dispatcher, {"reason": "x"}).status_code == 200
    again = post(client, path, dispatcher, {"reason": "x"})
    assert again.status_code == 409 and error(again)["code"] == "assignment_released"


# --- cancel and close with several units ------------------------------------------------------


def test_cancel_ends_every_assignment(client, dispatcher, factory, fleet):
    heads = by_unit(fleet)
    ticket = create(client, dispatcher, units_needed=3)
    route(factory, ticket["id"])
    first, *_ = active(factory, ticket["id"])
    post(client, f"/api/v1/assignments/{first.id}/accept", heads[first.unit_id])
    response = post(
        client, f"/api/v1/tickets/{ticket['id']}/cancel", dispatcher, {"reason": "Ganda"}
    )
    assert response.status_code == 200
    assert response.get_json()["units"] == []
    rows = factory.assignments(ticket["id"])
    assert {a.status for a in rows} == {"cancelled"}
    assert {factory.unit_row(a.unit_id).status for a in rows} == {"available"}
    assert sorted(factory.events("ticket.cancelled")[-1].data["units"]) == [
        "KPJ-1",
        "KPJ-2",
        "KPJ-3",
    ]


def test_close_completes_the_accepted_and_withdraws_the_offers(client, dispatcher, factory, fleet):
    heads = by_unit(fleet)
    ticket = create(client, dispatcher, units_needed=2)
    route(factory, ticket["id"])
    first, second = active(factory, ticket["id"])
    post(client, f"/api/v1/assignments/{first.id}/accept", heads[first.unit_id])
    post(client, f"/api/v1/tickets/{ticket['id']}/close", dispatcher, {"resolution": "handled"})
    statuses = {a.unit_id: (a.status, a.end_reason) for a in factory.assignments(ticket["id"])}
    assert statuses == {
        first.unit_id: ("completed", "closed_by_dispatcher"),
        second.unit_id: ("cancelled", "closed"),
    }


# --- backup ----------------------------------------------------------------------------------


def test_the_unit_on_the_job_asks_for_backup(client, dispatcher, factory, fleet):
    heads = by_unit(fleet)
    ticket = create(client, dispatcher)
    route(factory, ticket["id"])
    [offer] = active(factory, ticket["id"])
    mine = heads[offer.unit_id]
    post(client, f"/api/v1/assignments/{offer.id}/accept", mine)
    response = post(
        client, f"/api/v1/assignments/{offer.id}/backup", mine, {"reason": "Massa bertambah"}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["added"] == 1 and body["ticket"]["units_needed"] == 2
    assert "flags" not in body["ticket"]  # a unit is not told the caller's history
    assert [u["unit"]["id"] for u in body["ticket"]["units"]] == [offer.unit_id, fleet[1][0]]
    assert body["ticket"]["backup_requested_at"] is not None
    event = factory.events("ticket.backup_requested")[-1]
    assert event.unit_id == offer.unit_id
    assert event.data == {
        "number": ticket["number"],
        "assignment_id": offer.id,
        "callsign": "KPJ-1",
        "count": 1,
        "added": 1,
        "units_needed": [1, 2],
        "reason": "Massa bertambah",
        "by_unit": True,
    }
    board = get(client, dispatcher, ticket["id"])
    assert board["flags"]["backup_requested"] is True and board["flags"]["short"] is True

    # Several at once, the total capped at 10.
    more = post(
        client, f"/api/v1/assignments/{offer.id}/backup", mine, {"count": 9, "reason": "Ricuh"}
    )
    assert more.get_json()["added"] == 8 and more.get_json()["ticket"]["units_needed"] == 10
    full = post(client, f"/api/v1/assignments/{offer.id}/backup", mine, {"reason": "Lagi"})
    assert full.status_code == 409 and error(full)["code"] == "units_at_most"


def test_backup_refusals_change_nothing(client, dispatcher, factory, fleet):
    heads = by_unit(fleet)
    ticket = create(client, dispatcher)
    route(factory, ticket["id"])
    [offer] = active(factory, ticket["id"])
    mine, other = heads[offer.unit_id], heads[fleet[4][0]]
    path = f"/api/v1/assignments/{offer.id}/backup"
    before = len(factory.events())
    # Only an offer so far: accept first.
    only_offered = post(client, path, mine, {"reason": "x"})
    assert only_offered.status_code == 409 and error(only_offered)["code"] == "invalid_transition"
    assert post(client, path, other, {"reason": "x"}).status_code == 404
    assert post(client, path, mine, {}).status_code == 422
    for count in (0, 10, "2"):
        assert post(client, path, mine, {"reason": "x", "count": count}).status_code == 422
    assert len(factory.events()) == before
    # The job is over: the unit no longer holds it.
    post(client, f"/api/v1/assignments/{offer.id}/accept", mine)
    post(
        client,
        f"/api/v1/assignments/{offer.id}/progress",
        mine,
        {"status": "cleared", "resolution": "handled"},
    )
    for lang, words in (("en", "already cleared"), ("id", "sudah selesai")):
        late = client.post(
            f"{path}?lang={lang}",
            json={"reason": "x"},
            headers={**mine, "Accept-Language": lang},
        )
        assert late.status_code == 409 and error(late)["code"] == "assignment_completed"
        assert words in error(late)["message"]
    assert factory.ticket(ticket["id"]).units_needed == 1
    assert factory.events("ticket.backup_requested") == []


def test_a_dispatcher_may_ask_backup_for_a_unit(client, dispatcher, factory, fleet):
    ticket = create(client, dispatcher)
    route(factory, ticket["id"])
    [offer] = active(factory, ticket["id"])
    response = post(
        client,
        f"/api/v1/assignments/{offer.id}/backup",
        dispatcher,
        {"count": 2, "reason": "Radio"},
    )
    assert response.status_code == 200
    assert "flags" in response.get_json()["ticket"]
    assert len(active(factory, ticket["id"])) == 3


# --- manual assignment fills a slot ----------------------------------------------------------


def test_manual_assignment_fills_a_slot_or_says_the_ticket_is_full(
    client, dispatcher, factory, fleet
):
    heads = by_unit(fleet)
    ticket = create(client, dispatcher, units_needed=2)
    route(factory, ticket["id"])
    first, second = active(factory, ticket["id"])
    for a in (first, second):
        post(client, f"/api/v1/assignments/{a.id}/accept", heads[a.unit_id])
    far = fleet[4][0]
    full = post(client, f"/api/v1/tickets/{ticket['id']}/assign", dispatcher, {"unit_id": far})
    assert full.status_code == 409 and error(full)["code"] == "ticket_full"
    assert "2" in error(full)["message"]
    # One more unit needed: the chosen one fills the new slot.
    client.patch(f"/api/v1/tickets/{ticket['id']}", json={"units_needed": 3}, headers=dispatcher)
    routed = next(a for a in active(factory, ticket["id"]) if a.status == "offered")
    response = post(client, f"/api/v1/tickets/{ticket['id']}/assign", dispatcher, {"unit_id": far})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["offered"]["unit_id"] == far and body["offered"]["slot"] == routed.slot
    assert body["offered"]["manual"] is True
    # The router's pending offer gave way to the dispatcher's choice.
    assert factory.unit_row(routed.unit_id).status == "available"
    already = post(client, f"/api/v1/tickets/{ticket['id']}/assign", dispatcher, {"unit_id": far})
    assert already.status_code == 409 and error(already)["code"] == "already_assigned"
