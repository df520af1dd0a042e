"""The console says "dispatch degraded" while no worker reports, in Bahasa Indonesia and
English, and clears it when a worker is back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


def test_the_banner_appears_while_no_worker_reports_and_clears(
    app, new_page, live_server, factory, start_worker, monkeypatch
):
    monkeypatch.setitem(app.config, "CALLCENTER_HEARTBEAT_MAX_AGE_S", 4)
    factory.user("dispatcher", username="degraded-id")
    factory.user("dispatcher", username="degraded-en")
    page = new_page()
    sign_in(page, live_server, "degraded-id", PASSWORD)
    english = new_page()
    sign_in(english, live_server, "degraded-en", PASSWORD)
    english.goto(live_server + "/?lang=en")

    banner = page.get_by_test_id("dispatch-degraded")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Dispatch terganggu")
    expect(banner).to_contain_text("belum ada worker dispatch yang melapor")
    banner_en = english.get_by_test_id("dispatch-degraded")
    expect(banner_en).to_contain_text("Dispatch degraded")
    expect(banner_en).to_contain_text("no dispatch worker has reported")
    screenshot(page, "dispatch-degraded")

    worker = start_worker(concurrency=1)
    expect(banner).to_be_hidden(timeout=20_000)
    expect(banner_en).to_be_hidden(timeout=20_000)

    worker.stop()  # silent again: the banner comes back, with how long it has been
    expect(banner).to_be_visible(timeout=20_000)
    expect(banner).to_contain_text("detik")
