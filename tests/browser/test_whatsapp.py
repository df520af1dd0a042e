# ruff: noqa: F811  (the WhatsApp fixtures are imported by name)
"""The console's WhatsApp pane in headless Chromium, against the live server, the Graph API
stand-in and (for routing and the automatic updates) a real Celery worker, on both stacks:
a reporter's text and pin arrive live, a quick reply reaches the stand-in, "Buat tiket"
makes a ticket from the chat that is routed to the nearest unit, and the reporter hears
"petugas menuju lokasi" when the unit accepts; photos inline, pins on the map, a failed
send in red, the 24-hour window, claims between two dispatchers, and iseng in one key."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from callcenter.models import WaThread
from callcenter.services import clock
from callcenter.services.whatsapp import media, outbox
from tests.browser.conftest import screenshot
from tests.browser.test_console import open_console
from tests.helpers import KEPANJEN, offset
from tests.system.sim import wait_for

# The WhatsApp fixtures (the Graph API stand-in, signed deliveries), used here as there.
from tests.whatsapp.conftest import PHONE_ID, REPORTER, REPORTER_E164, standin, wa  # noqa: F401

pytestmark = pytest.mark.browser

SCREEN = {"width": 1600, "height": 900}
WAIT_MS = 30_000


def open_pane(page):
    page.keyboard.press("F6")
    expect(page.get_by_test_id("wa-pane")).to_be_visible()


def thread_row(page, phone=REPORTER_E164):
    return page.locator(f'[data-testid="wa-thread"][data-phone="{phone}"]')


def test_a_report_by_whatsapp_becomes_a_routed_ticket_and_the_reporter_hears_back(
    new_page, live_server, factory, client, start_worker, wa, app
):
    pin = offset(KEPANJEN, north_m=400, east_m=150)
    near = factory.unit(callsign="KPJ-7", point=offset(pin, north_m=300))
    factory.unit(callsign="FAR-2", point=offset(pin, north_m=8000))
    start_worker(**wa.env)
    page = open_console(new_page, live_server, factory, viewport=SCREEN)
    page.evaluate("window.notReloaded = true")
    open_pane(page)
    expect(page.get_by_test_id("wa-empty")).to_be_visible()

    # The reporter writes and shares a pin: the conversation appears without a reload.
    assert wa.text("Tolong, ada kecelakaan motor di depan pasar").status_code == 200
    assert wa.location(pin[0], pin[1], place="Pasar Kepanjen").status_code == 200
    line = thread_row(page)
    expect(line).to_be_visible()
    expect(line.get_by_test_id("wa-unread")).to_have_text("2")
    expect(line).to_contain_text("Siti Rahayu")
    expect(page.get_by_test_id("wa-badge")).to_have_text("1")

    line.click()
    chat = page.get_by_test_id("wa-chat")
    expect(chat.locator('[data-direction="in"]')).to_have_count(2, timeout=WAIT_MS)
    # The automatic acknowledgement went out by itself, with its delivery status.
    ack = chat.locator('[data-direction="out"]', has_text="sudah kami terima")
    expect(ack).to_have_count(1, timeout=WAIT_MS)
    expect(ack.get_by_test_id("delivery")).to_have_attribute(
        "data-status", re.compile("^(accepted|sent|delivered|read)$"), timeout=WAIT_MS
    )
    expect(chat.get_by_test_id("wa-phone")).to_have_text("0812-3456-7890")
    expect(chat.locator('[data-kind="location"]')).to_contain_text("Pasar Kepanjen")
    # The pin is on the console's map.
    expect(page.locator(".wa-pin.latest")).to_have_count(1)
    # Opening it reads it.
    expect(line.get_by_test_id("wa-unread")).to_have_count(0)

    # A quick reply: the dispatcher claims the thread by answering, the stand-in records it.
    chat.get_by_test_id("wa-quick-received").click()
    expect(chat.get_by_test_id("wa-holder")).to_have_attribute("data-holder", "dispatcher-console")
    wait_for(lambda: "Laporan diterima." in wa.standin.texts_to(REPORTER), timeout=30)
    reply = chat.locator('[data-direction="out"]', has_text="Laporan diterima")
    expect(reply.get_by_test_id("delivery")).to_have_attribute(
        "data-status", re.compile("^(sent|delivered|read)$"), timeout=WAIT_MS
    )

    # "Buat tiket": intake filled from the chat; logging it makes the ticket and links it.
    chat.get_by_test_id("wa-make-ticket").click()
    expect(page.get_by_test_id("intake-from-wa")).to_be_visible()
    expect(page.get_by_test_id("in-channel")).to_have_value("whatsapp")
    expect(page.get_by_test_id("in-phone")).to_have_value(re.compile(r"^0812"))
    expect(page.get_by_test_id("in-name")).to_have_value("Siti Rahayu")
    expect(page.get_by_test_id("in-summary")).to_have_value(re.compile("kecelakaan motor"))
    expect(page.get_by_test_id("in-coords")).to_have_value(re.compile(r"^-8\.12"))
    expect(page.get_by_test_id("in-category")).to_be_focused()
    page.keyboard.type("laka")
    page.keyboard.press("Enter")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("intake-result")).to_contain_text("tercatat", timeout=WAIT_MS)
    screenshot(page, "console-wa-ticket")

    (thread,) = wa.threads()
    assert thread.ticket_id is not None
    ticket = factory.ticket(thread.ticket_id)
    assert ticket.channel == "whatsapp"
    assert ticket.caller_phone == REPORTER_E164 and ticket.caller_name == "Siti Rahayu"
    assert "kecelakaan motor" in ticket.summary
    assert (round(ticket.lat, 6), round(ticket.lon, 6)) == (round(pin[0], 6), round(pin[1], 6))
    expect(chat.get_by_test_id("wa-ticket-link")).to_have_text(ticket.number)

    # The worker routes it to the nearest unit; the unit accepts; the reporter hears it.
    offer = wait_for(lambda: factory.assignments(ticket.id), timeout=30)[0]
    assert offer.unit_id == near
    accepted = client.post(
        f"/api/v1/assignments/{offer.id}/accept", headers=factory.unit_user(near)
    )
    assert accepted.status_code == 200
    wait_for(
        lambda: any("petugas sedang menuju lokasi" in x for x in wa.standin.texts_to(REPORTER)),
        timeout=30,
        message="no en-route update",
    )
    # The automatic update shows in the chat, and the chat in the ticket's timeline.
    expect(chat.locator('[data-direction="out"]', has_text="menuju lokasi")).to_have_count(
        1, timeout=WAIT_MS
    )
    chat.get_by_test_id("wa-ticket-link").click()
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("WhatsApp", timeout=WAIT_MS)
    assert page.evaluate("window.notReloaded") is True
    assert not page.errors


def _fetch_media(factory, wa):
    for message in wa.messages(kind="image"):
        assert factory.run(media.fetch, message.id) == "stored"


def test_photos_inline_pins_on_the_map_and_a_failed_send_in_red(
    new_page, live_server, factory, client, wa, app, monkeypatch
):
    page = open_console(new_page, live_server, factory, viewport=SCREEN)
    open_pane(page)
    wa.text("Ada pencurian, ini fotonya")
    wa.photo(caption="motor saya")
    wa.location(-8.1, 112.6, place="Jl. Panji")
    wa.post(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"phone_number_id": PHONE_ID},
                                "contacts": [{"wa_id": REPORTER, "profile": {"name": "Siti"}}],
                                "messages": [
                                    {
                                        "from": REPORTER,
                                        "id": "wamid.poll1",
                                        "timestamp": str(int(clock.now().timestamp())),
                                        "type": "poll",
                                        "poll": {},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    )
    thread_row(page).click()
    chat = page.get_by_test_id("wa-chat")
    expect(chat.get_by_test_id("wa-message")).to_have_count(4)
    # Unsupported types are shown as such.
    expect(chat.get_by_test_id("wa-unsupported")).to_contain_text("poll")
    # The photo is fetched by the task, then shown inline from our own server.
    expect(chat.get_by_test_id("media-state")).to_be_visible()
    _fetch_media(factory, wa)
    photo = chat.get_by_test_id("wa-photo")
    expect(photo).to_be_visible(timeout=WAIT_MS)
    assert photo.get_attribute("src").startswith("/api/v1/wa/media/")
    loaded = page.wait_for_function(
        "el => el.complete && el.naturalWidth > 0", arg=photo.element_handle()
    )
    assert loaded
    expect(page.locator(".wa-pin")).to_have_count(1)
    chat.get_by_test_id("wa-pin-show").click()
    # Back on the board (F3) the reporter's pin leaves the map; F6 brings both back.
    page.keyboard.press("F3")
    expect(page.get_by_test_id("board")).to_be_visible()
    expect(page.locator(".wa-pin")).to_have_count(0)
    page.keyboard.press("F6")
    expect(page.locator(".wa-pin")).to_have_count(1)

    # A send WhatsApp refuses: the bubble says NOT SENT with the reason.
    wa.standin.fail_next("messages", ("error", 131026, 400))
    chat.get_by_test_id("wa-text").fill("Mohon tunggu, petugas kami hubungi")
    chat.get_by_test_id("wa-text").press("Control+Enter")
    expect(chat.get_by_test_id("wa-text")).to_have_value("")
    (queued,) = wa.messages(direction="out")
    assert factory.run(outbox.send, queued.id) == "failed"
    failed = chat.locator(".bubble.failed")
    expect(failed).to_have_count(1, timeout=WAIT_MS)
    expect(failed.get_by_test_id("delivery")).to_have_attribute("data-status", "failed")
    expect(failed).to_contain_text("131026")
    screenshot(page, "console-wa-photo-pin-failed")

    # After 24 hours of silence free text is refused, and the screen says why beforehand.
    (thread,) = wa.threads()
    wa.update(WaThread, thread.id, last_inbound_at=clock.now() - timedelta(hours=25))
    thread_row(page).click()
    page.evaluate("window.cc110.wa.chat.load()")
    window_line = chat.get_by_test_id("wa-window")
    expect(window_line).to_have_attribute("data-open", "0")
    expect(window_line).to_contain_text("24")
    expect(chat.get_by_test_id("wa-send")).to_be_disabled()
    expect(chat.get_by_test_id("wa-quick-received")).to_be_disabled()
    expect(chat.get_by_test_id("wa-template")).to_be_hidden()  # no template configured
    assert len(wa.messages(direction="out")) == 1

    # With an approved template configured, the screen offers it, and only it.
    monkeypatch.setitem(app.config, "CALLCENTER_WA_TEMPLATE_NAME", "laporan_update")
    page.evaluate("window.cc110.wa.chat.load()")
    template = chat.get_by_test_id("wa-template")
    expect(template).to_be_visible()
    expect(chat.get_by_test_id("wa-send")).to_be_disabled()
    template.check()
    chat.get_by_test_id("wa-text").fill("Petugas sudah menangani laporan Anda")
    chat.get_by_test_id("wa-send").click()
    expect(chat.get_by_test_id("wa-text")).to_have_value("")
    sent = wa.messages(direction="out")[-1]
    assert sent.kind == "template" and sent.text == "Petugas sudah menangani laporan Anda"
    assert not page.errors


def test_two_dispatchers_one_answers_and_iseng_in_one_key_flags_the_number(
    new_page, live_server, factory, client, wa, app
):
    first = open_console(new_page, live_server, factory, username="ani", viewport=SCREEN)
    second = open_console(new_page, live_server, factory, username="budi", viewport=SCREEN)
    for page in (first, second):
        open_pane(page)
    wa.text("halo halo")
    for page in (first, second):
        thread_row(page).click()
    first.get_by_test_id("wa-chat").get_by_test_id("wa-claim").click()
    expect(first.get_by_test_id("wa-holder")).to_have_attribute("data-holder", "ani")
    # The other dispatcher sees who answers, and cannot answer.
    other = second.get_by_test_id("wa-chat")
    expect(other.get_by_test_id("wa-claimed-other")).to_contain_text("ani", timeout=WAIT_MS)
    expect(other.get_by_test_id("wa-send")).to_be_disabled()
    expect(other.get_by_test_id("wa-prank")).to_be_disabled()

    # Alt+I in the pane closes it as iseng; it leaves the list on both screens.
    first.get_by_test_id("wa-chat").get_by_test_id("wa-text").focus()
    first.keyboard.press("Alt+i")
    expect(first.get_by_test_id("wa-message-line")).to_be_visible()
    for page in (first, second):
        expect(thread_row(page)).to_have_count(0, timeout=WAIT_MS)
    (thread,) = wa.threads()
    assert thread.status == "closed" and thread.close_reason == "prank"
    assert factory.ticket(thread.ticket_id).category == "prank"

    # Two more iseng from the same number: the next conversation carries the flag.
    for n in range(2):
        wa.text(f"iseng lagi {n}")
        thread_id = wa.threads()[-1].id
        closed = client.post(
            f"/api/v1/wa/threads/{thread_id}/close",
            json={"prank": True},
            headers=factory.headers("dispatcher", username=f"d{n}"),
        )
        assert closed.status_code == 200
    wa.text("halo lagi")
    expect(thread_row(first).get_by_test_id("wa-row-prank")).to_be_visible(timeout=WAIT_MS)
    thread_row(first).click()
    expect(first.get_by_test_id("wa-prank-flag")).to_be_visible()
    assert not first.errors and not second.errors


def test_a_later_pin_moves_the_ticket_point_in_one_click(
    new_page, live_server, factory, client, wa, app
):
    headers = factory.headers("dispatcher", username="pembuat")
    wa.text("ada tawuran")
    wa.location(-8.13, 112.57, place="Alun-alun")
    thread_id = wa.threads()[0].id
    made = client.post(
        f"/api/v1/wa/threads/{thread_id}/ticket",
        json={"category": "brawl", "priority": 2},
        headers=headers,
    )
    assert made.status_code == 201, made.get_json()
    ticket_id = made.get_json()["ticket"]["id"]
    page = open_console(new_page, live_server, factory, viewport=SCREEN)
    open_pane(page)
    thread_row(page).click()
    wa.location(-8.14, 112.58, place="Stasiun Kepanjen")
    chat = page.get_by_test_id("wa-chat")
    newest = chat.locator('[data-kind="location"]', has_text="Stasiun Kepanjen")
    expect(newest).to_be_visible(timeout=WAIT_MS)
    expect(page.locator(".wa-pin")).to_have_count(2)
    newest.get_by_test_id("wa-pin-use").click()
    expect(chat.get_by_test_id("wa-message-line")).to_contain_text(
        made.get_json()["ticket"]["number"]
    )
    moved = factory.ticket(ticket_id)
    assert (moved.lat, moved.lon) == (-8.14, 112.58)
    assert moved.address == "Stasiun Kepanjen"
    assert not page.errors


def test_a_supervisor_switches_automatic_updates_and_dispatchers_see_it_live(
    new_page, live_server, factory, client, wa, app
):
    supervisor = open_console(
        new_page, live_server, factory, role="supervisor", username="spv", viewport=SCREEN
    )
    dispatcher = open_console(new_page, live_server, factory, username="ani", viewport=SCREEN)
    for page in (supervisor, dispatcher):
        open_pane(page)
    switch = supervisor.get_by_test_id("wa-auto-en_route")
    expect(switch).to_be_checked()
    expect(dispatcher.get_by_test_id("wa-auto-en_route")).to_have_attribute("data-on", "1")
    switch.uncheck()
    expect(dispatcher.get_by_test_id("wa-auto-en_route")).to_have_attribute(
        "data-on", "0", timeout=WAIT_MS
    )
    auto = client.get("/api/v1/wa/settings", headers=factory.headers("dispatcher")).get_json()
    assert auto["auto"] == {"ack": True, "en_route": False, "closed": True}
    (event,) = factory.events("wa.settings_changed")
    assert event.data["changes"] == {"en_route": [True, False]}
    # The switch stays as set after a reload.
    supervisor.reload()
    open_pane(supervisor)
    expect(supervisor.get_by_test_id("wa-auto-en_route")).not_to_be_checked()
    assert not supervisor.errors and not dispatcher.errors


def test_a_conversation_is_attached_to_an_open_ticket_like_a_duplicate_call(
    new_page, live_server, factory, client, wa, app
):
    from tests.browser.test_console import created

    ticket = created(client, factory.headers("dispatcher", username="penerima"))
    page = open_console(new_page, live_server, factory, viewport=SCREEN)
    open_pane(page)
    wa.text("Saya juga lihat kecelakaan itu")
    thread_row(page).click()
    chat = page.get_by_test_id("wa-chat")
    chat.get_by_test_id("wa-attach").click()  # nothing chosen: said so, nothing changes
    expect(chat.get_by_test_id("wa-message-line")).to_be_visible()
    assert wa.threads()[0].ticket_id is None
    chat.get_by_test_id("wa-attach-select").select_option(str(ticket["id"]))
    chat.get_by_test_id("wa-attach").click()
    expect(chat.get_by_test_id("wa-ticket-link")).to_have_text(ticket["number"])
    expect(chat.get_by_test_id("wa-make-ticket")).to_be_hidden()
    assert wa.threads()[0].ticket_id == ticket["id"]
    (linked,) = factory.events("wa.thread_linked")
    assert linked.data["mode"] == "attached" and linked.ticket_id == ticket["id"]
    # Later messages are part of the ticket's story.
    wa.text("Korbannya dua orang")
    chat.get_by_test_id("wa-ticket-link").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("Korbannya dua orang", timeout=WAIT_MS)
    assert not page.errors
