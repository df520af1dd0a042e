"""Call-backs of silent and dropped calls: creation, the list, overdue, outcomes, refusals."""

from datetime import timedelta

import pytest

from callcenter.extensions import db
from callcenter.models import Callback, CallbackAttempt, Event, Ticket
from callcenter.services import clock
from tests.helpers import ticket_payload


@pytest.fixture
def headers(factory):
    return factory.headers("dispatcher")


def log(client, headers, category="silent_call", phone="0811-48-2000", **extra) -> dict:
    body = ticket_payload(
        category=category, caller={"phone": phone} if phone else {}, summary="", **extra
    )
    if category in ("silent_call", "dropped", "prank"):
        body.pop("location")
    response = client.post("/api/v1/tickets", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def tasks(client, headers, status="open"):
    response = client.get(f"/api/v1/callbacks?status={status}", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def attempt(client, headers, callback_id, **body):
    return client.post(f"/api/v1/callbacks/{callback_id}/attempts", json=body, headers=headers)


@pytest.mark.parametrize("category", ["silent_call", "dropped"])
def test_a_silent_or_dropped_call_leaves_a_call_back_due_in_five_minutes(
    client, headers, factory, category
):
    ticket = log(client, headers, category=category)
    assert ticket["status"] == "closed"
    [task] = tasks(client, headers)
    assert task["ticket"]["id"] == ticket["id"] and task["ticket"]["category"] == category
    assert task["phone"] == "+62811482000" and task["phone_display"] == "0811-482-000"
    assert task["status"] == "open" and not task["overdue"] and task["attempts"] == 0
    created = factory.run(lambda: db.session.get(Callback, task["id"]))
    assert created.due_at - created.created_at == timedelta(seconds=300)
    assert len(factory.events("callback.created")) == 1


@pytest.mark.parametrize("category", ["prank", "information", "wrong_number", "theft"])
def test_other_calls_leave_none(client, headers, factory, category):
    body = ticket_payload(category=category)
    if category == "prank":
        body.pop("location")
    assert client.post("/api/v1/tickets", json=body, headers=headers).status_code == 201
    assert factory.count(Callback) == 0


def test_no_number_or_a_repeat_prank_number_is_not_called_back(client, headers):
    log(client, headers, phone=None)
    for _ in range(2):
        log(client, headers, category="prank", phone="0812-3456-7890")
    log(client, headers, phone="0812 3456 7890")
    assert tasks(client, headers) == []
    closed = tasks(client, headers, "closed")
    assert sorted(c["close_reason"] for c in closed) == ["no_number", "repeat_prank"]


def test_a_prank_found_on_call_back_counts_toward_a_repeat_prank(client, headers):
    log(client, headers, category="prank", phone="0813-1111-2222")
    first = log(client, headers, phone="0813-1111-2222")
    [task] = tasks(client, headers)
    assert task["ticket"]["id"] == first["id"]
    assert attempt(client, headers, task["id"], outcome="prank").status_code == 201
    log(client, headers, phone="0813-1111-2222")
    assert tasks(client, headers) == []
    assert tasks(client, headers, "closed")[0]["close_reason"] == "repeat_prank"


def test_the_list_is_oldest_first_and_says_which_are_late(client, headers, factory):
    first = log(client, headers, phone="0811-48-2000")
    second = log(client, headers, category="dropped", phone="0812-3456-7890")

    def age():
        task = db.session.scalars(
            db.select(Callback).where(Callback.ticket_id == first["id"])
        ).one()
        task.created_at -= timedelta(minutes=6)
        task.due_at = clock.now() - timedelta(minutes=1)
        db.session.commit()

    factory.run(age)
    listed = tasks(client, headers)
    assert [t["ticket"]["id"] for t in listed] == [first["id"], second["id"]]
    assert [t["overdue"] for t in listed] == [True, False]


def test_three_unanswered_tries_close_the_task_and_a_fourth_is_refused(client, headers, factory):
    log(client, headers)
    [task] = tasks(client, headers)
    for n in (1, 2):
        body = attempt(client, headers, task["id"], outcome="no_answer", note=f"coba {n}")
        assert body.status_code == 201
        assert body.get_json()["status"] == "open" and body.get_json()["attempts"] == n
    third = attempt(client, headers, task["id"], outcome="no_answer").get_json()
    assert third["status"] == "closed" and third["close_reason"] == "no_answer"
    assert [a["outcome"] for a in third["history"]] == ["no_answer"] * 3
    assert third["history"][0]["note"] == "coba 1"
    events_before = factory.count(Event)
    refused = attempt(client, headers, task["id"], outcome="no_answer")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "callback_closed"
    assert factory.count(CallbackAttempt) == 3 and factory.count(Event) == events_before


@pytest.mark.parametrize("outcome", ["prank", "wrong_number"])
def test_a_prank_or_a_wrong_number_closes_the_task(client, headers, outcome):
    log(client, headers)
    [task] = tasks(client, headers)
    body = attempt(client, headers, task["id"], outcome=outcome).get_json()
    assert body["status"] == "closed" and body["close_reason"] == outcome
    assert tasks(client, headers) == []


def test_a_genuine_call_back_is_logged_as_a_ticket_linked_to_the_task(client, headers, factory):
    silent = log(client, headers)
    [task] = tasks(client, headers)
    genuine = ticket_payload(
        category="domestic_violence",
        caller={"phone": task["phone"]},
        summary="Korban KDRT tidak bisa bicara saat menelepon",
        callback_id=task["id"],
    )
    response = client.post("/api/v1/tickets", json=genuine, headers=headers)
    assert response.status_code == 201
    ticket = response.get_json()
    [closed] = tasks(client, headers, "closed")
    assert closed["close_reason"] == "genuine"
    assert closed["result_ticket"]["id"] == ticket["id"]
    assert closed["ticket"]["id"] == silent["id"]
    attempted = factory.events("callback.attempted")
    assert attempted[-1].data["result_number"] == ticket["number"]
    # Both tickets show the task: the silent call that left it, the ticket logged from it.
    for ticket_id in (silent["id"], ticket["id"]):
        detail = client.get(f"/api/v1/tickets/{ticket_id}", headers=headers).get_json()
        assert [c["id"] for c in detail["callbacks"]] == [task["id"]]
        assert detail["callbacks"][0]["history"][0]["outcome"] == "genuine"

    # The same task cannot be linked twice: the second intake is refused whole.
    count = factory.count(Ticket)
    again = client.post("/api/v1/tickets", json=genuine, headers=headers)
    assert again.status_code == 422
    assert "callback_id" in again.get_json()["error"]["fields"]
    assert factory.count(Ticket) == count


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({}, "outcome"),
        ({"outcome": "genuine"}, "ticket_id"),
        ({"outcome": "genuine", "ticket_id": 999999}, "ticket_id"),
        ({"outcome": "prank", "ticket_id": 1}, "ticket_id"),
        ({"outcome": "prank", "note": "x" * 1001}, "note"),
        ({"outcome": "prank", "mood": "bad"}, "mood"),
    ],
)
def test_bad_attempts_are_refused_and_change_nothing(client, headers, factory, body, field):
    log(client, headers)
    [task] = tasks(client, headers)
    response = attempt(client, headers, task["id"], **body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert factory.count(CallbackAttempt) == 0
    assert tasks(client, headers)[0]["attempts"] == 0


def test_unknown_task_status_and_roles(client, headers, factory):
    assert attempt(client, headers, 999999, outcome="prank").status_code == 404
    assert client.get("/api/v1/callbacks?status=maybe", headers=headers).status_code == 422
    unit_headers = factory.unit_user(factory.unit())
    assert client.get("/api/v1/callbacks", headers=unit_headers).status_code == 403
    supervisor = factory.headers("supervisor")
    assert client.get("/api/v1/callbacks", headers=supervisor).status_code == 200


def test_tries_recorded_at_once_never_pass_the_limit(app, client, headers, factory):
    from tests.api.test_tickets_intake import _concurrently

    log(client, headers)
    [task] = tasks(client, headers)

    def no_answer(_):
        with app.test_client() as c:
            return attempt(c, headers, task["id"], outcome="no_answer").status_code

    assert sorted(_concurrently(6, no_answer)) == [201] * 3 + [409] * 3
    assert factory.count(CallbackAttempt) == 3
    assert len(factory.events("callback.closed")) == 1
