"""Through a real Celery worker with beat: automatic updates to the reporter as the ticket
moves, each sent exactly once; retries, media fetching and idle threads by the sweep."""

import pytest

from callcenter.extensions import db
from callcenter.models import Event, WaCursor, WaThread
from tests.helpers import KEPANJEN, offset
from tests.system.sim import wait_for
from tests.whatsapp.conftest import REPORTER

pytestmark = pytest.mark.slow


def _reader_caught_up(app) -> bool:
    """The automatic-update reader has passed every event written so far."""
    with app.app_context():
        last = db.session.scalar(db.select(db.func.max(Event.id)))
        cursor = db.session.get(WaCursor, "auto_updates")
        relevant = db.session.scalar(
            db.select(db.func.max(Event.id)).where(
                Event.type.in_(
                    ("wa.thread_opened", "wa.thread_linked", "assignment.accepted", "ticket.closed")
                )
            )
        )
        db.session.remove()
    return last is not None and cursor is not None and cursor.last_event_id >= (relevant or 0)


def test_the_reporter_hears_back_as_the_ticket_moves(wa, client, factory, start_worker, app):
    pin = offset(KEPANJEN, 300, 200)
    unit_id = factory.unit(callsign="KPJ-9", point=offset(KEPANJEN, 500, 0))
    unit_headers = factory.unit_user(unit_id)
    headers = factory.headers("dispatcher")
    start_worker(**wa.env)

    wa.text("Tolong, rumah tetangga dibobol maling", name="Siti Rahayu")
    wa.text("pelakunya dua orang")  # a second message: no second acknowledgement
    wait_for(lambda: wa.standin.texts_to(REPORTER), message="no acknowledgement")
    wa.location(pin[0], pin[1], place="Jl. Kawi 7")
    thread_id = wa.threads()[0].id
    made = client.post(
        f"/api/v1/wa/threads/{thread_id}/ticket",
        json={"category": "burglary", "priority": 2},
        headers=headers,
    )
    assert made.status_code == 201
    number = made.get_json()["ticket"]["number"]
    wait_for(lambda: len(wa.standin.texts_to(REPORTER)) >= 2, message="no ticket number")

    offer = wait_for(lambda: factory.assignments(made.get_json()["ticket"]["id"]))[0]
    assert offer.unit_id == unit_id
    accepted = client.post(f"/api/v1/assignments/{offer.id}/accept", headers=unit_headers)
    assert accepted.status_code == 200
    wait_for(lambda: len(wa.standin.texts_to(REPORTER)) >= 3, message="no en-route update")
    for step in ("en_route", "on_scene"):
        progress = client.post(
            f"/api/v1/assignments/{offer.id}/progress", json={"status": step}, headers=unit_headers
        )
        assert progress.status_code == 200
    cleared = client.post(
        f"/api/v1/assignments/{offer.id}/progress",
        json={"status": "cleared", "resolution": "handled"},
        headers=unit_headers,
    )
    assert cleared.status_code == 200
    wait_for(lambda: len(wa.standin.texts_to(REPORTER)) >= 4, message="no closing update")
    wait_for(lambda: _reader_caught_up(app))

    texts = wa.standin.texts_to(REPORTER)
    assert len(texts) == 4, texts
    ack, ticket_text, en_route, closed = texts
    assert "sudah kami terima" in ack
    assert number in ticket_text
    assert "petugas sedang menuju lokasi" in en_route
    assert "laporan selesai" in closed and number in closed
    auto = sorted(m.auto_kind for m in wa.messages(direction="out"))
    assert auto == ["ack", "closed", "en_route", "ticket"]
    # Delivered and read, as the stand-in reports through the webhook.
    wait_for(lambda: all(m.status == "read" for m in wa.messages(direction="out")))


def test_switched_off_updates_are_not_sent(wa, client, factory, start_worker, app):
    start_worker(**wa.env, CALLCENTER_WA_AUTO_ACK="0")
    wa.text("halo")
    wait_for(lambda: _reader_caught_up(app))
    headers = factory.headers("dispatcher")
    thread_id = wa.threads()[0].id
    client.post(
        f"/api/v1/wa/threads/{thread_id}/messages",
        json={"text": "Ada yang bisa dibantu?"},
        headers=headers,
    )
    wa.standin.wait_for_sent(1)
    assert wa.standin.texts_to(REPORTER) == ["Ada yang bisa dibantu?"]


def test_the_worker_retries_fetches_media_and_closes_idle_threads(
    wa, client, factory, start_worker, app
):
    wa.standin.fail_next("messages", 500, "timeout")
    wa.standin.fail_next("media", 503)
    start_worker(**wa.env, CALLCENTER_WA_AUTO_ACK="0", CALLCENTER_WA_IDLE_CLOSE_H="0.001")
    headers = factory.headers("dispatcher")
    wa.text("halo")
    thread_id = wa.threads()[0].id
    reply = client.post(
        f"/api/v1/wa/threads/{thread_id}/messages",
        json={"text": "Siap, kami bantu"},
        headers=headers,
    ).get_json()
    wait_for(
        lambda: wa.messages(id=reply["id"])[0].status in ("accepted", "sent", "delivered", "read")
    )
    assert wa.messages(id=reply["id"])[0].attempts == 3
    assert [e.data["error"] for e in factory.events("wa.message_retrying")] == ["131000", "timeout"]

    wa.photo(caption="ini fotonya")
    photo = wa.messages(kind="image")[0]
    wait_for(lambda: wa.messages(id=photo.id)[0].media_status == "stored")
    assert client.get(f"/api/v1/wa/media/{photo.id}", headers=headers).status_code == 200

    # Answered, and quiet for longer than CALLCENTER_WA_IDLE_CLOSE_H (3.6 s here).
    client.post(
        f"/api/v1/wa/threads/{thread_id}/messages", json={"text": "Terima kasih"}, headers=headers
    )
    wait_for(lambda: wa.threads()[0].status == "closed", timeout=30)
    assert wa.threads()[0].close_reason == "idle"
    assert factory.events("wa.thread_closed")[0].data["reason"] == "idle"
    assert isinstance(wa.threads()[0], WaThread)
