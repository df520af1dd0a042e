"""Headless Chromium (Debian's), driven by Playwright, against the live test server."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

# An assertion waits up to 10 s for the page to get there (Playwright's default is 5 s): a
# busy two-core machine can take that long, and a test that waits longer only fails slower.
expect.set_options(timeout=10_000)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "artifacts")
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1600, "height": 950}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run scripts/services.sh")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """``new_page(viewport=DESKTOP, locale="id-ID")``: a page in a fresh browser context."""
    contexts = []

    def make(viewport=DESKTOP, **kwargs):
        context = browser.new_context(viewport=viewport, timezone_id="Asia/Jakarta", **kwargs)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.press("#password", "Enter")
    page.wait_for_load_state("networkidle")


def screenshot(page, name: str) -> str:
    """Keep a screenshot under tests/artifacts/ (not committed)."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, name + ".png")
    page.screenshot(path=path, full_page=True)
    return path
