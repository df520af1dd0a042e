"""Several units per ticket on the dispatcher console, in headless Chromium against the live
server, on both stacks: units needed at intake, "0/3 -> 3/3" filling live, the units by slot
in the detail with +1, a set number, release, and the server's refusals in words."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from callcenter.services import routing
from tests.browser.conftest import screenshot
from tests.browser.test_console import created, only_ticket, open_console, row
from tests.helpers import KEPANJEN, offset

pytestmark = pytest.mark.browser

SCREEN = {"width": 1600, "height": 900}
WAIT_MS = 30_000


def accept(client, factory, assignment_id, unit_id):
    answer = client.post(
        f"/api/v1/assignments/{assignment_id}/accept", headers=factory.unit_user(unit_id)
    )
    assert answer.status_code == 200, answer.get_json()


def test_three_units_set_at_intake_fill_from_0_of_3_to_3_of_3_without_a_reload(
    new_page, live_server, factory, client, start_worker
):
    units = {
        factory.unit(callsign=f"KPJ-{n}", point=offset(KEPANJEN, north_m=300 * n)): f"KPJ-{n}"
        for n in (1, 2, 3)
    }
    factory.unit(callsign="FAR-1", point=offset(KEPANJEN, north_m=9000))
    start_worker()
    page = open_console(new_page, live_server, factory, viewport=SCREEN)
    page.evaluate("window.notReloaded = true")

    keys = page.keyboard
    page.get_by_test_id("in-category").fill("tawuran")
    keys.press("Enter")
    # The category's default: two units for a brawl; the dispatcher makes it three.
    expect(page.get_by_test_id("in-units")).to_have_value("2")
    expect(page.get_by_test_id("category-chosen")).to_contain_text("2 unit secara bawaan")
    keys.press("Tab")
    expect(page.get_by_test_id("in-units")).to_be_focused()
    keys.type("3")  # replaces the default: the field is selected on focus
    expect(page.get_by_test_id("in-units")).to_have_value("3")
    keys.press("Tab")
    keys.type("Dua kelompok pelajar saling lempar batu")
    page.get_by_test_id("in-coords").fill(f"{KEPANJEN[0]}, {KEPANJEN[1]}")
    page.get_by_test_id("in-coords").press("Control+Enter")
    expect(page.get_by_test_id("intake-result")).to_contain_text("tercatat")
    ticket = only_ticket(factory)
    assert (ticket.category, ticket.units_needed) == ("brawl", 3)

    line = row(page, ticket.number)
    badge = line.get_by_test_id("row-units")
    expect(badge).to_contain_text("0/3 unit")
    expect(badge).to_have_class(re.compile(r"\bshort\b"))
    # The worker offers the three nearest units; the offers show beside the count.
    expect(badge).to_contain_text("3 ditawarkan", timeout=WAIT_MS)
    for callsign in units.values():
        expect(line).to_contain_text(callsign)
    expect(line).not_to_contain_text("FAR-1")
    screenshot(page, "console-units-0-of-3")

    offers = factory.assignments(ticket.id)
    assert sorted(a.unit_id for a in offers) == sorted(units)
    for done, offer in enumerate(offers, start=1):
        accept(client, factory, offer.id, offer.unit_id)
        expect(badge).to_contain_text(f"{done}/3 unit")
    expect(badge).to_have_class(re.compile(r"\bfull\b"))
    expect(badge).not_to_contain_text("ditawarkan")
    expect(line).to_have_attribute("data-status", "acknowledged")
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "console-units-3-of-3")

    # The detail lists the three by slot, each with its own step.
    line.click()
    crew = page.get_by_test_id("crew")
    expect(crew.get_by_test_id("crew-member")).to_have_count(3)
    for callsign in units.values():
        expect(crew.locator(f'[data-callsign="{callsign}"]')).to_have_attribute(
            "data-step", "accepted"
        )
    expect(page.get_by_test_id("crew-count")).to_have_text("3/3 unit")
    screenshot(page, "console-detail-three-units")
    assert not page.errors


def test_the_detail_raises_sets_and_releases_units_and_says_why_it_cannot(
    new_page, live_server, factory, client
):
    headers = factory.headers("dispatcher")
    first = factory.unit(callsign="SGS-1", point=offset(KEPANJEN, north_m=300))
    second = factory.unit(callsign="SGS-2", point=offset(KEPANJEN, north_m=700))
    ticket = created(client, headers, category="theft", summary="Dompet dicopet")
    assert factory.run(routing.route_ticket, ticket["id"]) == "offered"
    [offer] = factory.assignments(ticket["id"])
    accept(client, factory, offer.id, first)

    page = open_console(new_page, live_server, factory, viewport=SCREEN)
    line = row(page, ticket["number"])
    expect(line.get_by_test_id("row-units")).to_contain_text("1/1 unit")
    line.click()
    detail = page.get_by_test_id("detail")
    crew = detail.get_by_test_id("crew")
    expect(crew.locator('[data-callsign="SGS-1"]')).to_contain_text("diterima")

    # "+1 unit": the new slot is offered at once to the next nearest unit.
    detail.get_by_test_id("add-unit").click()
    expect(detail.get_by_test_id("detail-message")).to_have_text("Tiket kini butuh 2 unit.")
    expect(crew.locator('[data-callsign="SGS-2"]')).to_have_attribute("data-step", "offered")
    expect(line.get_by_test_id("row-units")).to_contain_text("1/2 unit · 1 ditawarkan")
    assert factory.ticket(ticket["id"]).units_needed == 2
    second_offer = factory.assignments(ticket["id"])[-1]
    assert second_offer.unit_id == second
    accept(client, factory, second_offer.id, second)
    expect(line.get_by_test_id("row-units")).to_contain_text("2/2 unit")

    # Fewer units than have accepted: refused with their callsigns, nothing changes.
    needed = detail.get_by_test_id("units-needed")
    needed.fill("1")
    needed.press("Enter")
    error = detail.get_by_test_id("crew-error")
    expect(error).to_contain_text("SGS-1")
    expect(error).to_contain_text("SGS-2")
    expect(error).to_contain_text("sudah menerima")
    assert factory.ticket(ticket["id"]).units_needed == 2
    # Out of range: the field's own message.
    needed.fill("11")
    needed.press("Enter")
    expect(error).to_be_visible()
    assert factory.ticket(ticket["id"]).units_needed == 2
    screenshot(page, "console-units-refused")

    # Release SGS-2 without a replacement: the ticket needs one unit fewer.
    crew.locator('[data-callsign="SGS-2"]').get_by_test_id("release-open").click()
    form = detail.get_by_test_id("release-form")
    expect(form).to_contain_text("Lepas SGS-2 dari tiket ini")
    form.get_by_test_id("release-submit").click()  # no reason yet
    expect(form.locator(".field-error")).to_have_text("Wajib diisi.")
    assert factory.assignments(ticket["id"])[-1].status == "accepted"
    form.get_by_test_id("release-reason").fill("Dibutuhkan di pos pengamanan")
    form.get_by_test_id("release-refill").uncheck()
    screenshot(page, "console-release-form")
    form.get_by_test_id("release-submit").click()
    expect(detail.get_by_test_id("detail-message")).to_have_text("SGS-2 dilepas dari tiket.")
    expect(crew.locator('[data-callsign="SGS-2"]')).to_have_count(0)
    expect(line.get_by_test_id("row-units")).to_contain_text("1/1 unit")
    released = factory.assignments(ticket["id"])[-1]
    assert (released.status, released.end_reason) == ("released", "Dibutuhkan di pos pengamanan")
    assert factory.ticket(ticket["id"]).units_needed == 1
    assert factory.unit_row(second).status == "available"
    expect(detail.get_by_test_id("timeline")).to_contain_text("SGS-2 dilepas")

    # The last unit cannot go without a replacement: the server says so, in words.
    crew.locator('[data-callsign="SGS-1"]').get_by_test_id("release-open").click()
    form.get_by_test_id("release-reason").fill("Salah kirim")
    form.get_by_test_id("release-refill").uncheck()
    form.get_by_test_id("release-submit").click()
    expect(detail.get_by_test_id("detail-message")).to_contain_text(
        "Tiket membutuhkan sedikitnya satu unit"
    )
    assert factory.assignments(ticket["id"])[0].status == "accepted"

    # The category is edited like the other details, audited with before and after.
    detail.get_by_test_id("edit-category").select_option("fight")
    detail.get_by_test_id("edit-category").press("Control+Enter")
    expect(detail.get_by_test_id("detail-message")).to_have_text("Perubahan disimpan.")
    expect(detail.get_by_test_id("timeline")).to_contain_text("Kategori: Pencurian → Perkelahian")
    assert factory.ticket(ticket["id"]).category == "fight"
    assert not page.errors
