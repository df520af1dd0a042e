"""The unit's screen and the console together, on a 360 px phone and a 1600x900 console, on
both stacks: backup requested from the unit screen shows red on the console and brings another
unit; the unit's step follows its own progress on a ticket with several units; a unit logs an
incident found on patrol and it appears on the console at once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from callcenter.services import routing
from tests.browser.conftest import screenshot
from tests.browser.test_console import created, open_console, row
from tests.browser.test_console_incidents import SCREEN, accept
from tests.browser.test_mdt import phone_page
from tests.browser.test_mdt import sign_in as mdt_sign_in
from tests.helpers import KEPANJEN, offset

pytestmark = pytest.mark.browser

WAIT_MS = 20_000


def unit_phone(new_page, live_server, factory, unit_id, username, point):
    factory.user("unit", username=username, unit_id=unit_id)
    page = phone_page(
        new_page,
        permissions=["geolocation"],
        geolocation={"latitude": point[0], "longitude": point[1], "accuracy": 8},
    )
    mdt_sign_in(page, live_server, username)
    expect(page.get_by_test_id("conn-state")).to_have_attribute("data-state", "online")
    return page


def progress(client, factory, assignment_id, unit_id, status):
    answer = client.post(
        f"/api/v1/assignments/{assignment_id}/progress",
        json={"status": status},
        headers=factory.unit_user(unit_id),
    )
    assert answer.status_code == 200, answer.get_json()


def test_backup_from_the_unit_screen_shows_red_on_the_console_and_brings_another_unit(
    new_page, live_server, factory, client
):
    here = offset(KEPANJEN, north_m=200)
    first = factory.unit(callsign="SGS-1", point=here)
    second = factory.unit(callsign="SGS-2", point=offset(KEPANJEN, north_m=600))
    third = factory.unit(callsign="SGS-3", point=offset(KEPANJEN, north_m=1000))
    dispatcher = factory.headers("dispatcher")
    ticket = created(client, dispatcher, category="theft", summary="Copet di pasar, massa marah")
    assert factory.run(routing.route_ticket, ticket["id"]) == "offered"

    phone = unit_phone(new_page, live_server, factory, first, "sgs-1", here)
    expect(phone.get_by_test_id("offer")).to_be_visible(timeout=WAIT_MS)
    expect(phone.get_by_test_id("panic")).to_be_visible()  # on an offer too
    phone.get_by_test_id("accept").tap()
    expect(phone.get_by_test_id("job")).to_be_visible()
    expect(phone.get_by_test_id("panic")).to_be_visible()  # and on a job
    console = open_console(new_page, live_server, factory, viewport=SCREEN)
    line = row(console, ticket["number"])
    badge = line.get_by_test_id("row-units")
    expect(badge).to_contain_text("1/1 unit")
    expect(line).not_to_have_class(re.compile(r"\bbackup\b"))

    # The officer asks for one more unit, with a quick reason.
    phone.get_by_test_id("backup-open").tap()
    form = phone.get_by_test_id("backup-form")
    expect(form).to_be_visible()
    expect(phone.get_by_test_id("backup-count")).to_have_text("1")
    phone.get_by_test_id("backup-send").tap()  # no reason yet: asked for one, nothing sent
    expect(phone.get_by_test_id("message")).to_have_text(
        "Pilih atau tulis alasan Anda butuh bantuan."
    )
    form.locator('[data-backup-reason="Pelaku lebih dari satu"]').tap()
    screenshot(phone, "mdt-backup-form")
    phone.get_by_test_id("backup-send").tap()
    expect(phone.get_by_test_id("message")).to_have_text(
        "Bantuan diminta: 1 unit lagi. Tiket kini butuh 2 unit."
    )
    expect(form).to_be_hidden()
    crew = phone.get_by_test_id("job-crew")
    expect(crew).to_contain_text("Unit di tiket ini: 1/2")
    expect(crew).to_contain_text("SGS-2 · ditawarkan")  # routed at once to the next nearest
    screenshot(phone, "mdt-backup-sent")

    # On the console: red, with who asked and why, until the new slot is filled.
    expect(line).to_have_class(re.compile(r"\bbackup\b"))
    expect(line.get_by_test_id("row-backup")).to_contain_text("SGS-1 minta bantuan (+1)")
    expect(line.get_by_test_id("row-backup")).to_contain_text("Pelaku lebih dari satu")
    expect(badge).to_contain_text("1/2 unit · 1 ditawarkan")
    screenshot(console, "console-backup-red")
    offer = factory.assignments(ticket["id"])[-1]
    assert offer.unit_id == second and offer.status == "offered"
    accept(client, factory, offer.id, second)
    expect(badge).to_contain_text("2/2 unit")
    expect(line).not_to_have_class(re.compile(r"\bbackup\b"))

    # Each unit works its own steps: SGS-2 is at the scene, SGS-1 only now sets off.
    progress(client, factory, offer.id, second, "en_route")
    progress(client, factory, offer.id, second, "on_scene")
    expect(line).to_have_attribute("data-status", "on_scene")
    phone.get_by_test_id("step-en_route").tap()
    expect(phone.get_by_test_id("job-step")).to_have_text("Dalam perjalanan ke TKP")
    expect(phone.get_by_test_id("step-on_scene")).to_be_visible()
    expect(crew).to_contain_text("SGS-2 · di TKP")

    # A second request; this dispatcher marks it seen before the unit comes.
    again = client.post(
        f"/api/v1/assignments/{factory.assignments(ticket['id'])[0].id}/backup",
        json={"reason": "Massa bertambah"},
        headers=factory.unit_user(first),
    )
    assert again.status_code == 200, again.get_json()
    expect(line).to_have_class(re.compile(r"\bbackup\b"))
    expect(badge).to_contain_text("2/3 unit · 1 ditawarkan")
    line.click()
    detail = console.get_by_test_id("detail")
    expect(detail.get_by_test_id("detail-backup")).to_contain_text(
        "SGS-1 minta bantuan (+1): Massa bertambah"
    )
    detail.get_by_test_id("backup-seen").click()
    expect(line).not_to_have_class(re.compile(r"\bbackup\b"))
    expect(badge).to_have_class(re.compile(r"\bshort\b"))  # still short, no longer red

    # The dispatcher releases SGS-3 after all (no replacement): two units are enough.
    member = detail.get_by_test_id("crew").locator('[data-callsign="SGS-3"]')
    expect(member).to_have_attribute("data-step", "offered")
    member.get_by_test_id("release-open").click()
    release = detail.get_by_test_id("release-form")
    release.get_by_test_id("release-reason").fill("Massa sudah bubar")
    release.get_by_test_id("release-refill").uncheck()
    release.get_by_test_id("release-submit").click()
    expect(badge).to_contain_text("2/2 unit")
    assert factory.ticket(ticket["id"]).units_needed == 2
    assert factory.unit_row(third).status == "available"
    assert not console.errors
    assert phone.script_errors == []


def test_a_unit_logs_an_incident_found_on_patrol_and_it_appears_on_the_console(
    new_page, live_server, factory
):
    here = offset(KEPANJEN, east_m=300)
    unit_id = factory.unit(callsign="PKS-1", point=here)
    factory.unit(callsign="PKS-2", point=offset(KEPANJEN, east_m=900))
    console = open_console(new_page, live_server, factory, viewport=SCREEN)
    console.evaluate("window.notReloaded = true")
    phone = unit_phone(new_page, live_server, factory, unit_id, "pks-1", here)
    expect(phone.get_by_test_id("idle")).to_be_visible()

    phone.get_by_test_id("onview-open").tap()
    form = phone.get_by_test_id("onview-form")
    expect(form).to_be_visible()
    phone.get_by_test_id("onview-send").tap()  # nothing chosen: the server says what is missing
    message = phone.get_by_test_id("message")
    expect(message).to_contain_text("Kejadian tidak tercatat.")
    expect(message).to_contain_text("Pilih kategori dari katalog.")
    phone.get_by_test_id("onview-category").select_option("brawl")
    expect(phone.get_by_test_id("onview-units")).to_have_value("2")  # the category's default
    phone.get_by_test_id("onview-summary").fill("Dua kelompok pemuda saling serang di alun-alun")
    screenshot(phone, "mdt-onview-form")
    phone.get_by_test_id("onview-send").tap()

    # The unit is on it at once, at the scene; the second unit is offered the other slot.
    job = phone.get_by_test_id("job")
    expect(job).to_be_visible()
    expect(phone.get_by_test_id("job-step")).to_have_text("Tiba di TKP")
    expect(job).to_contain_text("Tawuran")
    expect(message).to_contain_text("tercatat. Anda menanganinya, di TKP.")
    crew = phone.get_by_test_id("job-crew")
    expect(crew).to_contain_text("Unit di tiket ini: 1/2")
    expect(crew).to_contain_text("PKS-2 · ditawarkan")
    expect(phone.get_by_test_id("panic")).to_be_visible()
    screenshot(phone, "mdt-onview-job")

    [ticket] = [t for t in factory.assignments() if t.unit_id == unit_id]
    number = factory.ticket(ticket.ticket_id).number
    line = row(console, number)
    expect(line).to_be_visible()
    expect(line).to_have_attribute("data-channel", "on_view")
    expect(line).to_contain_text("Temuan di lapangan")
    expect(line).to_have_attribute("data-status", "on_scene")
    expect(line.get_by_test_id("row-units")).to_contain_text("1/2 unit · 1 ditawarkan")
    expect(console.get_by_test_id("activity")).to_contain_text("PKS-1 di TKP (temuan di lapangan)")
    assert console.evaluate("window.notReloaded") is True
    screenshot(console, "console-onview")
    assert not console.errors
    assert phone.script_errors == []
