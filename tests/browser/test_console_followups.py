"""The console's hand-offs, call-back list and search box (F4), in headless Chromium against
the live server, on both stacks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from callcenter.extensions import db
from callcenter.models import Ticket
from callcenter.services import clock
from tests.browser.conftest import screenshot
from tests.browser.test_console import created, open_console, row

pytestmark = pytest.mark.browser


def test_a_hand_off_waits_under_diserahkan_and_closes_when_acknowledged(
    new_page, live_server, factory, client
):
    page = open_console(new_page, live_server, factory)
    headers = factory.headers("dispatcher")
    ticket = created(
        client,
        headers,
        category="fire_no_crime",
        summary="Gudang kosong terbakar, tidak ada korban",
    )
    group = page.get_by_test_id("group-handed_off")
    expect(group).to_contain_text("Diserahkan")
    expect(group.locator(f'[data-number="{ticket["number"]}"]')).to_have_count(1)

    row(page, ticket["number"]).click()
    detail = page.get_by_test_id("detail")
    handoff = detail.locator('[data-testid="handoff"][data-agency="damkar"]')
    expect(handoff).to_have_attribute("data-status", "pending")
    expect(handoff).to_contain_text("Damkar Kabupaten Malang")
    expect(handoff).to_contain_text("113")
    # The admin enters the station's own number meanwhile: the panel shows it at once.
    changed = client.patch(
        "/api/v1/agencies/damkar", json={"phone": "0341 391113"}, headers=factory.headers("admin")
    )
    assert changed.status_code == 200, changed.get_json()
    expect(handoff.locator("a.phone")).to_have_text("(0341) 391113")
    expect(handoff.locator("a.phone")).to_have_attribute("href", "tel:+62341391113")
    expect(detail.locator('[data-testid="handoff-agency"] option[value="damkar"]')).to_contain_text(
        "(0341) 391113"
    )
    expect(page.get_by_test_id("activity")).to_contain_text(
        "Damkar Kabupaten Malang: nomor atau status layanannya diubah"
    )
    # The acknowledgement needs who answered: refused in words, nothing changes.
    handoff.get_by_test_id("handoff-ack-button").click()
    expect(handoff).to_contain_text("Wajib")
    expect(row(page, ticket["number"])).to_have_count(1)

    handoff.get_by_test_id("handoff-by").fill("Regu 2 Damkar Kepanjen")
    handoff.get_by_test_id("handoff-ref").fill("DMK-0042")
    handoff.get_by_test_id("handoff-ack-button").click()
    expect(row(page, ticket["number"])).to_have_count(0)
    expect(detail).to_have_attribute("data-status", "closed")
    acknowledged = detail.locator('[data-testid="handoff"][data-agency="damkar"]')
    expect(acknowledged.get_by_test_id("handoff-ack")).to_contain_text("Regu 2 Damkar Kepanjen")
    expect(acknowledged.get_by_test_id("handoff-ack")).to_contain_text("DMK-0042")
    expect(detail.get_by_test_id("timeline")).to_contain_text("Damkar")
    screenshot(page, "console-handoff-acknowledged")
    assert page.errors == []


def test_a_silent_call_appears_in_the_call_back_list_late_in_red_then_logged_as_genuine(
    new_page, live_server, factory, app, monkeypatch
):
    monkeypatch.setitem(app.config, "CALLCENTER_CALLBACK_DUE_S", 3)
    page = open_console(new_page, live_server, factory)
    keys = page.keyboard
    expect(page.get_by_test_id("in-phone")).to_be_focused()
    keys.type("0812-3456-7890")
    keys.press("Alt+d")  # silent call
    expect(page.get_by_test_id("intake-result")).to_contain_text("Panggilan diam")

    task = page.locator('[data-testid="callback"][data-phone="+6281234567890"]')
    expect(task).to_have_count(1)
    expect(page.get_by_test_id("callbacks-count")).to_have_text("1")
    expect(task).to_have_class("callback overdue", timeout=10_000)  # red once late, live
    screenshot(page, "console-callback-late")

    task.locator('[data-outcome="genuine"]').click()
    expect(page.get_by_test_id("intake-callback")).to_be_visible()
    expect(page.get_by_test_id("in-phone")).to_have_value("0812-3456-7890")
    page.get_by_test_id("in-category").fill("kdrt")
    keys.press("Enter")
    page.get_by_test_id("in-summary").fill("Korban KDRT tidak bisa bicara tadi")
    page.get_by_test_id("in-coords").fill("-8.1306, 112.5722")
    keys.press("Control+Enter")
    expect(page.get_by_test_id("intake-result")).to_contain_text("110-")
    expect(task).to_have_count(0)
    expect(page.get_by_test_id("callbacks-count")).to_have_text("0")
    page.get_by_test_id("result-link").click()
    expect(page.get_by_test_id("detail-callback")).to_contain_text("dicatat dari panggilan balik")

    def linked():
        rows = list(db.session.scalars(db.select(Ticket).order_by(Ticket.id)))
        from callcenter.models import Callback

        callback = db.session.scalars(db.select(Callback)).one()
        return callback.close_reason, callback.result_ticket_id, rows[-1].id

    reason, result, newest = factory.run(linked)
    assert reason == "genuine" and result == newest
    assert page.errors == []


def test_f4_finds_yesterdays_closed_ticket_by_a_phone_typed_with_spaces(
    new_page, live_server, factory, client
):
    headers = factory.headers("dispatcher")
    other = created(client, headers, caller={"name": "Ani", "phone": "0812-3456-7890"})
    old = created(
        client,
        headers,
        caller={"name": "Sri", "phone": "+62 811-482-000"},
        summary="Motor hilang di parkiran pasar",
    )
    closed = client.post(
        f"/api/v1/tickets/{old['id']}/close", json={"resolution": "handled"}, headers=headers
    )
    assert closed.status_code == 200

    def yesterday():
        ticket = db.session.get(Ticket, old["id"])
        ticket.created_at = clock.now() - timedelta(days=1)
        ticket.closed_at = ticket.created_at + timedelta(hours=1)
        db.session.commit()

    factory.run(yesterday)
    page = open_console(new_page, live_server, factory)
    expect(row(page, old["number"])).to_have_count(0)  # not on the board: it is closed
    expect(row(page, other["number"])).to_have_count(1)

    page.keyboard.press("F4")
    expect(page.get_by_test_id("search-q")).to_be_focused()
    page.keyboard.type("0811 48 2000")
    page.keyboard.press("Enter")
    results = page.get_by_test_id("search-result")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text(old["number"])
    expect(results.first).to_contain_text("Selesai")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    detail = page.get_by_test_id("detail")
    expect(detail.locator("#detail-title")).to_have_text(old["number"])
    expect(detail).to_have_attribute("data-status", "closed")
    expect(detail).to_contain_text("Motor hilang di parkiran pasar")
    screenshot(page, "console-search-found")
    assert page.errors == []
