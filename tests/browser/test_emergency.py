"""The officer in danger, end to end in headless Chromium on both stacks: the emergency button
on a 360 px phone (a short press does nothing, a held one sends), the alarm on every console
with the unit on the map and a repeating tone until a dispatcher acknowledges it, and the
officer ending it after a confirmation; a press without an answer is sent again until the
server has it, across a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from callcenter.models import Emergency, Ticket
from tests.browser.conftest import screenshot
from tests.browser.test_console import open_console, row
from tests.browser.test_console_incidents import SCREEN
from tests.browser.test_mdt_incidents import unit_phone
from tests.helpers import KEPANJEN, offset

pytestmark = pytest.mark.browser

WAIT_MS = 20_000

# Counts the tones the console plays (Web Audio oscillators).
TONE_PROBE = """
window.alerts = { tones: 0 };
const createOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  window.alerts.tones += 1;
  return createOscillator.call(this);
};
"""

# The browser's autoplay rule, as a desktop Chrome applies it: audio stays suspended until a
# resume() called while the person interacts with this page (headless allows it at once).
AUTOPLAY_RULE = """
(() => {
  const state = Object.getOwnPropertyDescriptor(BaseAudioContext.prototype, "state");
  let allowed = false;
  let gestureAt = -Infinity;
  for (const type of ["pointerdown", "keydown"]) {
    window.addEventListener(type, (e) => { if (e.isTrusted) gestureAt = performance.now(); }, true);
  }
  Object.defineProperty(BaseAudioContext.prototype, "state", {
    configurable: true,
    get() { return allowed ? state.get.call(this) : "suspended"; },
  });
  const resume = AudioContext.prototype.resume;
  AudioContext.prototype.resume = function () {
    if (performance.now() - gestureAt < 1000) allowed = true;
    return resume.call(this);
  };
})();
"""


def emergencies(factory) -> list[Emergency]:
    from callcenter.extensions import db

    def rows():
        found = list(db.session.scalars(db.select(Emergency)))
        db.session.expunge_all()
        return found

    return factory.run(rows)


def test_the_officer_holds_the_button_and_every_console_shows_the_alarm_until_acknowledged(
    new_page, live_server, factory, client
):
    here = offset(KEPANJEN, north_m=4000, east_m=3000)
    officer = factory.unit(callsign="KPJ-7", point=here)
    second = factory.unit(callsign="KPJ-9", point=offset(KEPANJEN, east_m=-5000))
    for n in (1, 2, 3):
        factory.unit(callsign=f"RSP-{n}", point=offset(here, north_m=500 * n))
    sari = open_console(new_page, live_server, factory, username="sari", viewport=SCREEN)
    sari.add_init_script(TONE_PROBE)
    sari.reload()
    expect(sari.locator("body.console-ready")).to_have_count(1)
    expect(sari.get_by_test_id("alarms")).to_be_hidden()

    phone = unit_phone(new_page, live_server, factory, officer, "kpj-7", here)
    pressed = []
    phone.on("request", lambda r: pressed.append(r.url) if "/units/me/emergency" in r.url else None)
    # Off duty: the button works in every state of the screen.
    phone.get_by_test_id("status-off_duty").tap()
    expect(phone.get_by_test_id("unit-status")).to_have_text("Lepas dinas")
    button = phone.get_by_test_id("panic")
    expect(button).to_be_visible()
    expect(button).to_contain_text("tekan dan tahan 2 detik")
    box = button.bounding_box()
    phone.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    # A short press: the button fills a little, then empties; nothing is sent.
    phone.mouse.down()
    expect(button).to_have_attribute("data-state", "holding")
    phone.mouse.up()
    expect(button).to_have_attribute("data-state", "idle")
    expect(button).to_have_attribute("data-progress", "0")
    assert phone.evaluate("window.mdt.panic()") == {
        "holding": False,
        "sending": False,
        "attempts": 0,
        "waiting": None,
    }
    expect(phone.get_by_test_id("emergency")).to_be_hidden()
    assert pressed == [] and emergencies(factory) == []

    # Held for 2 s: the progress fills, and the signal goes with the phone's position.
    phone.mouse.down()
    phone.wait_for_function(
        "() => Number(document.querySelector('[data-testid=panic]').dataset.progress) >= 50"
    )
    card = phone.get_by_test_id("emergency")
    expect(card).to_have_attribute("data-state", "raised", timeout=WAIT_MS)
    phone.mouse.up()
    expect(card).to_contain_text("DARURAT AKTIF")
    expect(card).to_contain_text("Pusat komando sudah diberi tahu")

    # The console's alarm, within 2 s of the server having it: callsign, position and its age.
    alarm = sari.locator('[data-testid="alarm"][data-callsign="KPJ-7"]')
    expect(alarm).to_be_visible(timeout=2_000)
    expect(alarm).to_contain_text("Petugas dalam bahaya")
    expect(alarm.get_by_test_id("alarm-position")).to_contain_text(re.compile(r"\d:\d\d lalu"))
    [emergency] = emergencies(factory)
    ticket = factory.ticket(emergency.ticket_id)
    assert (ticket.priority, ticket.channel, ticket.category) == (
        1,
        "panic_button",
        "officer_emergency",
    )
    assert (round(ticket.lat, 5), round(ticket.lon, 5)) == (round(here[0], 5), round(here[1], 5))
    assert factory.unit_row(officer).status == "off_duty"
    # On the map: a ring at the officer, the unit's marker marked, the map brought there.
    expect(sari.locator(".leaflet-marker-icon.alarm-ring")).to_have_count(1)
    expect(sari.locator(".leaflet-marker-icon.unit-icon.in-danger")).to_contain_text("KPJ-7")
    sari.wait_for_function(
        "([lat, lon]) => { const c = cc110.map.map.getCenter();"
        " return Math.abs(c.lat - lat) < 0.002 && Math.abs(c.lng - lon) < 0.002; }",
        arg=list(here),
    )
    sari.wait_for_function("() => window.alerts.tones > 0")  # the repeating tone
    expect(sari.get_by_test_id("alarm-sound")).to_be_hidden()
    expect(row(sari, ticket.number).get_by_test_id("flag-alarm")).to_be_visible()
    screenshot(phone, "mdt-emergency")

    # A second officer in danger: the alarms stack, oldest first, each with its ring.
    pressed_too = client.post(
        "/api/v1/units/me/emergency", json={}, headers=factory.unit_user(second)
    )
    assert pressed_too.status_code == 201, pressed_too.get_json()
    alarms = sari.get_by_test_id("alarm")
    expect(alarms).to_have_count(2)
    expect(alarms.nth(0)).to_have_attribute("data-callsign", "KPJ-7")
    expect(alarms.nth(1)).to_have_attribute("data-callsign", "KPJ-9")
    expect(sari.locator(".leaflet-marker-icon.alarm-ring")).to_have_count(2)
    screenshot(sari, "console-alarm")
    acked = client.post(
        f"/api/v1/tickets/{pressed_too.get_json()['id']}/alarm/ack",
        headers=factory.headers("dispatcher"),
    )
    assert acked.status_code == 200, acked.get_json()
    expect(alarms).to_have_count(1)  # acknowledged elsewhere: gone here too
    expect(alarm).to_be_visible()

    # It stays: a reload shows it at once, from the open tickets.
    sari.reload()
    expect(sari.locator("body.console-ready")).to_have_count(1)
    expect(alarm).to_be_visible()
    sari.wait_for_function("() => window.alerts.tones > 0")

    # A second console, where the browser still blocks sound: it says so, and a click fixes it.
    budi = open_console(new_page, live_server, factory, role="supervisor", username="budi")
    budi.add_init_script(TONE_PROBE + AUTOPLAY_RULE)
    budi.reload()
    expect(budi.locator("body.console-ready")).to_have_count(1)
    other = budi.locator('[data-testid="alarm"][data-callsign="KPJ-7"]')
    expect(other).to_be_visible()
    sound = budi.get_by_test_id("alarm-sound")
    expect(sound).to_be_visible()
    expect(sound).to_contain_text("klik di sini untuk menyalakannya")
    assert budi.evaluate("window.alerts.tones") == 0
    screenshot(budi, "console-alarm-sound-blocked")
    sound.click()
    expect(sound).to_be_hidden()
    budi.wait_for_function("() => window.alerts.tones > 0")

    # Acknowledged on the first console: gone from both, and the officer is told.
    alarm.get_by_test_id("alarm-ack").click()
    expect(alarm).to_be_hidden()
    expect(sari.get_by_test_id("alarms")).to_be_hidden()
    expect(other).to_be_hidden()
    expect(budi.get_by_test_id("alarms")).to_be_hidden()
    expect(card).to_have_attribute("data-state", "acknowledged", timeout=WAIT_MS)
    expect(card).to_contain_text("Pusat komando menanggapinya pukul")
    assert sari.evaluate("cc110.alarms.tone.sounding") is False
    acknowledged = [e for e in factory.events("emergency.acknowledged") if e.ticket_id == ticket.id]
    assert len(acknowledged) == 1 and acknowledged[0].actor_id is not None
    # The ticket stays open (units are on their way) and the detail names who acknowledged it.
    row(sari, ticket.number).click()
    expect(sari.get_by_test_id("detail-emergency")).to_contain_text("ditanggapi oleh sari")

    # The officer ends it, after a confirmation step.
    phone.get_by_test_id("emergency-end-open").tap()
    end = phone.get_by_test_id("emergency-end-form")
    expect(end).to_be_visible()
    end.locator('[data-end-reason="Situasi sudah aman"]').tap()
    screenshot(phone, "mdt-emergency-end")
    phone.get_by_test_id("emergency-end-confirm").tap()
    expect(card).to_be_hidden()
    expect(phone.get_by_test_id("message")).to_have_text("Keadaan darurat sudah diakhiri.")
    expect(row(sari, ticket.number)).to_have_count(0)
    closed = factory.ticket(ticket.id)
    assert (closed.status, closed.resolution_note) == ("closed", "Situasi sudah aman")
    assert not sari.errors and not budi.errors
    assert phone.script_errors == []


def test_a_press_without_an_answer_is_sent_again_until_the_server_has_it(
    new_page, live_server, factory, client
):
    here = offset(KEPANJEN, east_m=-2500)
    officer = factory.unit(callsign="KPJ-8", point=here)
    factory.unit(callsign="RSP-1", point=offset(here, north_m=400))
    phone = unit_phone(new_page, live_server, factory, officer, "kpj-8", here)
    expect(phone.get_by_test_id("idle")).to_be_visible()
    phone.route("**/api/v1/units/me/emergency", lambda route: route.abort())  # no answer

    # Held with the keyboard: Space down for 2 s.
    button = phone.get_by_test_id("panic")
    button.focus()
    phone.keyboard.down("Space")
    card = phone.get_by_test_id("emergency")
    expect(card).to_be_visible(timeout=WAIT_MS)
    phone.keyboard.up("Space")
    expect(card).to_have_attribute("data-state", "retrying", timeout=WAIT_MS)
    expect(card).to_contain_text("Belum terkirim")
    assert factory.count(Emergency) == 0
    screenshot(phone, "mdt-emergency-retrying")

    # The press outlives a reload and is still sent again.
    phone.reload()
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-state", "retrying", timeout=WAIT_MS)
    assert factory.count(Emergency) == 0

    phone.unroute("**/api/v1/units/me/emergency")
    expect(card).to_have_attribute("data-state", "raised", timeout=WAIT_MS)
    assert factory.count(Emergency) == 1 and factory.count(Ticket) == 1
    assert phone.evaluate("window.mdt.panic().waiting") is None

    # The command center closes it: the card goes, and the officer is told.
    [emergency] = emergencies(factory)
    cancelled = client.post(
        f"/api/v1/tickets/{emergency.ticket_id}/cancel",
        json={"reason": "Petugas sudah aman, dikonfirmasi lewat radio"},
        headers=factory.headers("dispatcher"),
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    expect(card).to_be_hidden(timeout=WAIT_MS)
    expect(phone.get_by_test_id("message")).to_have_text(
        "Pusat komando menutup keadaan darurat Anda."
    )
    assert phone.script_errors == []
