"""Conversations through the API: the list, claims, replies, the 24-hour rule, closing,
prank triage, chat to ticket with the pin as the point."""

import threading
from datetime import timedelta

import httpx

from callcenter.models import Ticket, WaThread
from callcenter.services import clock
from tests.helpers import KEPANJEN, assert_odd_values_answered, offset
from tests.whatsapp.conftest import REPORTER, REPORTER_E164


def _thread(wa, index=0):
    return wa.threads()[index]


def test_threads_list_oldest_waiting_first_with_unread_counts(wa, client, factory):
    headers = factory.headers("dispatcher")
    wa.text("pertama", wa_id="6281100000001")
    wa.text("kedua", wa_id="6281100000002")
    wa.text("lagi", wa_id="6281100000002")
    wa.text("ketiga", wa_id="6281100000003")
    first, second, third = wa.threads()
    now = clock.now()
    wa.update(WaThread, first.id, waiting_since=now - timedelta(minutes=1))
    wa.update(WaThread, second.id, waiting_since=now - timedelta(minutes=5))
    # The third was answered: it waits for nobody and goes to the end.
    reply = client.post(
        f"/api/v1/wa/threads/{third.id}/messages", json={"text": "Siap"}, headers=headers
    )
    assert reply.status_code == 202
    listed = client.get("/api/v1/wa/threads", headers=headers).get_json()
    assert [t["id"] for t in listed] == [second.id, first.id, third.id]
    assert [t["unread"] for t in listed] == [2, 1, 0]
    assert listed[0]["last_message"]["text"] == "lagi"
    assert listed[2]["waiting_since"] is None
    assert listed[0]["window"]["open"] is True

    read = client.post(f"/api/v1/wa/threads/{second.id}/read", headers=headers)
    assert read.get_json()["unread"] == 0
    assert len(factory.events("wa.thread_read")) == 1
    assert client.get("/api/v1/wa/threads?status=bogus", headers=headers).status_code == 422


def test_a_claimed_thread_is_answered_by_its_holder_only(wa, client, factory):
    ani = factory.headers("dispatcher", username="ani")
    budi = factory.headers("dispatcher", username="budi")
    boss = factory.headers("supervisor", username="kasubbag")
    wa.text("tolong")
    thread_id = _thread(wa).id
    claimed = client.post(f"/api/v1/wa/threads/{thread_id}/claim", headers=ani)
    assert claimed.status_code == 200
    assert claimed.get_json()["claimed_by"]["username"] == "ani"
    again = client.post(f"/api/v1/wa/threads/{thread_id}/claim", headers=ani)
    assert again.status_code == 200  # repeating one's own claim changes nothing
    refused = client.post(f"/api/v1/wa/threads/{thread_id}/claim", headers=budi)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "thread_claimed" and "ani" in error["message"]
    for path, body in (("messages", {"text": "halo"}), ("close", {}), ("ticket", {})):
        response = client.post(f"/api/v1/wa/threads/{thread_id}/{path}", json=body, headers=budi)
        assert response.status_code == 409, path
    assert (
        client.post(
            f"/api/v1/wa/threads/{thread_id}/claim", json={"take_over": True}, headers=budi
        ).status_code
        == 403
    )
    taken = client.post(
        f"/api/v1/wa/threads/{thread_id}/claim", json={"take_over": True}, headers=boss
    )
    assert taken.get_json()["claimed_by"]["username"] == "kasubbag"
    released = client.post(f"/api/v1/wa/threads/{thread_id}/release", headers=boss)
    assert released.get_json()["claimed_by"] is None
    assert [e.data.get("taken_from") is not None for e in factory.events("wa.thread_claimed")] == [
        False,
        True,
    ]
    assert len(factory.events("wa.thread_released")) == 1


def test_two_dispatchers_claiming_at_once_one_wins(wa, factory, live_server):
    wa.text("tolong")
    thread_id = _thread(wa).id
    dispatchers = [factory.headers("dispatcher") for _ in range(4)]
    barrier = threading.Barrier(len(dispatchers))
    results = []

    def claim(headers):
        barrier.wait()
        response = httpx.post(
            f"{live_server}/api/v1/wa/threads/{thread_id}/claim", headers=headers, timeout=30
        )
        results.append(response.status_code)

    workers = [threading.Thread(target=claim, args=(h,)) for h in dispatchers]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(results) == [200, 409, 409, 409]
    assert len(factory.events("wa.thread_claimed")) == 1


def test_replies_free_text_and_quick_replies(wa, client, factory):
    headers = factory.headers("dispatcher")
    wa.text("ada maling")
    thread_id = _thread(wa).id
    quick = client.get("/api/v1/wa/quick-replies", headers=headers).get_json()
    assert quick[0]["text"] == "Laporan diterima."
    assert {q["code"] for q in quick} == {"received", "share_location", "en_route", "are_you_safe"}

    sent = client.post(
        f"/api/v1/wa/threads/{thread_id}/messages",
        json={"quick_reply": "share_location"},
        headers=headers,
    )
    assert sent.status_code == 202
    body = sent.get_json()
    assert body["status"] == "queued" and body["quick_reply"] == "share_location"
    assert body["text"].startswith("Mohon bagikan lokasi Anda")
    bad = [
        ({}, "text"),
        ({"text": "   "}, "text"),
        ({"quick_reply": "nope"}, "quick_reply"),
        ({"text": "a", "quick_reply": "received"}, "text"),
        ({"text": "x" * 5000}, "text"),
        ({"text": "ok", "extra": 1}, "extra"),
    ]
    for payload, field in bad:
        response = client.post(
            f"/api/v1/wa/threads/{thread_id}/messages", json=payload, headers=headers
        )
        assert response.status_code == 422, payload
        assert field in response.get_json()["error"]["fields"]
    assert len(wa.messages(direction="out")) == 1
    assert [e.data["quick_reply"] for e in factory.events("wa.message_queued")] == [
        "share_location"
    ]


def test_a_reply_outside_the_24_hour_window_needs_the_template(
    wa, client, factory, app, monkeypatch
):
    from callcenter.services.whatsapp import outbox

    wa.standin.report_statuses = False
    headers = factory.headers("dispatcher")
    wa.text("halo")
    thread_id = _thread(wa).id
    wa.update(WaThread, thread_id, last_inbound_at=clock.now() - timedelta(hours=25))
    refused = client.post(
        f"/api/v1/wa/threads/{thread_id}/messages", json={"text": "Masih di sana?"}, headers=headers
    )
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "outside_window" and "24" in error["message"]
    no_template = client.post(
        f"/api/v1/wa/threads/{thread_id}/messages",
        json={"text": "Masih di sana?", "template": True},
        headers=headers,
    )
    assert no_template.status_code == 409
    assert no_template.get_json()["error"]["code"] == "no_template"
    assert wa.messages(direction="out") == []

    monkeypatch.setitem(app.config, "CALLCENTER_WA_TEMPLATE_NAME", "laporan_update")
    listed = client.get(f"/api/v1/wa/threads/{thread_id}", headers=headers).get_json()
    assert listed["window"] == {
        "open": False,
        "closes_at": listed["window"]["closes_at"],
        "template": True,
    }
    sent = client.post(
        f"/api/v1/wa/threads/{thread_id}/messages",
        json={"text": "Masih di sana?", "template": True},
        headers=headers,
    )
    assert sent.status_code == 202 and sent.get_json()["kind"] == "template"
    assert factory.run(outbox.send, sent.get_json()["id"]) == "accepted"
    (item,) = wa.standin.sent
    assert item["payload"]["type"] == "template"
    assert item["payload"]["template"]["name"] == "laporan_update"
    assert item["payload"]["template"]["language"] == {"code": "id"}
    assert wa.standin.texts_to(REPORTER) == ["Masih di sana?"]


def test_close_and_prank_triage_flags_a_repeat_prank_number(wa, client, factory):
    headers = factory.headers("dispatcher")
    wa.text("hahaha iseng")
    first = _thread(wa).id
    closed = client.post(f"/api/v1/wa/threads/{first}/close", json={"prank": True}, headers=headers)
    assert closed.status_code == 200
    body = closed.get_json()
    assert body["status"] == "closed" and body["close_reason"] == "prank"
    assert body["ticket"]["category"] == "prank" and body["ticket"]["status"] == "closed"
    ticket = factory.ticket(body["ticket"]["id"])
    assert ticket.channel == "whatsapp" and ticket.caller_phone == REPORTER_E164
    assert ticket.summary == "hahaha iseng"
    assert factory.assignments(ticket.id) == []

    wa.text("iseng lagi")
    second = wa.threads()[1].id
    client.post(f"/api/v1/wa/threads/{second}/close", json={"prank": True}, headers=headers)
    wa.text("halo polisi")
    third = client.get("/api/v1/wa/threads", headers=headers).get_json()[0]
    assert third["flags"]["prank_caller"] is True and third["flags"]["pranks_30d"] == 2
    detail = client.get(f"/api/v1/wa/threads/{third['id']}", headers=headers).get_json()
    assert detail["caller_history"]["pranks"] == 2 and detail["caller_history"]["prank_caller"]

    plain = client.post(f"/api/v1/wa/threads/{third['id']}/close", json={}, headers=headers)
    assert plain.get_json()["close_reason"] == "closed"
    assert factory.count(Ticket) == 2
    again = client.post(f"/api/v1/wa/threads/{third['id']}/close", json={}, headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "thread_closed"
    assert [e.data["reason"] for e in factory.events("wa.thread_closed")] == [
        "prank",
        "prank",
        "closed",
    ]


def test_chat_to_ticket_with_the_pin_as_the_point(wa, client, factory):
    headers = factory.headers("dispatcher")
    pin = offset(KEPANJEN, 400, 300)
    wa.text("Tolong ada kecelakaan motor", name="Siti Rahayu")
    wa.location(pin[0], pin[1], place="Jembatan Kepanjen")
    wa.text("korban dua orang")
    thread_id = _thread(wa).id
    made = client.post(
        f"/api/v1/wa/threads/{thread_id}/ticket",
        json={"category": "traffic_accident", "priority": 2},
        headers=headers,
    )
    assert made.status_code == 201, made.get_json()
    ticket = made.get_json()["ticket"]
    assert ticket["channel"] == "whatsapp"
    assert ticket["caller"] == {
        "name": "Siti Rahayu",
        "phone": REPORTER_E164,
        "phone_display": ticket["caller"]["phone_display"],
    }
    assert ticket["location"]["lat"] == pin[0] and ticket["location"]["lon"] == pin[1]
    assert ticket["location"]["address"] == "Jembatan Kepanjen"
    assert ticket["summary"] == "Tolong ada kecelakaan motor\nkorban dua orang"
    assert made.get_json()["thread"]["ticket"]["number"] == ticket["number"]
    linked = factory.events("wa.thread_linked")
    assert [(e.ticket_id, e.data["mode"]) for e in linked] == [(ticket["id"], "created")]

    twice = client.post(
        f"/api/v1/wa/threads/{thread_id}/ticket", json={"category": "theft"}, headers=headers
    )
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "thread_linked"

    # Later messages are part of the ticket's story.
    wa.text("sudah ada ambulans")
    detail = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()
    assert [m["text"] for m in detail["whatsapp"]][-1] == "sudah ada ambulans"
    assert "wa.message_received" in [e["type"] for e in detail["timeline"]]

    # A new pin moves the ticket's point with one action.
    moved = offset(KEPANJEN, 900, 900)
    wa.location(moved[0], moved[1], place="Simpang tiga")
    pin_id = wa.messages(kind="location")[-1].id
    applied = client.post(
        f"/api/v1/wa/threads/{thread_id}/location", json={"message_id": pin_id}, headers=headers
    )
    assert applied.status_code == 200
    assert applied.get_json()["location"] == {
        "lat": moved[0],
        "lon": moved[1],
        "address": "Simpang tiga",
    }
    updated = factory.events("ticket.updated")
    assert updated[-1].ticket_id == ticket["id"] and "lat" in updated[-1].data["changes"]
    text_id = wa.messages(kind="text")[0].id
    wrong = client.post(
        f"/api/v1/wa/threads/{thread_id}/location", json={"message_id": text_id}, headers=headers
    )
    assert wrong.status_code == 422 and "message_id" in wrong.get_json()["error"]["fields"]


def test_chat_to_ticket_refuses_bad_input_and_changes_nothing(wa, client, factory):
    headers = factory.headers("dispatcher")
    wa.text("tolong")  # no pin: a dispatching category needs a location
    thread_id = _thread(wa).id
    missing = client.post(
        f"/api/v1/wa/threads/{thread_id}/ticket", json={"category": "theft"}, headers=headers
    )
    assert missing.status_code == 422
    assert "location" in missing.get_json()["error"]["fields"]
    unknown = client.post(
        f"/api/v1/wa/threads/{thread_id}/ticket",
        json={"category": "nope", "location": {"lat": KEPANJEN[0], "lon": KEPANJEN[1]}},
        headers=headers,
    )
    assert unknown.status_code == 422 and "category" in unknown.get_json()["error"]["fields"]
    assert factory.count(Ticket) == 0
    assert _thread(wa).ticket_id is None
    no_pin = client.post(
        f"/api/v1/wa/threads/{thread_id}/location", json={"message_id": 1}, headers=headers
    )
    assert no_pin.status_code == 409


def test_attach_a_thread_to_an_existing_ticket(wa, client, factory):
    from tests.helpers import ticket_payload

    headers = factory.headers("dispatcher")
    existing = client.post("/api/v1/tickets", json=ticket_payload(), headers=headers).get_json()
    wa.text("saya juga lihat pencopetnya")
    thread_id = _thread(wa).id
    attached = client.post(
        f"/api/v1/wa/threads/{thread_id}/ticket",
        json={"ticket_id": existing["id"]},
        headers=headers,
    )
    assert attached.status_code == 200
    assert attached.get_json()["thread"]["ticket"]["id"] == existing["id"]
    assert factory.count(Ticket) == 1
    assert factory.events("wa.thread_linked")[0].data["mode"] == "attached"
    gone = client.post(
        f"/api/v1/wa/threads/{thread_id}/ticket", json={"ticket_id": 99999}, headers=headers
    )
    assert gone.status_code == 409  # already linked


def test_odd_values_in_every_field_are_answered_with_the_error_shape(wa, client, factory):
    """Each field of each body of the WhatsApp Center, given a value of the wrong kind or out
    of range: taken, or a 4xx in the API's error shape (a 422 names its fields), never a
    500."""
    headers = factory.headers("supervisor")
    wa.text("tolong")
    wa.location()
    thread_id = _thread(wa).id
    base = f"/api/v1/wa/threads/{thread_id}"
    location = {"lat": KEPANJEN[0], "lon": KEPANJEN[1], "address": "Jl. Raya"}
    bodies = [
        ("PATCH", "/api/v1/wa/settings", {"ack": True, "closed": True}),
        ("POST", f"{base}/claim", {"take_over": True}),
        ("POST", f"{base}/messages", {"text": "Siap", "template": False}),
        ("POST", f"{base}/messages", {"quick_reply": "received"}),
        ("POST", f"{base}/location", {"message_id": 1}),
        ("POST", f"{base}/ticket", {"ticket_id": 1}),
        (
            "POST",
            f"{base}/ticket",
            {
                "category": "theft",
                "priority": 2,
                "units_needed": 1,
                "summary": "Maling",
                "caller": {"name": "Siti"},
                "location": location,
                "received_at": clock.now().isoformat(),
            },
        ),
        ("POST", f"{base}/close", {"prank": False, "note": "selesai"}),
    ]
    assert_odd_values_answered(client, headers, bodies)
