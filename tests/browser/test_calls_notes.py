"""Calls and notes on screen, on both stacks: a second call about the same incident is
attached from the intake warning (nothing dispatched) and a wrong one split off again from
the detail; a note typed on the unit's phone shows on the console's detail within 2 s, and
the dispatcher's note on the phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from callcenter.extensions import db
from callcenter.models import Call, Ticket
from callcenter.services import routing
from tests.browser.conftest import screenshot
from tests.browser.test_console import created, open_console, row
from tests.browser.test_console_incidents import SCREEN
from tests.browser.test_mdt_incidents import unit_phone
from tests.helpers import KEPANJEN, offset

pytestmark = pytest.mark.browser

# What the console's detail must show, at most this long after the officer sent a note.
LIVE_MS = 2_000


def calls_of(factory, ticket_id) -> list[Call]:
    with factory.app.app_context():
        rows = list(
            db.session.scalars(db.select(Call).where(Call.ticket_id == ticket_id).order_by(Call.id))
        )
        db.session.expunge_all()
        db.session.remove()
        return rows


def test_a_second_call_is_attached_from_the_duplicate_warning_and_split_off_again(
    new_page, live_server, factory, client
):
    unit = factory.unit(callsign="KPJ-1", point=offset(KEPANJEN, north_m=300))
    first = created(client, factory.headers("dispatcher"), category="theft")
    assert factory.run(routing.route_ticket, first["id"]) == "offered"
    offers = len(factory.assignments())
    page = open_console(new_page, live_server, factory, viewport=SCREEN)
    expect(row(page, first["number"])).to_be_visible()

    # The second caller: the same theft, 120 m away. The warning comes before anything is sent.
    page.get_by_test_id("in-phone").fill("0812 3456 7890")
    page.get_by_test_id("in-name").fill("Siti Aminah")
    page.get_by_test_id("in-category").fill("Pencurian")
    page.get_by_test_id("in-category").press("Enter")
    page.get_by_test_id("in-summary").fill("Saya lihat pencopetnya lari ke timur")
    near = offset(KEPANJEN, north_m=120)
    page.get_by_test_id("in-coords").fill(f"{near[0]:.6f}, {near[1]:.6f}")
    warning = page.get_by_test_id("intake-duplicate")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(first["number"])
    attach = warning.get_by_test_id("attach-duplicate")
    expect(attach).to_have_text(f"Gabungkan ke {first['number']}")
    screenshot(page, "console-attach-warning")
    attach.click()

    result = page.get_by_test_id("intake-result")
    expect(result).to_contain_text(f"Panggilan digabungkan ke {first['number']}")
    expect(page.get_by_test_id("in-phone")).to_have_value("")
    expect(warning).to_be_hidden()
    assert factory.count(Ticket) == 1 and len(factory.assignments()) == offers
    attached = calls_of(factory, first["id"])
    assert [c.caller_name for c in attached] == ["Budi Santoso", "Siti Aminah"]
    assert attached[1].caller_phone == "+6281234567890"
    assert attached[1].text == "Saya lihat pencopetnya lari ke timur"

    # The detail lists both calls; the timeline says the call was attached.
    row(page, first["number"]).click()
    detail = page.get_by_test_id("detail")
    calls = detail.get_by_test_id("call")
    expect(calls).to_have_count(2)
    expect(calls.nth(1)).to_contain_text("Siti Aminah")
    expect(calls.nth(1)).to_contain_text("pencopetnya lari")
    expect(calls.nth(0).get_by_test_id("split-call")).to_have_count(0)  # it opened the ticket
    expect(detail.get_by_test_id("timeline")).to_contain_text(
        "panggilan dari Siti Aminah digabungkan"
    )
    screenshot(page, "console-detail-calls")

    # It was another theft after all: split off, it becomes a ticket of its own.
    calls.nth(1).get_by_test_id("split-call").click()
    expect(page.locator("#confirm-message")).to_contain_text("Siti Aminah")
    page.get_by_test_id("confirm-yes").click()
    expect(detail.get_by_test_id("detail-message")).to_contain_text("sekarang tiket 110-")
    expect(detail.locator("#detail-title")).not_to_have_text(first["number"])
    assert factory.count(Ticket) == 2
    new = max(factory.assignments(), key=lambda a: a.id)
    split_ticket = [t for t in (factory.ticket(i) for i in (1, 2, 3)) if t and t.id != first["id"]]
    assert split_ticket[0].caller_name == "Siti Aminah"
    assert calls_of(factory, split_ticket[0].id)[0].id == attached[1].id
    expect(detail.locator("#detail-title")).to_have_text(split_ticket[0].number)
    assert new.unit_id == unit  # the one unit is still on the first ticket
    assert not page.errors


def test_a_note_from_the_unit_screen_shows_on_the_console_within_2_s(
    new_page, live_server, factory, client
):
    here = offset(KEPANJEN, north_m=200)
    unit = factory.unit(callsign="SGS-1", point=here)
    dispatcher = factory.headers("dispatcher")
    ticket = created(client, dispatcher, category="theft", summary="Copet di pasar")
    assert factory.run(routing.route_ticket, ticket["id"]) == "offered"

    phone = unit_phone(new_page, live_server, factory, unit, "sgs-1", here)
    expect(phone.get_by_test_id("offer")).to_be_visible(timeout=20_000)
    phone.get_by_test_id("accept").tap()
    job = phone.get_by_test_id("job")
    expect(job).to_be_visible()
    expect(job.get_by_test_id("job-notes")).to_contain_text("Belum ada catatan.")

    console = open_console(new_page, live_server, factory, viewport=SCREEN)
    row(console, ticket["number"]).click()
    detail = console.get_by_test_id("detail")
    expect(detail.locator("#detail-title")).to_have_text(ticket["number"])
    notes = detail.get_by_test_id("notes")
    expect(notes).to_contain_text("Belum ada catatan.")

    # A quick phrase is sent with one tap.
    job.get_by_test_id("note-phrase-3").tap()
    expect(notes.get_by_test_id("note")).to_contain_text(["butuh ambulans"], timeout=LIVE_MS)
    expect(notes.get_by_test_id("note").first).to_contain_text("SGS-1")

    # "pelaku kabur ke arah …" is finished in the officer's own words.
    job.get_by_test_id("note-phrase-1").tap()
    box = job.get_by_test_id("job-note-text")
    expect(box).to_have_value("pelaku kabur ke arah ")
    box.type("utara, motor merah")
    job.get_by_test_id("job-note-send").tap()
    expect(notes.get_by_test_id("note").nth(1)).to_contain_text(
        "pelaku kabur ke arah utara, motor merah", timeout=LIVE_MS
    )
    expect(box).to_have_value("")
    screenshot(console, "console-detail-notes")

    # The dispatcher's note reaches the phone, live.
    console.get_by_test_id("note-text").fill("Korban menunggu di pos satpam pasar")
    console.get_by_test_id("note-text").press("Control+Enter")
    expect(job.get_by_test_id("job-note").nth(2)).to_contain_text(
        "Korban menunggu di pos satpam pasar"
    )
    expect(job.get_by_test_id("job-note").nth(2)).to_contain_text("Pusat komando")
    screenshot(phone, "mdt-job-notes")
    # The timeline keeps each note with who wrote it.
    expect(detail.get_by_test_id("timeline")).to_contain_text("catatan: butuh ambulans")

    # An empty note is refused in words and nothing is stored.
    console.get_by_test_id("note-form").get_by_role("button").click()
    expect(console.get_by_test_id("note-form")).to_contain_text("Tulis catatannya.")
    assert (
        len(client.get(f"/api/v1/tickets/{ticket['id']}", headers=dispatcher).get_json()["notes"])
        == 3
    )
    assert not console.errors and not phone.script_errors
