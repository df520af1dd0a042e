"""The unit's screen on a phone-sized headless Chromium, against the live server and a real
worker: an offer arrives without a reload, one tap accepts it, the job is worked to the end;
positions queued while the connection is down are sent later, in order, once each."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from callcenter.extensions import db
from callcenter.models import Assignment, UnitPosition
from callcenter.services import clock, routing
from tests.browser.conftest import PHONE, screenshot
from tests.helpers import KEPANJEN, PASSWORD, offset, ticket_payload
from tests.sse import Stream

pytestmark = pytest.mark.browser

WAIT_MS = 20_000
SUMMARY = "Dua orang bermotor merampas tas korban, pelaku kabur ke arah Jl. Panji"


# Counts the alert's tones (WebAudio oscillators) and vibrations the page asks for.
ALERT_PROBE = """
window.alerts = { tones: 0, vibrations: 0 };
navigator.vibrate = (pattern) => {
  if (Array.isArray(pattern) ? pattern.length : pattern) window.alerts.vibrations += 1;
  return true;
};
const createOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  window.alerts.tones += 1;
  return createOscillator.call(this);
};
"""


def phone_page(new_page, **kwargs):
    """A phone-sized page that records its script errors in ``page.script_errors``."""
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True, **kwargs)
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    return page


def sign_in(page, base_url: str, username: str) -> None:
    """Sign in with the form; the MDT keeps a stream open, so no wait for network idle."""
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(base_url + "/mdt/")


def test_a_unit_receives_accepts_and_clears_a_job_on_its_phone(
    new_page, live_server, factory, client, start_worker
):
    here = offset(KEPANJEN, 400, 0)
    unit_id = factory.unit(callsign="SGS-1", point=here)
    factory.user("unit", username="sgs-1", unit_id=unit_id)
    dispatcher = factory.headers("dispatcher")
    start_worker()

    # (1) The unit signs in on a phone and lands on its screen, connected and waiting.
    page = phone_page(
        new_page,
        permissions=["geolocation"],
        geolocation={"latitude": here[0], "longitude": here[1], "accuracy": 10},
    )
    page.add_init_script(ALERT_PROBE)
    sign_in(page, live_server, "sgs-1")
    expect(page.get_by_test_id("callsign")).to_have_text("SGS-1")
    expect(page.get_by_test_id("conn-state")).to_have_attribute("data-state", "online")
    expect(page.get_by_test_id("unit-status")).to_have_text("Tersedia")
    expect(page.get_by_test_id("idle")).to_contain_text("Tidak ada tugas")
    expect(page.get_by_test_id("offer")).to_be_hidden()
    page.evaluate("window.notReloaded = true")

    # (2) The dispatcher logs a call through the API; the worker offers it to this unit and
    # the offer appears without a reload.
    ticket = client.post(
        "/api/v1/tickets",
        json=ticket_payload(
            category="violent_robbery", priority=1, units_needed=1, summary=SUMMARY
        ),
        headers=dispatcher,
    ).get_json()
    offer = page.get_by_test_id("offer")
    expect(offer).to_be_visible(timeout=WAIT_MS)
    assert page.evaluate("window.notReloaded") is True
    expect(offer).to_contain_text("Pencurian dengan kekerasan")
    expect(offer).to_contain_text("P1 · nyawa terancam")
    expect(offer).to_contain_text("Pasar Kepanjen")
    expect(offer).to_contain_text(SUMMARY)
    expect(offer).to_contain_text("0,4 km")
    expect(offer).to_contain_text(ticket["number"])
    expect(offer).to_have_attribute("data-alerting", "true")
    page.wait_for_function("() => window.alerts.tones > 0 && window.alerts.vibrations > 0")
    expect(page.get_by_test_id("countdown")).to_have_text(re.compile(r"^0:[0-4]\d$"))
    expect(page.get_by_test_id("unit-status")).to_have_text("Ditugaskan")
    screenshot(page, "mdt-offer")

    # (3) One tap accepts it; the dispatcher's stream shows it.
    mark = factory.events()[-1].id
    page.get_by_test_id("accept").tap()
    job = page.get_by_test_id("job")
    expect(job).to_be_visible()
    expect(offer).to_be_hidden()
    expect(page.get_by_test_id("job-step")).to_have_text("Diterima: belum berangkat")
    [assignment] = factory.assignments(ticket["id"])
    stream = Stream(
        live_server + "/api/v1/events/stream", {**dispatcher, "Last-Event-ID": str(mark)}
    )
    try:
        seen = []
        while not any(m["data"]["type"] == "assignment.accepted" for m in seen):
            message = stream.next()
            if message["event"] is None:
                seen.append(message)
    finally:
        stream.close()
    [accepted] = [m["data"] for m in seen if m["data"]["type"] == "assignment.accepted"]
    assert accepted["unit_id"] == unit_id and accepted["ticket_id"] == ticket["id"]
    assert accepted["data"]["assignment_id"] == assignment.id

    # After accepting: navigation to the scene and a tap to call the caller.
    lat, lon = KEPANJEN
    assert page.get_by_test_id("nav-geo").get_attribute("href").startswith(f"geo:{lat},{lon}")
    assert (
        page.get_by_test_id("nav-map")
        .get_attribute("href")
        .startswith(f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}")
    )
    assert page.get_by_test_id("call-caller").get_attribute("href") == "tel:+62811482000"
    expect(job).to_contain_text("Budi Santoso")

    # (4) En route, on scene, cleared with a resolution and a note.
    page.get_by_test_id("step-en_route").tap()
    expect(page.get_by_test_id("job-step")).to_have_text("Dalam perjalanan ke TKP")
    expect(page.get_by_test_id("unit-status")).to_have_text("Menuju TKP")
    expect(page.get_by_test_id("step-en_route")).to_be_hidden()
    page.get_by_test_id("step-on_scene").tap()
    expect(page.get_by_test_id("job-step")).to_have_text("Tiba di TKP")
    expect(page.get_by_test_id("unit-status")).to_have_text("Tiba di TKP")
    screenshot(page, "mdt-job")
    page.get_by_test_id("step-cleared").tap()
    expect(page.get_by_test_id("clear-form")).to_be_visible()
    page.get_by_test_id("clear-submit").tap()  # no resolution yet: refused on the page
    expect(page.get_by_test_id("message")).to_have_text("Pilih hasil penanganan.")
    page.get_by_test_id("resolution").select_option("secured")
    page.get_by_test_id("note").fill("Dua pelaku diamankan ke Polsek Kepanjen")
    page.get_by_test_id("clear-submit").tap()
    expect(page.get_by_test_id("idle")).to_be_visible()
    expect(job).to_be_hidden()
    expect(page.get_by_test_id("message")).to_have_text("Tugas selesai. Tiket ditutup.")
    expect(page.get_by_test_id("unit-status")).to_have_text("Tersedia")
    first_job = page.get_by_test_id("jobs").locator("li").first
    expect(first_job).to_contain_text(ticket["number"])
    expect(first_job).to_contain_text("Selesai")
    expect(first_job).to_contain_text("WIB")
    closed = factory.ticket(ticket["id"])
    assert (closed.status, closed.resolution) == ("closed", "secured")
    assert closed.resolution_note == "Dua pelaku diamankan ke Polsek Kepanjen"
    assert factory.unit_row(unit_id).status == "available"
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "mdt-cleared")
    assert page.script_errors == []


def offer_now(client, factory, dispatcher, **overrides) -> tuple[dict, int]:
    """Log a call through the API and route it at once (no worker in this test)."""
    ticket = client.post(
        "/api/v1/tickets", json=ticket_payload(**overrides), headers=dispatcher
    ).get_json()
    assert factory.run(routing.route_ticket, ticket["id"]) == "offered"
    return ticket, factory.assignments(ticket["id"])[-1].id


def test_the_page_says_in_words_why_an_offer_is_gone(new_page, live_server, factory, client, app):
    unit_id = factory.unit(callsign="SGS-3", point=offset(KEPANJEN, 200, 0))
    factory.user("unit", username="sgs-3", unit_id=unit_id)
    dispatcher = factory.headers("dispatcher")
    page = phone_page(new_page)
    sign_in(page, live_server, "sgs-3")
    expect(page.get_by_test_id("conn-state")).to_have_attribute("data-state", "online")

    # Decline asks for a reason from the short list.
    _, declined_id = offer_now(client, factory, dispatcher, summary="Ada keributan di warung")
    offer = page.get_by_test_id("offer")
    expect(offer).to_be_visible(timeout=WAIT_MS)
    page.get_by_test_id("decline").tap()
    expect(page.get_by_test_id("decline-form")).to_be_visible()
    expect(page.get_by_test_id("accept")).to_be_hidden()
    screenshot(page, "mdt-decline")
    page.get_by_test_id("decline-reason-too_far").tap()
    expect(offer).to_be_hidden()
    message = page.get_by_test_id("message")
    expect(message).to_have_text("Tawaran ditolak. Pusat komando menawarkan tugas ke unit lain.")
    [declined] = [a for a in factory.assignments() if a.id == declined_id]
    assert (declined.status, declined.decline_reason) == ("declined", "too_far")
    expect(page.get_by_test_id("unit-status")).to_have_text("Tersedia")

    # Accepting after the deadline: the server's 409, in words.
    _, assignment_id = offer_now(client, factory, dispatcher)
    expect(offer).to_be_visible(timeout=WAIT_MS)
    with app.app_context():
        db.session.execute(
            db.update(Assignment)
            .where(Assignment.id == assignment_id)
            .values(deadline_at=clock.now() - timedelta(seconds=1))
        )
        db.session.commit()
        db.session.remove()
    page.get_by_test_id("accept").tap()
    expect(message).to_have_text(
        "Tawaran ini sudah kedaluwarsa. Pusat komando akan menawarkannya ke unit lain."
    )
    expect(offer).to_be_hidden()
    expect(page.get_by_test_id("unit-status")).to_have_text("Tidak tersedia")
    expect(page.get_by_test_id("own-status")).to_contain_text("Tawaran terakhir tidak dijawab")
    screenshot(page, "mdt-expired")
    page.get_by_test_id("status-available").tap()
    expect(page.get_by_test_id("unit-status")).to_have_text("Tersedia")
    assert factory.unit_row(unit_id).status == "available"

    # In English on request; the dispatcher cancels the ticket while it is offered.
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("conn-state")).to_have_attribute("data-state", "online")
    expect(page.get_by_test_id("unit-status")).to_have_text("Available")
    ticket, _ = offer_now(client, factory, dispatcher, category="fight", priority=2)
    expect(offer).to_be_visible(timeout=WAIT_MS)
    expect(offer).to_contain_text("Fight")
    expect(page.get_by_test_id("accept")).to_have_text("Accept")
    cancelled = client.post(
        f"/api/v1/tickets/{ticket['id']}/cancel",
        json={"reason": "Pelapor menyatakan sudah aman"},
        headers=dispatcher,
    )
    assert cancelled.status_code == 200
    expect(offer).to_be_hidden(timeout=WAIT_MS)
    expect(message).to_have_text("The command center cancelled the ticket.")
    expect(page.get_by_test_id("unit-status")).to_have_text("Available")
    assert page.script_errors == []


def test_positions_queued_while_offline_are_sent_in_order_once(
    new_page, live_server, factory, client, app
):
    unit_id = factory.unit(callsign="SGS-2", point=KEPANJEN, age_s=100)
    factory.user("unit", username="sgs-2", unit_id=unit_id)
    page = phone_page(new_page)  # no location permission: the test drives the positions
    sent = []
    page.on(
        "requestfinished",
        lambda request: (
            sent.append(json.loads(request.post_data))
            if request.url.endswith("/units/me/location")
            else None
        ),
    )
    sign_in(page, live_server, "sgs-2")
    expect(page.get_by_test_id("conn-state")).to_have_attribute("data-state", "online")

    page.context.set_offline(True)
    expect(page.get_by_test_id("conn-state")).to_have_attribute("data-state", "offline")
    start = int(clock.now().timestamp() * 1000) - 60_000
    points = [offset(KEPANJEN, 100 * (i + 1), 0) for i in range(4)]
    for i, (lat, lon) in enumerate(points):
        queued = page.evaluate(
            "([lat, lon, t]) => window.mdt.enqueuePosition(lat, lon, 8, t)",
            [lat, lon, start + i * 5_000],
        )
        assert queued is True
    # A fix no newer than the last queued one is not queued again.
    assert (
        page.evaluate(
            "([lat, lon, t]) => window.mdt.enqueuePosition(lat, lon, 8, t)",
            [points[-1][0], points[-1][1], start + 3 * 5_000],
        )
        is False
    )
    gps = page.get_by_test_id("gps-state")
    expect(gps).to_have_attribute("data-waiting", "4")
    expect(gps).to_contain_text("4 menunggu dikirim")
    stored = page.evaluate(
        "(key) => JSON.parse(localStorage.getItem(key))", f"mdt.positions.{unit_id}"
    )
    assert [(p["lat"], p["lon"]) for p in stored] == points
    assert factory.count(UnitPosition) == 0
    screenshot(page, "mdt-offline")

    # An offer made while the phone is offline shows once the connection is back.
    ticket, _ = offer_now(client, factory, factory.headers("dispatcher"))
    expect(page.get_by_test_id("offer")).to_be_hidden()

    page.context.set_offline(False)
    expect(page.get_by_test_id("offer")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_test_id("offer")).to_contain_text(ticket["number"])
    expect(gps).to_have_attribute("data-waiting", "0", timeout=WAIT_MS)
    expect(page.get_by_test_id("conn-state")).to_have_attribute(
        "data-state", "online", timeout=WAIT_MS
    )
    with app.app_context():
        rows = db.session.scalars(
            db.select(UnitPosition).where(UnitPosition.unit_id == unit_id).order_by(UnitPosition.id)
        ).all()
        received = [(r.lat, r.lon, r.applied) for r in rows]
        recorded = [r.recorded_at for r in rows]
        db.session.remove()
    assert received == [(lat, lon, True) for lat, lon in points]
    assert recorded == sorted(recorded)
    # Every report the server answered was sent once: no report reached it twice.
    answered = [body["recorded_at"] for body in sent]
    assert answered == [p["recorded_at"] for p in stored]
    unit = factory.unit_row(unit_id)
    assert (unit.lat, unit.lon) == points[-1]
    assert page.evaluate("() => window.mdt.queue().length") == 0
    assert page.script_errors == []


def test_a_phone_with_a_wrong_clock_counts_down_and_reports_in_server_time(
    new_page, live_server, factory, client, app
):
    unit_id = factory.unit(callsign="SGS-4", point=offset(KEPANJEN, 200, 0), age_s=90)
    factory.user("unit", username="sgs-4", unit_id=unit_id)
    page = phone_page(new_page)
    skew = timedelta(minutes=10)  # the phone's clock runs ten minutes ahead
    page.clock.set_system_time(datetime.now(UTC) + skew)
    sign_in(page, live_server, "sgs-4")
    expect(page.get_by_test_id("conn-state")).to_have_attribute("data-state", "online")
    assert page.evaluate("Date.now()") / 1000 > (datetime.now(UTC) + skew).timestamp() - 30

    _, _ = offer_now(client, factory, factory.headers("dispatcher"))
    expect(page.get_by_test_id("offer")).to_be_visible(timeout=WAIT_MS)
    # Against the phone's own clock the offer would have run out ten minutes ago.
    expect(page.get_by_test_id("countdown")).to_have_text(re.compile(r"^0:[2-4]\d$"))

    # A fix stamped by the phone's clock is sent in server time, so it is not refused.
    before = clock.now()
    lat, lon = offset(KEPANJEN, 250, 0)
    page.evaluate("([lat, lon]) => window.mdt.fix(lat, lon, 6, Date.now())", [lat, lon])
    expect(page.get_by_test_id("gps-state")).to_have_attribute("data-waiting", "0")
    expect(page.get_by_test_id("gps-state")).to_contain_text("terakhir terkirim")
    unit = factory.unit_row(unit_id)
    assert (unit.lat, unit.lon) == (lat, lon)
    assert abs((unit.position_at - before).total_seconds()) < 10
    assert page.script_errors == []
