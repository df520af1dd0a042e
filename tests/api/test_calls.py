"""Calls linked to their incident: attach at intake or afterwards, move a duplicate's call,
split a call off into a ticket of its own, the timeline, and the caller's history in calls.

Routing is called as a service where a test needs an offer (no worker); a split ticket is
only handed to routing after the commit, which the system tests cover with real workers.
"""

from datetime import timedelta

import pytest

from callcenter.extensions import db
from callcenter.models import Call, Ticket
from callcenter.services import clock, routing
from tests.helpers import KEPANJEN, offset, ticket_payload


@pytest.fixture
def dispatcher(factory):
    return factory.headers("dispatcher")


def create(client, headers, **overrides):
    response = client.post("/api/v1/tickets", json=ticket_payload(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def detail(client, headers, ticket_id):
    return client.get(f"/api/v1/tickets/{ticket_id}", headers=headers).get_json()


def error(response):
    return response.get_json()["error"]


def second_call(**overrides):
    body = {
        "channel": "phone",
        "caller": {"name": "Siti Aminah", "phone": "+62 812-3456-7890"},
        "text": "Saya lihat tabrakan yang sama, ada yang luka",
    }
    body.update(overrides)
    return body


def calls(factory, ticket_id=None) -> list[Call]:
    with factory.app.app_context():
        query = db.select(Call).order_by(Call.id)
        if ticket_id is not None:
            query = query.where(Call.ticket_id == ticket_id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        db.session.remove()
        return rows


def close_ago(app, ticket_id, hours):
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        moment = clock.now() - timedelta(hours=hours)
        ticket.status, ticket.closed_at, ticket.status_changed_at = "closed", moment, moment
        ticket.resolution, ticket.waiting_since = "handled", None
        db.session.commit()
        db.session.remove()


# --- each call its own record -----------------------------------------------------------------


def test_a_new_ticket_has_its_opening_call(client, factory, dispatcher):
    ticket = create(client, dispatcher)
    body = detail(client, dispatcher, ticket["id"])
    assert len(body["calls"]) == 1
    call = body["calls"][0]
    assert call["opening"] is True and call["channel"] == "phone"
    assert call["caller"] == {
        "name": "Budi Santoso",
        "phone": "+62811482000",
        "phone_display": call["caller"]["phone_display"],
    }
    assert call["text"] == "Dompet dicopet di pasar"
    assert call["taken_by"]["role"] == "dispatcher" and call["received_at"]


def test_a_call_attached_at_intake_joins_the_ticket_and_dispatches_nothing(
    client, factory, dispatcher
):
    factory.unit(callsign="KPJ-1", point=offset(KEPANJEN, 200, 0))
    first = create(client, dispatcher, category="traffic_accident_injury")
    assert factory.run(routing.route_ticket, first["id"]) == "offered"
    offers = len(factory.assignments())
    # The same crash, called in again: the intake form sends everything, and attach_to.
    call = second_call()
    body = ticket_payload(
        category="traffic_accident_injury",
        caller=call["caller"],
        summary=call["text"],
        attach_to=first["id"],
    )
    response = client.post(
        "/api/v1/tickets", json=body, headers={**dispatcher, "Idempotency-Key": "k-1"}
    )
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["id"] == first["id"] and answer["call"]["text"].startswith("Saya lihat")
    assert response.headers["Location"] == f"/api/v1/tickets/{first['id']}"
    assert factory.count(Ticket) == 1 and len(factory.assignments()) == offers
    assert [c.caller_phone for c in calls(factory, first["id"])] == [
        "+62811482000",
        "+6281234567890",
    ]
    # Sent again (a retry): nothing more is added.
    again = client.post(
        "/api/v1/tickets", json=body, headers={**dispatcher, "Idempotency-Key": "k-1"}
    )
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert len(calls(factory)) == 2
    # The timeline shows each call.
    timeline = detail(client, dispatcher, first["id"])["timeline"]
    attached = [e for e in timeline if e["type"] == "ticket.call_attached"]
    assert len(attached) == 1 and attached[0]["data"]["caller_name"] == "Siti Aminah"
    assert attached[0]["actor"]["role"] == "dispatcher"


def test_post_calls_attaches_a_new_call(client, factory, dispatcher):
    ticket = create(client, dispatcher)
    response = client.post(
        f"/api/v1/tickets/{ticket['id']}/calls", json=second_call(), headers=dispatcher
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["call"]["caller"]["name"] == "Siti Aminah"
    earlier = client.post(
        f"/api/v1/tickets/{ticket['id']}/calls",
        json=second_call(received_at="2026-11-28T10:00:00+07:00"),
        headers=dispatcher,
    ).get_json()["call"]
    assert earlier["received_at"].startswith("2026-11-28T03:00:00")
    body = detail(client, dispatcher, ticket["id"])
    assert [c["opening"] for c in body["calls"]] == [True, False, False]
    assert factory.count(Ticket) == 1


@pytest.mark.parametrize(
    "body,field",
    [
        ({"channel": "pigeon"}, "channel"),
        ({"caller": {"phone": "12"}}, "caller.phone"),
        ({"caller": "Budi"}, "caller"),
        ({"location": {"lat": 1, "lon": 2}}, "location"),
        ({"text": "x" * 2001}, "text"),
        ({"summary": "kata"}, "summary"),
        ({"received_at": "2999-01-01T00:00:00+07:00"}, "received_at"),
        ({"received_at": "kemarin"}, "received_at"),
    ],
)
def test_a_bad_call_is_refused_and_nothing_changes(client, factory, dispatcher, body, field):
    ticket = create(client, dispatcher)
    response = client.post(
        f"/api/v1/tickets/{ticket['id']}/calls", json=second_call(**body), headers=dispatcher
    )
    assert response.status_code == 422 and field in error(response)["fields"]
    assert len(calls(factory)) == 1


def test_attaching_to_a_ticket_closed_more_than_a_day_ago_is_refused(
    client, factory, dispatcher, app
):
    old = create(client, dispatcher)
    recent = create(client, dispatcher)
    close_ago(app, old["id"], 25)
    close_ago(app, recent["id"], 23)
    events_before = len(factory.events())
    for send in (
        lambda: client.post(
            f"/api/v1/tickets/{old['id']}/calls", json=second_call(), headers=dispatcher
        ),
        lambda: client.post(
            "/api/v1/tickets?lang=en",
            json=ticket_payload(attach_to=old["id"]),
            headers=dispatcher,
        ),
    ):
        response = send()
        assert response.status_code == 409
        assert error(response)["code"] == "ticket_closed_too_long"
        assert old["number"] in error(response)["message"]
    assert len(calls(factory)) == 2 and len(factory.events()) == events_before
    # A ticket closed within the day still takes the call.
    response = client.post(
        f"/api/v1/tickets/{recent['id']}/calls", json=second_call(), headers=dispatcher
    )
    assert response.status_code == 201


def test_attach_to_refusals(client, factory, dispatcher):
    ticket = create(client, dispatcher)
    for target, status, field in (
        (999, 404, None),
        ("1", 422, "attach_to"),
        (True, 422, "attach_to"),
    ):
        response = client.post(
            "/api/v1/tickets", json=ticket_payload(attach_to=target), headers=dispatcher
        )
        assert response.status_code == status, response.get_json()
        if field:
            assert field in error(response)["fields"]
    assert factory.count(Ticket) == 1 and len(calls(factory)) == 1
    assert ticket["id"]


# --- a duplicate's call moved onto the first ticket ------------------------------------------


def test_a_duplicates_call_moves_and_the_duplicate_is_cancelled_as_merged(
    client, factory, dispatcher
):
    unit = factory.unit(callsign="KPJ-1", point=offset(KEPANJEN, 200, 0))
    first = create(client, dispatcher)
    dup = create(client, dispatcher, **{"caller": {"name": "Siti", "phone": "081234567890"}})
    assert dup["flags"]["possible_duplicate"]["id"] == first["id"]
    assert factory.run(routing.route_ticket, dup["id"]) == "offered"
    dup_call = calls(factory, dup["id"])[0]

    response = client.post(
        f"/api/v1/tickets/{first['id']}/calls", json={"call_id": dup_call.id}, headers=dispatcher
    )
    assert response.status_code == 201, response.get_json()
    assert [c.id for c in calls(factory, first["id"])][-1] == dup_call.id
    merged = factory.ticket(dup["id"])
    assert merged.status == "cancelled" and first["number"] in merged.cancel_reason
    assert factory.unit_row(unit).status == "available"
    assert all(a.status == "cancelled" for a in factory.assignments(dup["id"]))
    kinds = [e.type for e in factory.events() if e.ticket_id == dup["id"]]
    assert "ticket.call_detached" in kinds and "ticket.cancelled" in kinds


def test_attaching_a_call_to_its_own_ticket_is_refused(client, factory, dispatcher):
    ticket = create(client, dispatcher)
    own = calls(factory, ticket["id"])[0]
    before = len(factory.events())
    response = client.post(
        f"/api/v1/tickets/{ticket['id']}/calls",
        json={"call_id": own.id},
        headers={**dispatcher, "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert error(response)["code"] == "attach_to_itself"
    assert "itself" in error(response)["message"]
    assert len(factory.events()) == before and factory.ticket(ticket["id"]).status == "new"


def test_the_opening_call_of_a_ticket_with_more_calls_stays(client, factory, dispatcher):
    a = create(client, dispatcher)
    b = create(client, dispatcher)
    client.post(f"/api/v1/tickets/{b['id']}/calls", json=second_call(), headers=dispatcher)
    opening = calls(factory, b["id"])[0]
    response = client.post(
        f"/api/v1/tickets/{a['id']}/calls", json={"call_id": opening.id}, headers=dispatcher
    )
    assert response.status_code == 409 and error(response)["code"] == "opening_call"
    assert calls(factory, b["id"])[0].id == opening.id
    missing = client.post(
        f"/api/v1/tickets/{a['id']}/calls", json={"call_id": 99999}, headers=dispatcher
    )
    assert missing.status_code == 404


# --- split a call off -------------------------------------------------------------------------


def test_a_wrongly_attached_call_is_split_off_into_a_new_routable_ticket(
    client, factory, dispatcher
):
    ticket = create(client, dispatcher, category="traffic_accident_injury")
    attached = client.post(
        f"/api/v1/tickets/{ticket['id']}/calls", json=second_call(), headers=dispatcher
    ).get_json()["call"]
    elsewhere = offset(KEPANJEN, 3000, 0)
    response = client.post(
        f"/api/v1/calls/{attached['id']}/split",
        json={"category": "theft", "location": {"lat": elsewhere[0], "lon": elsewhere[1]}},
        headers=dispatcher,
    )
    assert response.status_code == 201, response.get_json()
    new = response.get_json()
    assert new["id"] != ticket["id"] and new["status"] == "new"
    assert new["category"] == "theft" and new["caller"]["name"] == "Siti Aminah"
    assert new["summary"].startswith("Saya lihat") and new["slots_open"] == 1
    assert [c.id for c in calls(factory, new["id"])] == [attached["id"]]
    assert len(calls(factory, ticket["id"])) == 1
    # Routed as usual: the nearest unit gets it.
    unit = factory.unit(callsign="JAUH-1", point=elsewhere)
    assert factory.run(routing.route_ticket, new["id"]) == "offered"
    assert factory.assignments(new["id"])[0].unit_id == unit
    split = [e for e in factory.events("ticket.call_split") if e.ticket_id == ticket["id"]]
    assert split[0].data["to"] == new["number"]
    created = [e for e in factory.events("ticket.created") if e.ticket_id == new["id"]]
    assert created[0].data["split_from"] == ticket["number"]


def test_split_refusals(client, factory, dispatcher):
    ticket = create(client, dispatcher)
    create(client, dispatcher)
    opening = calls(factory, ticket["id"])[0]
    attached = client.post(
        f"/api/v1/tickets/{ticket['id']}/calls", json=second_call(), headers=dispatcher
    ).get_json()["call"]
    url = "/api/v1/calls"
    cases = [
        (f"{url}/{opening.id}/split", {}, 409),
        (f"{url}/99999/split", {}, 404),
        (f"{url}/{attached['id']}/split", {"category": "prank"}, 422),
        (f"{url}/{attached['id']}/split", {"priority": 9}, 422),
        (f"{url}/{attached['id']}/split", {"colour": "red"}, 422),
    ]
    for path, body, status in cases:
        response = client.post(path, json=body, headers=dispatcher)
        assert response.status_code == status, (path, body, response.get_json())
    assert factory.count(Ticket) == 2 and len(calls(factory, ticket["id"])) == 2


# --- caller history counts calls ---------------------------------------------------------------


def test_the_caller_history_counts_calls_not_tickets(client, factory, dispatcher):
    ticket = create(client, dispatcher)
    for _ in range(2):
        client.post(
            f"/api/v1/tickets/{ticket['id']}/calls",
            json=second_call(caller={"name": "Budi", "phone": "0811 48 2000"}),
            headers=dispatcher,
        )
    history = client.get("/api/v1/callers/history?phone=0811482000", headers=dispatcher).get_json()
    assert history["calls"] == 3
    assert [t["id"] for t in history["recent"]] == [ticket["id"]]
    again = create(client, dispatcher)
    assert again["flags"]["caller_calls_30d"] == 3


def test_the_migration_gives_every_ticket_one_call(client, factory, dispatcher):
    """Tickets from before: 0006 records one call each from the ticket's caller fields
    (its SQL is run here on tickets whose calls were removed)."""
    ticket = create(client, dispatcher)
    with factory.app.app_context():
        db.session.execute(db.delete(Call))
        db.session.execute(
            db.text(
                "INSERT INTO calls (ticket_id, channel, caller_name, caller_phone, text,"
                " received_at, taken_by_id) SELECT id, channel, caller_name, caller_phone,"
                " COALESCE(summary, ''), created_at, created_by_id FROM tickets ORDER BY id"
            )
        )
        db.session.commit()
        db.session.remove()
    body = detail(client, dispatcher, ticket["id"])
    assert len(body["calls"]) == 1 and body["calls"][0]["caller"]["name"] == "Budi Santoso"


# --- the warning at intake, before the call is logged ---------------------------------------


def test_intake_asks_for_a_possible_duplicate_before_logging(client, factory, dispatcher):
    first = create(client, dispatcher, category="traffic_accident_injury")
    near = offset(KEPANJEN, 100, 50)
    url = "/api/v1/tickets/possible-duplicate?category={}&lat={}&lon={}"
    found = client.get(url.format("traffic_accident_injury", *near), headers=dispatcher).get_json()
    assert found["ticket"]["id"] == first["id"] and found["ticket"]["number"] == first["number"]
    far = offset(KEPANJEN, 2000, 0)
    assert client.get(
        url.format("traffic_accident_injury", *far), headers=dispatcher
    ).get_json() == {"ticket": None}
    assert client.get(url.format("theft", *near), headers=dispatcher).get_json() == {"ticket": None}
    bad = client.get(url.format("nope", "x", 1), headers=dispatcher)
    assert bad.status_code == 422 and {"category", "lat"} <= set(error(bad)["fields"])


def test_one_call_moved_to_two_tickets_at_once_lands_on_one(production_stack, factory):
    """Two dispatchers attach the same duplicate's call to two tickets at the same moment
    (PostgreSQL, threads): the tickets are locked in id order, one wins, the other is told
    the call was moved, and the duplicate is cancelled once."""
    import threading

    app = production_stack
    dispatcher = factory.headers("dispatcher")
    setup = app.test_client()
    for _ in range(5):
        a = create(setup, dispatcher)
        b = create(setup, dispatcher)
        dup = create(setup, dispatcher)
        call_id = calls(factory, dup["id"])[0].id
        barrier = threading.Barrier(2)
        answers = {}

        def attach(target, barrier=barrier, answers=answers, call_id=call_id):
            client = app.test_client()
            barrier.wait()
            answers[target] = client.post(
                f"/api/v1/tickets/{target}/calls", json={"call_id": call_id}, headers=dispatcher
            )

        threads = [threading.Thread(target=attach, args=(t["id"],)) for t in (a, b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        codes = sorted(r.status_code for r in answers.values())
        assert codes == [201, 409], {k: r.get_json() for k, r in answers.items()}
        loser = next(r for r in answers.values() if r.status_code == 409)
        assert error(loser)["code"] == "call_moved"
        winner = next(t for t, r in answers.items() if r.status_code == 201)
        assert [c.ticket_id for c in calls(factory) if c.id == call_id] == [winner]
        assert factory.ticket(dup["id"]).status == "cancelled"
        cancelled = [e for e in factory.events("ticket.cancelled") if e.ticket_id == dup["id"]]
        assert len(cancelled) == 1
