"""Sending against the Graph API stand-in (retries, timeouts, refusals) and media fetching
(limits, types, storage, serving to staff only). The task bodies run in the test process;
tests/whatsapp/test_worker.py runs them through a real worker."""

from datetime import timedelta

from callcenter.devtools import wa_payloads
from callcenter.models import WaMessage, WaThread
from callcenter.services import clock
from callcenter.services.whatsapp import media, outbox
from tests.system.sim import wait_for
from tests.whatsapp.conftest import REPORTER


def _queued_reply(wa, client, headers, text="Laporan diterima."):
    wa.text("tolong")
    thread_id = wa.threads()[0].id
    response = client.post(
        f"/api/v1/wa/threads/{thread_id}/messages", json={"text": text}, headers=headers
    )
    assert response.status_code == 202
    return response.get_json()["id"]


def _due_now(wa, message_id):
    wa.update(WaMessage, message_id, next_attempt_at=clock.now())


def _deterministic_retries(app, monkeypatch):
    """Retries come only when the test makes them due (a backoff far longer than any test
    step, so "not due yet" cannot turn true under load), and an immediate 5xx answer is
    never mistaken for a timeout however slow the machine: the client waits long enough
    for one (a test that wants a timeout lowers it to ``TIMEOUT_S`` for that one call)."""
    monkeypatch.setitem(app.config, "CALLCENTER_WA_RETRY_BASE_S", 300.0)
    monkeypatch.setitem(app.config, "CALLCENTER_WA_HTTP_TIMEOUT_S", 15.0)
    # These tests run the task body themselves: no ``wa_send`` task is published, so no
    # consumer anywhere can claim the message first (tests/whatsapp/test_worker.py runs
    # the real worker).
    monkeypatch.setattr(outbox, "send_after_commit", lambda message_id: None)


TIMEOUT_S = 1.0  # the client's timeout while a scripted hang is answered


def test_a_reply_is_sent_and_its_delivery_reports_arrive(wa, client, factory, app, monkeypatch):
    _deterministic_retries(app, monkeypatch)
    headers = factory.headers("dispatcher")
    message_id = _queued_reply(wa, client, headers)
    assert factory.run(outbox.send, message_id) == "accepted"
    assert factory.run(outbox.send, message_id) == "skipped"  # a second delivery of the task
    (item,) = wa.standin.sent
    assert item["to"] == REPORTER
    assert item["payload"]["text"] == {"body": "Laporan diterima.", "preview_url": False}
    assert item["payload"]["biz_opaque_callback_data"] == f"m{message_id}"
    # The stand-in reports sent, delivered, read through the real webhook.
    wait_for(lambda: wa.messages(id=message_id)[0].status == "read", timeout=20)
    (sent,) = factory.events("wa.message_sent")
    assert sent.data["message_id"] == message_id


def test_5xx_answers_are_retried_with_backoff_then_sent(wa, client, factory, app, monkeypatch):
    _deterministic_retries(app, monkeypatch)
    headers = factory.headers("dispatcher")
    message_id = _queued_reply(wa, client, headers)
    wa.standin.fail_next("messages", 500, 503)
    assert factory.run(outbox.send, message_id) == "retrying"
    (row,) = wa.messages(id=message_id)
    assert row.status == "retrying" and row.error_code == "131000" and row.attempts == 1
    assert row.next_attempt_at > clock.now()
    first_wait = (row.next_attempt_at - row.status_at).total_seconds()
    assert first_wait >= factory.run(outbox.backoff_s, 1) - 0.01
    assert factory.run(outbox.send, message_id) == "skipped"  # not due yet
    _due_now(wa, message_id)
    assert factory.run(outbox.send, message_id) == "retrying"
    (row,) = wa.messages(id=message_id)
    assert row.error_code == "http_503" or row.error_code == "131000"
    second_wait = (row.next_attempt_at - row.status_at).total_seconds()
    assert second_wait >= factory.run(outbox.backoff_s, 2) - 0.01
    assert factory.run(outbox.backoff_s, 2) == 2 * factory.run(outbox.backoff_s, 1)
    _due_now(wa, message_id)
    assert factory.run(outbox.send, message_id) == "accepted"
    (row,) = wa.messages(id=message_id)
    assert row.attempts == 3 and row.error_code is None
    assert len(wa.standin.sent) == 1
    assert [e.data["attempts"] for e in factory.events("wa.message_retrying")] == [1, 2]
    # The stand-in's delivery reports arrive through the webhook after the answer: wait for
    # them here, or they would land on the next test's message of the same id.
    wait_for(lambda: wa.messages(id=message_id)[0].status == "read", timeout=20)


def test_a_timeout_is_retried_and_after_the_last_attempt_the_failure_is_visible(
    wa, client, factory, app, monkeypatch
):
    monkeypatch.setitem(app.config, "CALLCENTER_WA_SEND_ATTEMPTS", 2)
    _deterministic_retries(app, monkeypatch)
    headers = factory.headers("dispatcher")
    message_id = _queued_reply(wa, client, headers)
    wa.standin.fail_next("messages", "timeout", 502)
    # The stand-in hangs for longer than this: the timeout always happens.
    assert wa.standin.hang_s > TIMEOUT_S
    monkeypatch.setitem(app.config, "CALLCENTER_WA_HTTP_TIMEOUT_S", TIMEOUT_S)
    assert factory.run(outbox.send, message_id) == "retrying"
    (row,) = wa.messages(id=message_id)
    assert row.error_code == "timeout" and row.next_attempt_at > clock.now()
    assert factory.run(outbox.send, message_id) == "skipped"  # not due yet
    # The 502 answers at once; the client waits long enough to hear it, however slow.
    monkeypatch.setitem(app.config, "CALLCENTER_WA_HTTP_TIMEOUT_S", 15.0)
    _due_now(wa, message_id)
    assert factory.run(outbox.send, message_id) == "failed"
    thread_id = wa.threads()[0].id
    shown = client.get(f"/api/v1/wa/threads/{thread_id}", headers=headers).get_json()
    last = shown["messages"][-1]
    assert last["status"] == "failed" and last["attempts"] == 2
    assert last["error"]["code"] == "131000"
    (failed,) = factory.events("wa.message_failed")
    assert failed.data["status"] == "failed"


def test_permanent_graph_errors_fail_at_once(wa, client, factory, app, monkeypatch):
    _deterministic_retries(app, monkeypatch)
    headers = factory.headers("dispatcher")
    message_id = _queued_reply(wa, client, headers)
    wa.standin.fail_next("messages", ("error", 131026, 400))
    assert factory.run(outbox.send, message_id) == "failed"
    row = wa.messages(id=message_id)[0]
    assert row.attempts == 1 and row.error_code == "131026"
    assert "MessageUndeliverable" in row.error_message

    second = client.post(
        f"/api/v1/wa/threads/{row.thread_id}/messages", json={"text": "lagi"}, headers=headers
    ).get_json()["id"]
    monkeypatch.setitem(app.config, "CALLCENTER_WA_ACCESS_TOKEN", "expired-token")
    assert factory.run(outbox.send, second) == "failed"
    assert wa.messages(id=second)[0].error_code == "190"


def test_the_window_closing_before_the_send_refuses_it_visibly(wa, client, factory):
    headers = factory.headers("dispatcher")
    message_id = _queued_reply(wa, client, headers)
    thread_id = wa.threads()[0].id
    wa.update(WaThread, thread_id, last_inbound_at=clock.now() - timedelta(hours=24, seconds=1))
    assert factory.run(outbox.send, message_id) == "refused"
    row = wa.messages(id=message_id)[0]
    assert row.error_code == "outside_window"
    assert wa.standin.sent == []
    # WhatsApp's own refusal (re-engagement, 131047) reads the same way.
    wa.update(WaThread, thread_id, last_inbound_at=clock.now())
    other = client.post(
        f"/api/v1/wa/threads/{thread_id}/messages", json={"text": "x"}, headers=headers
    ).get_json()["id"]
    wa.standin.fail_next("messages", ("error", 131047, 400))
    assert factory.run(outbox.send, other) == "refused"


def test_a_photo_is_fetched_stored_and_served_to_staff_only(wa, client, factory):
    data = wa_payloads.png(40, 30, (10, 120, 200))
    response, _media_id = wa.photo(data, caption="motornya dibawa kabur")
    assert response.status_code == 200
    (message,) = wa.messages()
    assert factory.run(media.fetch, message.id) == "stored"
    assert factory.run(media.fetch, message.id) == "skipped"
    (message,) = wa.messages()
    assert message.media_size == len(data) and message.media_mime == "image/png"
    headers = factory.headers("dispatcher")
    detail = client.get(f"/api/v1/wa/threads/{message.thread_id}", headers=headers).get_json()
    url = detail["messages"][0]["media"]["url"]
    assert url == f"/api/v1/wa/media/{message.id}"
    served = client.get(url, headers=headers)
    assert served.status_code == 200
    assert served.data == data and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    unit_id = factory.unit()
    assert client.get(url, headers=factory.unit_user(unit_id)).status_code == 403
    assert client.get(url).status_code == 401
    (stored,) = factory.events("wa.media_stored")
    assert stored.data["message_id"] == message.id


def test_media_over_the_limit_or_of_a_disallowed_type_is_rejected(
    wa, client, factory, app, monkeypatch
):
    monkeypatch.setitem(app.config, "CALLCENTER_WA_MEDIA_MAX_BYTES", 2000)
    big = wa_payloads.png(200, 200, (1, 2, 3)) + b"\0" * 5000
    wa.photo(big)  # the Graph API says how big it is
    wa.photo(big, declared_size=100)  # ... or lies: the download stops at the limit
    media_id = wa.standin.add_media(b"MZ\x90\x00", "application/x-msdownload")
    wa.post(
        wa_payloads.media(
            REPORTER, "Siti", "document", media_id, "application/pdf", phone_number_id="1100220033"
        )
    )  # the webhook said PDF; the Graph API knows better
    ids = [m.id for m in wa.messages()]
    assert [factory.run(media.fetch, i) for i in ids] == ["rejected"] * 3
    rows = wa.messages()
    assert all(r.media_path is None for r in rows)
    assert "over 2000" in rows[0].error_message and "not allowed" in rows[2].error_message
    import os

    folder = app.config["CALLCENTER_WA_MEDIA_DIR"]
    assert not os.path.exists(folder) or all(
        not name.endswith(".part") for _root, _dirs, names in os.walk(folder) for name in names
    )
    headers = factory.headers("dispatcher")
    shown = client.get(f"/api/v1/wa/threads/{rows[0].thread_id}", headers=headers).get_json()
    assert [m["media"]["status"] for m in shown["messages"]] == ["rejected"] * 3
    assert client.get(f"/api/v1/wa/media/{ids[0]}", headers=headers).status_code == 404


def test_media_fetch_retries_5xx_and_timeouts_then_stores(wa, factory):
    wa.photo()
    (message,) = wa.messages()
    wa.standin.fail_next("media", 500)
    wa.standin.fail_next("download", "timeout")
    assert factory.run(media.fetch, message.id) == "retrying"
    wa.update(WaMessage, message.id, next_attempt_at=clock.now())
    assert factory.run(media.fetch, message.id) == "retrying"
    assert "timeout" in wa.messages()[0].error_message
    wa.update(WaMessage, message.id, next_attempt_at=clock.now())
    assert factory.run(media.fetch, message.id) == "stored"
