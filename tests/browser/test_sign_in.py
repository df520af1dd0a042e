"""The sign-in page in a real browser."""

from tests.browser.conftest import screenshot, sign_in
from tests.helpers import PASSWORD


def test_dispatcher_signs_in_with_the_keyboard(new_page, live_server, factory):
    factory.user("dispatcher", username="operator")
    page = new_page()
    sign_in(page, live_server, "operator", PASSWORD)
    assert page.url == live_server + "/"
    assert page.locator("html").get_attribute("lang") == "id"


def test_wrong_password_shows_the_message(new_page, live_server, factory):
    factory.user("dispatcher", username="operator")
    page = new_page()
    sign_in(page, live_server, "operator", "wrong-password")
    assert page.get_by_test_id("login-error").inner_text() == "Nama pengguna atau kata sandi salah."
    screenshot(page, "login-error")
