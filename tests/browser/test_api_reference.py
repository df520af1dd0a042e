"""The API reference page in a real browser: built from the OpenAPI document by our own
script, with no outside file and no content-security-policy violation."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


def test_an_integrator_reads_the_reference_and_finds_the_intake_operation(
    new_page, live_server, factory
):
    factory.user("admin", username="integrasi")
    page = new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # Script errors and refused requests (the browser's own favicon request aside).
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(r.url)
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    outside = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server) else None
        ),
    )
    sign_in(page, live_server, "integrasi", PASSWORD)
    page.get_by_test_id("nav-admin").click()
    page.get_by_test_id("nav-api-reference").click()
    operations = page.get_by_test_id("reference-op")
    expect(operations.first).to_be_visible()
    assert operations.count() > 5
    intake = page.locator('[data-op="POST /api/v1/tickets"]')
    expect(intake).to_contain_text("Roles: dispatcher, supervisor")
    expect(intake).to_contain_text("Idempotency-Key")
    expect(page.locator("#schema-Ticket")).to_be_attached()

    page.get_by_test_id("reference-filter").fill("auth/tokens")
    expect(operations.filter(has_text="/api/v1/auth/tokens").first).to_be_visible()
    expect(intake).to_be_hidden()
    signing_out = page.locator('[data-op="DELETE /api/v1/auth/tokens/current"]')
    expect(signing_out).to_contain_text("the caller's own token no longer works")
    expect(page.locator('[data-op="POST /api/v1/units/me/emergency"]')).to_contain_text(
        "is read, not refused"
    )
    assert problems == []
    assert outside == []
