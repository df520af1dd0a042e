"""The webhook: Meta's verification, signatures, limits, every message type, idempotency."""

import logging

from callcenter.devtools import wa_payloads
from callcenter.models import Event, WaMessage, WaStatus, WaThread
from tests.whatsapp.conftest import PHONE_ID, REPORTER, REPORTER_E164, VERIFY


def _count(factory, model):
    return factory.count(model)


def test_verification_echoes_the_challenge_for_the_right_token(client, wa):
    ok = client.get(
        "/webhooks/whatsapp",
        query_string={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200
    assert ok.get_data(as_text=True) == "1158201444"
    assert ok.mimetype == "text/plain"
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY},
    ):
        refused = client.get("/webhooks/whatsapp", query_string=params)
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "verification_failed"


def test_verification_is_refused_while_no_verify_token_is_set(client, wa, app, monkeypatch):
    monkeypatch.setitem(app.config, "CALLCENTER_WA_VERIFY_TOKEN", "")
    refused = client.get(
        "/webhooks/whatsapp",
        query_string={"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"},
    )
    assert refused.status_code == 403


def test_unsigned_and_wrongly_signed_deliveries_store_nothing(wa, factory):
    payload = wa_payloads.text(REPORTER, "Siti", "halo", phone_number_id=PHONE_ID)
    unsigned = wa.post(payload, secret=None)
    assert unsigned.status_code == 401
    assert unsigned.get_json()["error"]["code"] == "signature_missing"
    wrong = wa.post(payload, secret="another-apps-secret")
    assert wrong.status_code == 403
    assert wrong.get_json()["error"]["code"] == "signature_invalid"
    # A valid signature of a different body: the body was changed on the way.
    body = wa_payloads.encode(payload)
    tampered = body.replace(b"halo", b"HALO")
    response = wa.post(
        None,
        raw=tampered,
        secret=None,
        headers={"X-Hub-Signature-256": wa_payloads.sign(body, "wa-app-secret-test")},
    )
    assert response.status_code == 403
    garbage = wa.post(payload, secret=None, headers={"X-Hub-Signature-256": "sha256=zz"})
    assert garbage.status_code == 403
    assert _count(factory, WaMessage) == 0
    assert _count(factory, WaThread) == 0
    assert _count(factory, Event) == 0


def test_without_an_app_secret_every_delivery_is_refused(wa, app, monkeypatch, factory):
    monkeypatch.setitem(app.config, "CALLCENTER_WA_APP_SECRET", "")
    response = wa.post(
        wa_payloads.text(REPORTER, "Siti", "halo", phone_number_id=PHONE_ID), secret=""
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_configured"
    assert _count(factory, WaMessage) == 0


def test_a_body_over_the_limit_is_refused(wa, app, monkeypatch, factory):
    monkeypatch.setitem(app.config, "CALLCENTER_WA_MAX_BODY", 4000)
    response = wa.text("x" * 5000)
    assert response.status_code == 413
    assert _count(factory, WaMessage) == 0
    assert wa.text("muat").status_code == 200


def test_malformed_deliveries_get_400_and_their_content_is_not_logged(
    wa, factory, caplog, monkeypatch
):
    # The migrations' logging setup (run by the app fixture) disables existing loggers.
    monkeypatch.setattr(logging.getLogger("callcenter.webhooks.whatsapp"), "disabled", False)
    secret_words = "RAHASIA-korban-di-rumah-nomor-7"
    bad = [
        b"{not json " + secret_words.encode(),
        wa_payloads.encode({"object": "page", "entry": [], "note": secret_words}),
        wa_payloads.encode({"object": "whatsapp_business_account", "entry": {"x": secret_words}}),
    ]
    no_id = wa_payloads.text(REPORTER, "Siti", secret_words, phone_number_id=PHONE_ID)
    del no_id["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    bad.append(wa_payloads.encode(no_id))
    bad_pin = wa_payloads.location(
        REPORTER, "Siti", 123.0, 500.0, secret_words, phone_number_id=PHONE_ID
    )
    bad.append(wa_payloads.encode(bad_pin))
    with caplog.at_level(logging.DEBUG):
        for body in bad:
            response = wa.post(None, raw=body)
            assert response.status_code == 400, body
            assert response.get_json()["error"]["code"] == "malformed"
    assert secret_words not in caplog.text
    assert "malformed" in caplog.text
    assert _count(factory, WaMessage) == 0


def test_a_redelivered_message_is_stored_once(wa, factory):
    payload = wa_payloads.text(REPORTER, "Siti", "Ada pencurian motor", phone_number_id=PHONE_ID)
    first = wa.post(payload)
    again = wa.post(payload)
    assert first.get_json() == {"stored": 1, "duplicates": 0, "throttled": 0, "statuses": 0}
    assert again.status_code == 200
    assert again.get_json()["duplicates"] == 1
    assert len(wa.messages()) == 1
    (thread,) = wa.threads()
    assert thread.unread == 1 and thread.message_count == 1
    assert len(factory.events("wa.message_received")) == 1


def test_every_message_type_is_stored_and_shown(wa, client, factory):
    headers = factory.headers("dispatcher")
    assert wa.text("Tolong, ada tawuran").status_code == 200
    assert (
        wa.location(
            -8.1301, 112.5710, place="Alun-alun Kepanjen", address="Jl. Ahmad Yani"
        ).status_code
        == 200
    )
    for kind, mime in (
        ("image", "image/jpeg"),
        ("audio", "audio/ogg; codecs=opus"),
        ("video", "video/mp4"),
        ("document", "application/pdf"),
    ):
        payload = wa_payloads.media(
            REPORTER,
            "Siti",
            kind,
            f"MEDIA-{kind}",
            mime,
            caption="lihat ini" if kind != "audio" else None,
            filename="laporan.pdf" if kind == "document" else None,
            phone_number_id=PHONE_ID,
        )
        assert wa.post(payload).status_code == 200
    for other in (
        ("sticker", {"id": "S1", "mime_type": "image/webp", "animated": False}),
        ("reaction", {"message_id": "wamid.x", "emoji": "\U0001f44d"}),
        ("contacts", [{"name": {"formatted_name": "Budi"}}]),
        ("futuretype", {}),
    ):
        assert (
            wa.post(
                wa_payloads.inbound(REPORTER, "Siti", *other, phone_number_id=PHONE_ID)
            ).status_code
            == 200
        )

    (thread,) = wa.threads()
    assert thread.phone == REPORTER_E164 and thread.profile_name == "Siti"
    detail = client.get(f"/api/v1/wa/threads/{thread.id}", headers=headers).get_json()
    kinds = [m["kind"] for m in detail["messages"]]
    assert (
        kinds == ["text", "location", "image", "audio", "video", "document"] + ["unsupported"] * 4
    )
    assert [m["raw_type"] for m in detail["messages"][-4:]] == [
        "sticker",
        "reaction",
        "contacts",
        "futuretype",
    ]
    pin = detail["messages"][1]["location"]
    assert pin == {"lat": -8.1301, "lon": 112.571, "place": "Alun-alun Kepanjen, Jl. Ahmad Yani"}
    image = detail["messages"][2]
    assert image["text"] == "lihat ini"
    assert image["media"]["status"] == "pending" and image["media"]["url"] is None
    assert detail["messages"][3]["media"]["mime"] == "audio/ogg"
    assert detail["messages"][5]["media"]["filename"] == "laporan.pdf"
    assert detail["unread"] == 10
    assert detail["phone_display"].startswith("0812")
    assert len(factory.events("wa.message_received")) == 10
    assert len(factory.events("wa.thread_opened")) == 1


def test_one_thread_per_number_and_a_new_one_after_closing(wa, client, factory):
    headers = factory.headers("dispatcher")
    wa.text("satu")
    wa.text("dua")
    wa.text("lain", wa_id="6285600001111", name="Joko")
    threads = wa.threads()
    assert [t.phone for t in threads] == [REPORTER_E164, "+6285600001111"]
    assert (
        client.post(
            f"/api/v1/wa/threads/{threads[0].id}/close", json={}, headers=headers
        ).status_code
        == 200
    )
    wa.text("tiga")
    threads = wa.threads()
    assert len(threads) == 3
    assert [t.status for t in threads] == ["closed", "open", "open"]
    assert threads[2].phone == REPORTER_E164


def test_a_disallowed_media_type_is_rejected_without_fetching(wa, factory):
    payload = wa_payloads.media(
        REPORTER,
        "Siti",
        "document",
        "MEDIA-EXE",
        "application/x-msdownload",
        filename="hadiah.exe",
        phone_number_id=PHONE_ID,
    )
    assert wa.post(payload).status_code == 200
    (message,) = wa.messages()
    assert message.media_status == "rejected"
    assert [e.data["status"] for e in factory.events("wa.media_failed")] == ["rejected"]


def test_a_flood_from_one_number_is_throttled_and_flagged(wa, app, monkeypatch, client, factory):
    monkeypatch.setitem(app.config, "CALLCENTER_WA_FLOOD_PER_MIN", 3)
    headers = factory.headers("dispatcher")
    for i in range(6):
        assert wa.text(f"spam {i}").status_code == 200
    wa.text("orang lain", wa_id="6285600002222")
    messages = wa.messages()
    assert [m.throttled for m in messages] == [False] * 3 + [True] * 3 + [False]
    assert len(messages) == 7  # kept, nothing lost
    assert len(factory.events("wa.message_received")) == 4
    assert len(factory.events("wa.thread_flooded")) == 1
    listed = client.get("/api/v1/wa/threads", headers=headers).get_json()
    flags = {t["phone"]: t["flags"]["flood"] for t in listed}
    assert flags == {REPORTER_E164: True, "+6285600002222": False}


def test_deliveries_for_another_business_number_are_skipped(wa, factory):
    payload = wa_payloads.text(REPORTER, "Siti", "salah nomor", phone_number_id="999999")
    assert wa.post(payload).status_code == 200
    assert _count(factory, WaMessage) == 0


def test_status_reports_move_an_outgoing_message_forward_only(wa, client, factory, app):
    from callcenter.services.whatsapp import outbox

    wa.standin.report_statuses = False
    headers = factory.headers("dispatcher")
    wa.text("halo")
    (thread,) = wa.threads()
    sent = client.post(
        f"/api/v1/wa/threads/{thread.id}/messages",
        json={"text": "Laporan diterima."},
        headers=headers,
    )
    assert sent.status_code == 202
    assert factory.run(outbox.send, sent.get_json()["id"]) == "accepted"
    (out,) = wa.messages(direction="out")
    assert out.status == "accepted" and out.wa_message_id

    wa.status(out.wa_message_id, "sent")
    wa.status(out.wa_message_id, "read")
    wa.status(out.wa_message_id, "delivered")  # late: it stays read
    wa.status(out.wa_message_id, "read")  # a redelivery
    (out,) = wa.messages(direction="out")
    assert out.status == "read"
    assert out.sent_at and out.delivered_at and out.read_at
    assert _count(factory, WaStatus) == 3
    assert [e.data["status"] for e in factory.events("wa.status")] == ["sent", "read"]
    detail = client.get(f"/api/v1/wa/threads/{thread.id}", headers=headers).get_json()
    assert detail["messages"][-1]["status"] == "read"


def test_a_failed_report_is_visible_with_its_reason(wa, client, factory):
    from callcenter.services.whatsapp import outbox

    wa.standin.report_statuses = False
    headers = factory.headers("dispatcher")
    wa.text("halo")
    (thread,) = wa.threads()
    sent = client.post(
        f"/api/v1/wa/threads/{thread.id}/messages",
        json={"quick_reply": "are_you_safe"},
        headers=headers,
    )
    factory.run(outbox.send, sent.get_json()["id"])
    (out,) = wa.messages(direction="out")
    error = {
        "code": 131026,
        "title": "Message undeliverable",
        "error_data": {"details": "Receiver is incapable"},
    }
    wa.status(out.wa_message_id, "failed", error=error)
    message = client.get(f"/api/v1/wa/threads/{thread.id}", headers=headers).get_json()["messages"][
        -1
    ]
    assert message["status"] == "failed"
    assert message["error"] == {
        "code": "131026",
        "message": "Message undeliverable: Receiver is incapable",
    }


def test_a_report_that_overtakes_the_graph_answer_is_applied_later(wa, client, factory, app):
    """WhatsApp may report a message before our send task has stored its id."""
    from callcenter.extensions import db
    from callcenter.services.whatsapp import outbox

    headers = factory.headers("dispatcher")
    wa.text("halo")
    (thread,) = wa.threads()
    sent = client.post(
        f"/api/v1/wa/threads/{thread.id}/messages", json={"text": "Siap"}, headers=headers
    )
    message_id = sent.get_json()["id"]
    wa.status("wamid.EARLY1", "delivered")
    with app.app_context():
        outbox._claim(message_id, outbox.clock.now())
        db.session.commit()
        outbox._accepted(message_id, "wamid.EARLY1", "text")
        db.session.remove()
    (out,) = wa.messages(direction="out")
    assert out.status == "delivered"

    # A report carrying our reference links a message whose answer was lost entirely.
    other = client.post(
        f"/api/v1/wa/threads/{thread.id}/messages", json={"text": "Lagi"}, headers=headers
    )
    other_id = other.get_json()["id"]
    wa.status("wamid.LOST1", "sent", tracker=f"m{other_id}")
    (row,) = wa.messages(id=other_id)
    assert row.wa_message_id == "wamid.LOST1" and row.status == "sent"
