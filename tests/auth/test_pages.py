"""Sign-in pages: sessions, CSRF, cookies, idle timeout, roles on pages."""

import re

import pytest

from tests.helpers import PASSWORD, ticket_payload


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def page_sign_in(client, username, password=PASSWORD):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def test_sign_in_and_out_by_role(client, factory):
    factory.user("dispatcher", username="operator")
    response = page_sign_in(client, "operator")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    token = csrf_from(client.get("/").get_data(as_text=True))
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302
    assert client.get("/").status_code == 302  # back to the sign-in page
    types = [e.type for e in factory.events() if e.type.startswith("auth.")]
    assert types == ["auth.signed_in", "auth.signed_out"]


def test_unit_user_lands_on_the_unit_screen(client, factory):
    unit_id = factory.unit()
    factory.user("unit", username="kpj1", unit_id=unit_id)
    response = page_sign_in(client, "kpj1")
    assert response.headers["Location"] == "/mdt/"
    assert client.get("/").headers["Location"] == "/mdt/"  # home is the unit's screen


def sign_in_from_the_address(client, username):
    """What a person does: open the site's address, get the sign-in page, sign in."""
    first = client.get("/")
    assert first.status_code == 302 and first.headers["Location"].startswith("/login")
    login_url = first.headers["Location"]
    token = csrf_from(client.get(login_url).get_data(as_text=True))
    return client.post(
        login_url,
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=True,
    )


@pytest.mark.parametrize(
    "role,path,marker",
    [
        ("unit", "/mdt/", "mdt-body"),
        ("dispatcher", "/", "console-page"),
        ("supervisor", "/", "console-page"),
        ("admin", "/", "console-page"),
    ],
)
def test_opening_the_site_address_and_signing_in_lands_on_the_right_screen(
    client, factory, role, path, marker
):
    """Found by trying it as a new user: a unit user who opened the site's address and
    signed in got "403 Your role may not open this page"."""
    unit_id = factory.unit() if role == "unit" else None
    factory.user(role, username=f"new-{role}", unit_id=unit_id)
    page = sign_in_from_the_address(client, f"new-{role}")
    assert page.status_code == 200
    assert page.request.path == path
    assert marker in page.get_data(as_text=True)


def test_wrong_password_on_the_page(client, factory):
    factory.user("dispatcher", username="operator")
    response = page_sign_in(client, "operator", "wrong-password")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "Nama pengguna atau kata sandi salah." in html  # Bahasa Indonesia by default


def test_login_without_csrf_token_is_refused(client, factory):
    factory.user("dispatcher", username="operator")
    response = client.post("/login", data={"username": "operator", "password": PASSWORD})
    assert response.status_code == 400
    assert factory.events("auth.signed_in") == []


def test_session_api_calls_need_the_csrf_header(client, factory):
    factory.user("dispatcher", username="operator")
    page_sign_in(client, "operator")
    refused = client.post("/api/v1/tickets", json=ticket_payload())
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    token = csrf_from(client.get("/").get_data(as_text=True))
    accepted = client.post("/api/v1/tickets", json=ticket_payload(), headers={"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_bearer_calls_need_no_csrf_and_ignore_cookies(client, factory):
    headers = factory.headers("dispatcher")
    assert client.post("/api/v1/tickets", json=ticket_payload(), headers=headers).status_code == 201


def test_session_cookie_flags(client, factory):
    factory.user("dispatcher", username="operator")
    response = page_sign_in(client, "operator")
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("cc110_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    assert "Expires=" in cookie  # a permanent session with the idle lifetime


def test_session_cookie_is_secure_over_https(app, factory):
    factory.user("dispatcher", username="operator")
    client = app.test_client()
    html = client.get("/login", base_url="https://cc.example").get_data(as_text=True)
    response = client.post(
        "/login",
        base_url="https://cc.example",
        data={"username": "operator", "password": PASSWORD, "csrf_token": csrf_from(html)},
        headers={"Referer": "https://cc.example/login"},  # CSRF checks it over HTTPS
    )
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("cc110_session=")
    )
    assert "Secure" in cookie


def test_idle_session_times_out(app, factory, monkeypatch):
    import time as time_module

    factory.user("dispatcher", username="operator")
    client = app.test_client()
    page_sign_in(client, "operator")
    assert client.get("/").status_code == 200
    idle = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    real = time_module.time
    # itsdangerous checks the cookie's age against the idle lifetime.
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: real() + idle + 5)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("lang,text", [("id", "Masuk"), ("en", "Sign in")])
def test_login_page_language(client, lang, text):
    html = client.get(f"/login?lang={lang}").get_data(as_text=True)
    assert f"<h1>{text}</h1>" in html


def test_language_switch_is_kept(client, factory):
    factory.user("dispatcher", username="operator")
    page_sign_in(client, "operator")
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/lang/en", data={"csrf_token": token, "next": "/reports/"})
    assert factory.events("user.locale_changed")[0].data == {"locale": "en"}
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


def test_reports_page_for_supervisors(client, factory):
    factory.user("supervisor", username="kaspkt")
    headers = factory.headers("dispatcher")
    for _ in range(2):  # a number is listed from its second prank call
        client.post(
            "/api/v1/tickets",
            json={"channel": "phone", "category": "prank", "caller": {"phone": "0811-48-2000"}},
            headers=headers,
        )
    page_sign_in(client, "kaspkt")
    html = client.get("/reports/").get_data(as_text=True)
    assert "Panggilan iseng" in html
    assert "0811-482-000" in html


def test_open_redirect_is_refused(client, factory):
    factory.user("dispatcher", username="operator")
    token = csrf_from(client.get("/login?next=https://evil.example/").get_data(as_text=True))
    response = client.post(
        "/login?next=https://evil.example/",
        data={"username": "operator", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_the_live_stream_does_not_keep_an_idle_session_alive(client, factory):
    factory.user("dispatcher", username="operator")
    page_sign_in(client, "operator")
    active = client.get("/api/v1/tickets")
    assert any(c.startswith("cc110_session=") for c in active.headers.getlist("Set-Cookie"))
    stream = client.get("/api/v1/events/stream", buffered=False)
    assert stream.status_code == 200
    assert stream.headers.getlist("Set-Cookie") == []
    stream.close()
