"""Administration in a real browser: an admin creates a unit and its sign-in, and the
officer signs in on the unit screen; an admin deactivates people signed in elsewhere, and
their screens are signed out within seconds. Every page runs under the content security
policy: a violation fails the test."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, screenshot, sign_in
from tests.helpers import KEPANJEN, PASSWORD

pytestmark = pytest.mark.browser

SIGNED_OUT_MS = 10_000


def watched(page):
    """Collect script errors and content-security-policy violations of ``page``."""
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on(
        "console",
        lambda msg: (
            page.problems.append(msg.text)
            if "Content Security Policy" in msg.text or (msg.type == "error" and "CSP" in msg.text)
            else None
        ),
    )
    return page


def test_an_admin_creates_a_unit_and_its_user_who_signs_in_on_the_unit_screen(
    new_page, live_server, factory
):
    factory.user("admin", username="kasium")
    admin = watched(new_page(locale="id-ID"))
    sign_in(admin, live_server, "kasium", PASSWORD)
    admin.get_by_test_id("nav-admin").click()
    admin.get_by_role("link", name="Unit", exact=True).click()
    expect(admin).to_have_url(re.compile(r"/admin/units$"))

    form = admin.get_by_test_id("new-unit")
    form.locator("[name=callsign]").fill("kpj-21")
    form.locator("[name=name]").fill("R2 Kepanjen 21")
    form.locator("[name=kind]").select_option("motorcycle")
    form.get_by_role("button").click()
    expect(admin.get_by_test_id("flash")).to_have_text("Unit KPJ-21 dibuat.")
    expect(admin.locator("h1")).to_have_text("Unit KPJ-21")

    # The crew on duty for this shift.
    crew = admin.get_by_test_id("crew-form")
    crew.locator("[name=name0]").fill("Bripda Wahyu Hidayat")
    crew.locator("[name=nrp0]").fill("98120345")
    crew.get_by_role("button").click()
    expect(admin.get_by_test_id("crew")).to_contain_text("Bripda Wahyu Hidayat (NRP 98120345)")

    admin.get_by_role("link", name="Pengguna", exact=True).click()
    form = admin.get_by_test_id("new-user")
    form.locator("[name=username]").fill("kpj-21")
    form.locator("[name=full_name]").fill("Bripda Wahyu Hidayat")
    form.locator("[name=role]").select_option("unit")
    form.locator("[name=unit_id]").select_option(label="KPJ-21 · R2 Kepanjen 21")
    # A common password is refused with the reason, in Bahasa Indonesia.
    form.locator("[name=password]").fill("password123")
    form.get_by_role("button").click()
    expect(admin.get_by_test_id("flash")).to_contain_text("terlalu umum")
    form = admin.get_by_test_id("new-user")
    form.locator("[name=username]").fill("kpj-21")
    form.locator("[name=role]").select_option("unit")
    form.locator("[name=unit_id]").select_option(label="KPJ-21 · R2 Kepanjen 21")
    form.locator("[name=password]").fill("patroli-kpj-21")
    form.get_by_role("button").click()
    expect(admin.get_by_test_id("flash")).to_have_text("Pengguna kpj-21 dibuat.")
    screenshot(admin, "admin-user-created")

    # The officer signs in on a phone and lands on the unit's screen.
    phone = watched(
        new_page(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            permissions=["geolocation"],
            geolocation={"latitude": KEPANJEN[0], "longitude": KEPANJEN[1], "accuracy": 10},
        )
    )
    phone.goto(live_server + "/login")
    phone.fill("#username", "kpj-21")
    phone.fill("#password", "patroli-kpj-21")
    phone.press("#password", "Enter")
    phone.wait_for_url(live_server + "/mdt/")
    expect(phone.get_by_test_id("callsign")).to_have_text("KPJ-21")
    expect(phone.get_by_test_id("conn-state")).to_have_attribute("data-state", "online")

    # The admin sees the sign-in in the list.
    admin.goto(live_server + "/admin/users")
    row = admin.locator("tr[data-username='kpj-21']")
    expect(row).not_to_contain_text("belum pernah")
    for path in ("/admin/units", "/admin/sectors", "/admin/categories", "/admin/audit"):
        admin.goto(live_server + path)
    expect(admin.get_by_test_id("audit")).to_contain_text("user.created")
    assert admin.problems == [] and phone.problems == []


def test_an_admin_deactivates_people_signed_in_elsewhere_and_they_are_signed_out(
    new_page, live_server, factory
):
    factory.user("admin", username="kasium")
    dispatcher = factory.user("dispatcher", username="sari")
    unit_id = factory.unit(callsign="KPJ-22")
    officer = factory.user("unit", username="kpj-22", unit_id=unit_id)

    console = watched(new_page())
    sign_in(console, live_server, "sari", PASSWORD)
    expect(console.get_by_test_id("stream-state")).to_have_attribute("data-state", "live")
    phone = watched(new_page(viewport=PHONE, is_mobile=True, has_touch=True))
    phone.goto(live_server + "/login")
    phone.fill("#username", "kpj-22")
    phone.fill("#password", PASSWORD)
    phone.press("#password", "Enter")
    phone.wait_for_url(live_server + "/mdt/")
    expect(phone.get_by_test_id("conn-state")).to_have_attribute("data-state", "online")

    admin = watched(new_page(locale="en-US"))
    sign_in(admin, live_server, "kasium", PASSWORD)
    for user in (dispatcher, officer):
        admin.goto(f"{live_server}/admin/users/{user['id']}")
        admin.get_by_test_id("deactivate").click()
        expect(admin.get_by_test_id("user-state")).to_have_text(re.compile("nonaktif|deactivated"))

    # Within seconds, without a touch: the console says so, the unit screen goes to sign-in.
    expect(console.get_by_test_id("stream-state")).to_have_attribute(
        "data-state", "signed_out", timeout=SIGNED_OUT_MS
    )
    phone.wait_for_url(re.compile(r"/login"), timeout=SIGNED_OUT_MS)
    console.reload()
    expect(console).to_have_url(re.compile(r"/login"))
    screenshot(console, "admin-deactivated-console")
    assert console.problems == [] and admin.problems == [] and phone.problems == []
