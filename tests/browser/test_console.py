"""The dispatcher console in headless Chromium, against the live server, on both stacks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from callcenter.models import Ticket
from tests.browser.conftest import screenshot, sign_in
from tests.helpers import KEPANJEN, PASSWORD, offset, ticket_payload

pytestmark = pytest.mark.browser


def open_console(new_page, live_server, factory, role="dispatcher", username=None, **context):
    username = username or f"{role}-console"
    factory.user(role, username=username)
    page = new_page(**context)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    sign_in(page, live_server, username, PASSWORD)
    expect(page.locator("body.console-ready")).to_have_count(1)
    expect(page.get_by_test_id("stream-state")).to_have_attribute("data-state", "live")
    return page


def row(page, number):
    return page.locator(f'[data-testid="ticket-row"][data-number="{number}"]')


def created(client, headers, **overrides):
    response = client.post("/api/v1/tickets", json=ticket_payload(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def only_ticket(factory) -> Ticket:
    with factory.app.app_context():
        from callcenter.extensions import db

        rows = list(db.session.scalars(db.select(Ticket)))
        db.session.expunge_all()
        db.session.remove()
    assert len(rows) == 1
    return rows[0]


# --- intake -------------------------------------------------------------------------------------


def test_dispatcher_logs_a_call_with_the_keyboard_only(new_page, live_server, factory):
    page = open_console(new_page, live_server, factory)
    keys = page.keyboard
    expect(page.get_by_test_id("in-phone")).to_be_focused()
    keys.type("0811-48-2000")
    expect(page.get_by_test_id("history-summary")).to_contain_text("0811-482-000")
    keys.press("Tab")  # channel: phone, the default
    keys.press("Tab")
    keys.type("Budi Santoso")
    keys.press("Tab")
    keys.type("copet")  # a keyword of "Pencurian"
    expect(page.get_by_test_id("category-list")).to_contain_text("Pencurian")
    keys.press("Enter")
    expect(page.get_by_test_id("in-category")).to_have_value("Pencurian")
    keys.press("2")  # the priority keys have focus after the category
    keys.press("Tab")
    expect(page.get_by_test_id("in-units")).to_be_focused()
    expect(page.get_by_test_id("in-units")).to_have_value("1")  # the category's default
    keys.press("Tab")
    keys.type("Dompet dicopet di pasar")
    keys.press("Tab")
    keys.type("Pasar Kepanjen")
    keys.press("Tab")
    keys.type("-8.1306, 112.5722")
    screenshot(page, "console-intake-typed")
    keys.press("Control+Enter")

    result = page.get_by_test_id("intake-result")
    expect(result).to_contain_text(re.compile(r"Tiket 110-\d{8}-\d{5} tercatat"))
    ticket = only_ticket(factory)
    assert (ticket.category, ticket.priority, ticket.channel) == ("theft", 2, "phone")
    assert ticket.caller_phone == "+62811482000" and ticket.caller_name == "Budi Santoso"
    assert (ticket.lat, ticket.lon, ticket.address) == (-8.1306, 112.5722, "Pasar Kepanjen")
    assert ticket.summary == "Dompet dicopet di pasar"
    expect(row(page, ticket.number)).to_contain_text("Dompet dicopet di pasar")
    # The form is empty again, ready for the next call, with the cursor on the number.
    expect(page.get_by_test_id("in-phone")).to_have_value("")
    expect(page.get_by_test_id("in-phone")).to_be_focused()
    assert not page.errors


def test_dispositions_close_the_call_in_one_keystroke_and_flag_prank_numbers(
    new_page, live_server, factory
):
    page = open_console(new_page, live_server, factory)
    result = page.get_by_test_id("intake-result")
    for n in (1, 2):
        page.keyboard.type("0812-3456-7890")
        expect(page.get_by_test_id("history-summary")).to_be_visible()
        page.keyboard.press("Alt+I")
        expect(result).to_contain_text(re.compile(rf"Panggilan iseng: 110-\d{{8}}-0000{n}"))
        assert factory.count(Ticket) == n
    page.keyboard.press("Alt+D")  # a silent call from a hidden number: no number, no location
    expect(result).to_contain_text("Panggilan diam")

    page.keyboard.type("0812-3456-7890")
    flag = page.get_by_test_id("prank-flag")
    expect(flag).to_contain_text("Nomor iseng: 2 panggilan iseng")
    screenshot(page, "console-prank-number")
    with factory.app.app_context():
        from callcenter.extensions import db

        tickets = list(db.session.scalars(db.select(Ticket).order_by(Ticket.id)))
        db.session.remove()
    assert [t.category for t in tickets] == ["prank", "prank", "silent_call"]
    assert all(t.status == "closed" for t in tickets)
    assert not factory.assignments()
    # Closed at intake: nothing waits on the board.
    expect(page.get_by_test_id("ticket-row")).to_have_count(0)


def test_field_errors_show_next_to_the_fields_and_the_form_keeps_the_call(
    new_page, live_server, factory
):
    page = open_console(new_page, live_server, factory)
    page.get_by_test_id("in-phone").fill("0811-48-2000")
    page.get_by_test_id("in-summary").fill("Ada tawuran pelajar")
    page.get_by_test_id("in-coords").fill("1.3521, 103.8198")  # Singapore
    page.get_by_test_id("in-coords").press("Control+Enter")

    coords_field = page.locator('.field[data-field~="location.lat"]')
    expect(coords_field.locator(".field-error")).to_have_text("Lokasi ini di luar Indonesia.")
    expect(page.locator('.field[data-field="category"] .field-error')).to_have_text(
        "Pilih kategori dari katalog."
    )
    expect(page.get_by_test_id("intake-error")).to_contain_text("Panggilan tidak tercatat")
    expect(page.get_by_test_id("in-summary")).to_have_value("Ada tawuran pelajar")
    expect(page.get_by_test_id("in-phone")).to_have_value("0811-48-2000")
    screenshot(page, "console-field-errors")
    assert factory.count(Ticket) == 0

    # Fixing the fields logs the call.
    page.get_by_test_id("in-category").fill("tawuran")
    page.get_by_test_id("in-category").press("Enter")
    page.get_by_test_id("in-coords").fill("-8.1306, 112.5722")
    page.get_by_test_id("intake-submit").click()
    expect(page.get_by_test_id("intake-result")).to_contain_text("tercatat")
    assert only_ticket(factory).category == "brawl"


def test_the_point_of_a_call_is_set_by_clicking_the_map(new_page, live_server, factory):
    page = open_console(new_page, live_server, factory)
    page.get_by_test_id("in-category").fill("laka")
    page.get_by_test_id("in-category").press("Enter")
    box = page.get_by_test_id("map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2)
    coords = page.get_by_test_id("in-coords")
    expect(coords).to_have_value(re.compile(r"^-8\.\d{5}, 112\.\d{5}$"))
    expect(page.locator(".leaflet-marker-icon.pick-intake")).to_have_count(1)
    coords.press("Control+Enter")
    expect(page.get_by_test_id("intake-result")).to_contain_text("tercatat")
    ticket = only_ticket(factory)
    assert ticket.category == "traffic_accident"
    assert abs(ticket.lat - KEPANJEN[0]) < 0.02 and KEPANJEN[1] < ticket.lon < KEPANJEN[1] + 0.1
    expect(page.locator(".leaflet-marker-icon.pick-intake")).to_have_count(0)  # form cleared


def test_a_possible_duplicate_links_to_the_open_ticket(new_page, live_server, factory, client):
    first = created(client, factory.headers("dispatcher"), category="theft")
    page = open_console(new_page, live_server, factory)
    expect(row(page, first["number"])).to_be_visible()
    page.get_by_test_id("in-category").fill("Pencurian")
    page.get_by_test_id("in-category").press("Enter")
    near = offset(KEPANJEN, north_m=120)
    page.get_by_test_id("in-coords").fill(f"{near[0]:.6f}, {near[1]:.6f}")
    page.get_by_test_id("in-coords").press("Control+Enter")

    warning = page.get_by_test_id("duplicate-warning")
    expect(warning).to_contain_text("Kemungkinan duplikat")
    link = page.get_by_test_id("duplicate-link")
    expect(link).to_have_text(first["number"])
    screenshot(page, "console-duplicate-warning")
    link.click()
    detail = page.get_by_test_id("detail")
    expect(detail).to_be_visible()
    expect(detail.locator("#detail-title")).to_have_text(first["number"])
    assert page.url.endswith(f"#ticket-{first['id']}")


# --- the live board ------------------------------------------------------------------------------


def test_the_board_follows_a_ticket_to_dispatched_and_acknowledged_without_a_reload(
    new_page, live_server, factory, client, start_worker
):
    unit_id = factory.unit(callsign="KPJ-1", point=offset(KEPANJEN, north_m=600))
    start_worker()
    page = open_console(new_page, live_server, factory)
    page.evaluate("window.notReloaded = true")
    expect(page.locator('[data-testid="unit-row"][data-callsign="KPJ-1"]')).to_contain_text(
        "Tersedia"
    )

    page.get_by_test_id("in-category").fill("kdrt")
    page.get_by_test_id("in-category").press("Enter")
    page.get_by_test_id("in-summary").fill("Suami memukul istri, anak menangis")
    page.get_by_test_id("in-coords").fill(f"{KEPANJEN[0]}, {KEPANJEN[1]}")
    page.get_by_test_id("in-coords").press("Control+Enter")
    expect(page.get_by_test_id("intake-result")).to_contain_text("tercatat")
    ticket = only_ticket(factory)

    line = row(page, ticket.number)
    expect(line).to_have_attribute("data-status", "dispatched", timeout=30_000)
    expect(page.get_by_test_id("group-dispatched")).to_contain_text(ticket.number)
    expect(line).to_contain_text("KPJ-1")
    expect(line.locator(".countdown")).to_be_visible()  # time left to answer the offer
    unit_row = page.locator('[data-testid="unit-row"][data-callsign="KPJ-1"]')
    expect(unit_row).to_contain_text("Ditugaskan")
    screenshot(page, "console-dispatched")

    offer = factory.assignments(ticket.id)[0]
    answer = client.post(
        f"/api/v1/assignments/{offer.id}/accept", headers=factory.unit_user(unit_id)
    )
    assert answer.status_code == 200, answer.get_json()
    expect(line).to_have_attribute("data-status", "acknowledged")
    expect(page.get_by_test_id("group-acknowledged")).to_contain_text(ticket.number)
    expect(page.get_by_test_id("activity")).to_contain_text("KPJ-1 menerima")
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "console-acknowledged")
    assert not page.errors


def test_a_dropped_stream_resumes_without_losing_events(new_page, live_server, factory, client):
    headers = factory.headers("dispatcher")
    before = created(client, headers, category="theft")
    page = open_console(new_page, live_server, factory)
    expect(row(page, before["number"])).to_be_visible()
    asked: list[str] = []
    page.on(
        "request",
        lambda r: (
            "/events/stream" in r.url
            and asked.append(r.url + " " + (r.headers.get("last-event-id") or ""))
        ),
    )
    seen = max(e.id for e in factory.events())

    # The network drops: every reconnection attempt fails until it is back.
    page.route("**/api/v1/events/stream*", lambda route: route.abort())
    page.get_by_test_id("stream-state").click()  # drop the open connection now
    state = page.get_by_test_id("stream-state")
    expect(state).to_have_attribute("data-state", "reconnecting")
    expect(state).to_contain_text("Menyambung ulang")
    expect(page.get_by_test_id("stream-banner")).to_be_visible()
    screenshot(page, "console-reconnecting")

    missed = [created(client, headers, category=c) for c in ("fight", "fire", "drugs")]
    assert (
        client.post(
            f"/api/v1/tickets/{before['id']}/cancel",
            json={"reason": "Pelapor membatalkan"},
            headers=headers,
        ).status_code
        == 200
    )
    missed_events = [e.id for e in factory.events() if e.id > seen]
    assert len(missed_events) >= 4
    for ticket in missed:
        expect(row(page, ticket["number"])).to_have_count(0)  # not live: nothing arrives

    page.unroute("**/api/v1/events/stream*")
    expect(state).to_have_attribute("data-state", "live", timeout=30_000)
    expect(page.get_by_test_id("stream-banner")).to_be_hidden()
    for ticket in missed:
        expect(row(page, ticket["number"])).to_be_visible()
    expect(row(page, before["number"])).to_have_count(0)  # cancelled while away
    activity = page.get_by_test_id("activity")
    for event_id in missed_events:
        expect(activity.locator(f'[data-event-id="{event_id}"]')).to_have_count(1)
    # It resumed after the last event it had: by the header or by the query string.
    resumed = [a for a in asked if f"last_event_id={seen}" in a or a.endswith(f" {seen}")]
    assert resumed, asked
    assert not page.errors


def test_a_stream_the_server_ends_resumes_with_last_event_id(
    new_page, live_server, factory, client, app, monkeypatch
):
    """The server ends each stream after 2 s here; the browser reconnects by itself with
    Last-Event-ID, and calls logged around the reconnections all arrive, once each."""
    monkeypatch.setitem(app.config, "CALLCENTER_STREAM_MAX_S", 2)
    headers = factory.headers("dispatcher")
    page = open_console(new_page, live_server, factory)
    numbers = []
    for category in ("theft", "fight"):
        numbers.append(created(client, headers, category=category)["number"])
        expect(row(page, numbers[-1])).to_be_visible()  # this connection delivered it
        delivered = max(e.id for e in factory.events("ticket.created"))
        with page.expect_request(lambda r: "/events/stream" in r.url, timeout=15_000) as asked:
            pass  # the server ends the stream; the browser comes back on its own
        last_seen = asked.value.all_headers().get("last-event-id")
        assert last_seen and int(last_seen) >= delivered, asked.value.all_headers()
        numbers.append(created(client, headers, category=category)["number"])  # meanwhile
    for number in numbers:
        expect(row(page, number)).to_be_visible()
    activity = page.get_by_test_id("activity")
    for event in factory.events("ticket.created"):
        expect(activity.locator(f'[data-event-id="{event.id}"]')).to_have_count(1)
    assert not page.errors


# --- safety, language ----------------------------------------------------------------------------


def test_caller_text_is_shown_as_text_never_run(new_page, live_server, factory, client):
    evil = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    ticket = created(
        client,
        factory.headers("dispatcher"),
        summary="Tolong " + evil,
        caller={"name": evil[:100], "phone": "0811-48-2000"},
    )
    page = open_console(new_page, live_server, factory)
    line = row(page, ticket["number"])
    expect(line.get_by_test_id("row-summary")).to_have_text("Tolong " + evil)
    line.click()
    expect(page.get_by_test_id("detail-summary")).to_have_text("Tolong " + evil)
    page.get_by_test_id("in-phone").fill("0811-48-2000")
    expect(page.get_by_test_id("caller-history")).to_contain_text("<script>")
    assert page.locator("#board script, #detail script, #detail img, #board img").count() == 0
    assert page.evaluate("window.pwned") is None
    screenshot(page, "console-script-as-text")
    assert not page.errors


def test_the_console_in_bahasa_indonesia_and_in_english(new_page, live_server, factory, client):
    created(client, factory.headers("dispatcher"), category="theft")
    page = open_console(new_page, live_server, factory)
    assert page.locator("html").get_attribute("lang") == "id"
    expect(page.locator("#intake-title")).to_contain_text("Panggilan baru")
    expect(page.get_by_test_id("group-new")).to_contain_text("Baru")
    expect(page.get_by_test_id("stream-state")).to_have_text("Langsung")
    expect(page.get_by_test_id("disp-prank")).to_contain_text("Iseng")
    page.get_by_test_id("in-phone").press("Control+Enter")
    expect(page.locator('.field[data-field="category"] .field-error')).to_have_text(
        "Pilih kategori dari katalog."
    )
    clock = page.locator("#clock").inner_text()
    assert clock.endswith(" WIB")
    screenshot(page, "console-id")

    page.get_by_test_id("lang-switch").click()  # the user's setting: English
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("stream-state")).to_have_attribute("data-state", "live")
    expect(page.locator("#intake-title")).to_contain_text("New call")
    expect(page.get_by_test_id("group-new")).to_contain_text("New")
    expect(page.get_by_test_id("stream-state")).to_have_text("Live")
    expect(page.get_by_test_id("disp-prank")).to_contain_text("Prank")
    page.get_by_test_id("in-phone").press("Control+Enter")
    expect(page.locator('.field[data-field="category"] .field-error')).to_have_text(
        "Choose a category from the catalog."
    )
    screenshot(page, "console-en")
    assert not page.errors


# --- ticket detail -------------------------------------------------------------------------------


def test_manual_assignment_asks_before_pulling_a_unit_off_another_job(
    new_page, live_server, factory, client
):
    headers = factory.headers("dispatcher")
    unit_id = factory.unit(callsign="SGS-1", point=offset(KEPANJEN, north_m=400))
    minor = created(client, headers, category="noise", priority=4, summary="Musik keras")
    assert (
        client.post(
            f"/api/v1/tickets/{minor['id']}/assign", json={"unit_id": unit_id}, headers=headers
        ).status_code
        == 201
    )
    offer = factory.assignments(minor["id"])[0]
    assert (
        client.post(
            f"/api/v1/assignments/{offer.id}/accept", headers=factory.unit_user(unit_id)
        ).status_code
        == 200
    )
    urgent = created(
        client, headers, category="weapon", priority=1, units_needed=1, summary="Ancaman senjata"
    )

    page = open_console(new_page, live_server, factory)
    row(page, urgent["number"]).click()
    detail = page.get_by_test_id("detail")
    expect(detail.locator("#detail-title")).to_have_text(urgent["number"])
    suggestion = detail.locator('[data-testid="suggestion"][data-callsign="SGS-1"]')
    expect(suggestion).to_contain_text("400 m")
    expect(suggestion).to_contain_text(minor["number"][-5:])
    suggestion.get_by_test_id("assign-SGS-1").click()

    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(minor["number"])
    screenshot(page, "console-confirm-assignment")
    page.get_by_test_id("confirm-yes").click()
    expect(dialog).to_be_hidden()
    expect(detail.get_by_test_id("crew")).to_contain_text("SGS-1")
    expect(row(page, urgent["number"])).to_have_attribute("data-status", "dispatched")
    expect(row(page, minor["number"])).to_have_attribute("data-status", "queued")
    assert factory.ticket(minor["id"]).status == "queued"
    assert [a.unit_id for a in factory.assignments(urgent["id"])] == [unit_id]

    # The unit's answer came over the radio: the dispatcher records it.
    detail.get_by_test_id("accept-radio").click()
    expect(row(page, urgent["number"])).to_have_attribute("data-status", "acknowledged")
    expect(detail.get_by_test_id("timeline")).to_contain_text("SGS-1 menerima")
    screenshot(page, "console-detail")
    assert not page.errors


def test_detail_edits_cancels_and_closes_with_an_audited_timeline(
    new_page, live_server, factory, client
):
    headers = factory.headers("dispatcher")
    one = created(client, headers, category="theft", priority=3)
    two = created(client, headers, category="fight", priority=2)
    page = open_console(new_page, live_server, factory, username="sari")
    row(page, one["number"]).focus()
    page.keyboard.press("Enter")
    detail = page.get_by_test_id("detail")
    expect(detail.locator("#detail-title")).to_have_text(one["number"])
    detail.get_by_test_id("edit-priority").select_option("1")
    detail.get_by_test_id("edit-summary").fill("Pelaku membawa senjata tajam")
    detail.get_by_test_id("edit-summary").press("Control+Enter")
    expect(detail.get_by_test_id("detail-message")).to_have_text("Perubahan disimpan.")
    timeline = detail.get_by_test_id("timeline")
    expect(timeline).to_contain_text("diubah: ")
    expect(timeline).to_contain_text("Prioritas: 3 → 1")
    # The summary before and after: nothing said is lost.
    expect(timeline).to_contain_text(
        "Uraian: “Dompet dicopet di pasar” → “Pelaku membawa senjata tajam”"
    )
    expect(timeline).to_contain_text("sari (operator)")
    expect(row(page, one["number"])).to_contain_text("P1")
    assert factory.ticket(one["id"]).priority == 1

    # A cancel without a reason is refused next to the field.
    detail.get_by_test_id("cancel-form").get_by_role("button").click()
    expect(detail.locator('.field[data-field="reason"] .field-error')).to_have_text("Wajib diisi.")
    detail.get_by_test_id("cancel-reason").fill("Laporan ganda")
    detail.get_by_test_id("cancel-form").get_by_role("button").click()
    expect(detail.locator(".spill")).to_have_text("Dibatalkan")
    expect(row(page, one["number"])).to_have_count(0)
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()

    row(page, two["number"]).click()
    expect(detail.locator("#detail-title")).to_have_text(two["number"])
    detail.get_by_test_id("close-resolution").select_option("mediated")
    detail.get_by_test_id("close-form").get_by_role("button").click()
    expect(detail.locator(".spill")).to_have_text("Selesai")
    expect(page.get_by_test_id("ticket-row")).to_have_count(0)
    assert factory.ticket(two["id"]).resolution == "mediated"
    assert not page.errors


def test_supervisor_sees_escalations_and_may_lock_intake(new_page, live_server, factory, client):
    from callcenter.extensions import db
    from callcenter.services import routing, state

    ticket = created(client, factory.headers("dispatcher"), category="brawl", priority=1)

    def escalate():
        routing.escalate(state.lock_ticket(ticket["id"]), "queued_too_long")
        db.session.commit()

    page = open_console(new_page, live_server, factory, role="supervisor")
    escalations = page.get_by_test_id("escalations")
    expect(escalations).to_contain_text("Tidak ada eskalasi.")
    factory.run(escalate)  # while the supervisor watches
    expect(escalations).to_contain_text(ticket["number"])
    expect(escalations).to_contain_text("terlalu lama menunggu unit")
    expect(row(page, ticket["number"])).to_have_class(re.compile(r"\balert\b"))
    expect(page.locator('[data-count="escalated"]').first).to_have_text("1")
    screenshot(page, "console-supervisor")

    page.get_by_test_id("intake-readonly").check()
    expect(page.get_by_test_id("intake-locked")).to_be_visible()
    expect(page.get_by_test_id("in-phone")).to_be_disabled()
    page.keyboard.press("Alt+I")  # a disposition key does nothing while intake is locked
    page.reload()
    expect(page.get_by_test_id("in-phone")).to_be_disabled()  # the choice is remembered
    assert factory.count(Ticket) == 1
    assert not page.errors


def test_late_tickets_stand_out_stale_units_say_so_and_units_move_live(
    new_page, live_server, factory, client
):
    from datetime import timedelta

    from callcenter.extensions import db
    from callcenter.services import clock

    headers = factory.headers("dispatcher")
    late = created(client, headers, category="theft", summary="Sudah lama menunggu")
    fresh = created(client, headers, category="fight", summary="Baru saja")

    def eleven_minutes_ago():
        ticket = db.session.get(Ticket, late["id"])
        ticket.created_at = clock.now() - timedelta(minutes=11)
        db.session.commit()

    factory.run(eleven_minutes_ago)
    moving = factory.unit(callsign="PKS-1", point=offset(KEPANJEN, north_m=2000))
    factory.unit(callsign="DMP-1", point=offset(KEPANJEN, east_m=3000), age_s=900)
    off = factory.unit(callsign="OFF-1", status="off_duty", point=None)

    page = open_console(new_page, live_server, factory)
    expect(row(page, late["number"])).to_have_class(re.compile(r"\balert\b"))
    expect(row(page, late["number"]).locator(".over-target")).to_be_visible()
    expect(row(page, late["number"]).locator(".age")).to_contain_text(re.compile(r"^11:"))
    expect(row(page, fresh["number"])).not_to_have_class(re.compile(r"\balert\b"))
    units = page.get_by_test_id("units")
    expect(units.locator('[data-callsign="DMP-1"] .pos')).to_contain_text("usang 15:")
    expect(units.locator('[data-callsign="PKS-1"] .pos .stale')).to_have_count(0)
    expect(units.locator('[data-callsign="OFF-1"]')).to_have_count(0)  # off duty: hidden
    page.locator("#units-offduty").check()
    expect(units.locator('[data-callsign="OFF-1"]')).to_contain_text("Lepas dinas")
    # Retired in Administration meanwhile: it leaves the list without a reload.
    retired = client.delete(f"/api/v1/units/{off}", headers=factory.headers("admin"))
    assert retired.status_code == 200, retired.get_json()
    expect(units.locator('[data-callsign="OFF-1"]')).to_have_count(0)

    # The unit drives north; its marker follows without a reload.
    north = offset(KEPANJEN, north_m=2500)
    report = client.post(
        "/api/v1/units/me/location",
        json={"lat": north[0], "lon": north[1]},
        headers=factory.unit_user(moving),
    )
    assert report.status_code == 201, report.get_json()
    page.wait_for_function(
        "([id, lat]) => Math.abs(cc110.map.unitMarkers.get(id).getLatLng().lat - lat) < 1e-6",
        arg=[moving, north[0]],
    )
    screenshot(page, "console-late-and-stale")
    assert not page.errors


def test_a_call_retried_after_a_lost_answer_is_logged_once(new_page, live_server, factory):
    page = open_console(new_page, live_server, factory)
    page.get_by_test_id("in-category").fill("curanmor")
    page.get_by_test_id("in-category").press("Enter")
    page.get_by_test_id("in-coords").fill(f"{KEPANJEN[0]}, {KEPANJEN[1]}")

    def answer_lost(route):
        route.fetch()  # the server stores the call; its answer never reaches the screen
        route.abort()

    page.route("**/api/v1/tickets", answer_lost)
    page.get_by_test_id("in-coords").press("Control+Enter")
    expect(page.get_by_test_id("intake-error")).to_contain_text("Server tidak menjawab")
    expect(page.get_by_test_id("in-category")).to_have_value(re.compile("curanmor"))
    assert factory.count(Ticket) == 1

    page.unroute("**/api/v1/tickets")
    page.get_by_test_id("in-coords").press("Control+Enter")  # the dispatcher tries again
    expect(page.get_by_test_id("intake-result")).to_contain_text("tercatat")
    assert factory.count(Ticket) == 1
    assert not page.errors
