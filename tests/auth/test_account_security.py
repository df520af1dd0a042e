"""Accounts that can be trusted: lockout per name and address with a growing delay,
sessions revoked server-side with an absolute lifetime, password rules, security headers,
and no demo accounts in production."""

from datetime import timedelta

import pytest

from callcenter.extensions import db
from callcenter.models import SignInThrottle, User
from callcenter.services import accounts, clock
from tests.auth.test_pages import csrf_from, page_sign_in
from tests.helpers import PASSWORD


def sign_in(client, username, password, addr="127.0.0.1"):
    return client.post(
        "/api/v1/auth/tokens",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": addr},
    )


def test_a_stranger_elsewhere_cannot_lock_a_user_out(client, factory):
    factory.user("dispatcher", username="andi")
    for _ in range(8):
        sign_in(client, "andi", "wrong-password", addr="203.0.113.9")
    assert sign_in(client, "andi", PASSWORD, addr="203.0.113.9").status_code == 429
    # From the dispatcher's own desk the right password still works.
    assert sign_in(client, "andi", PASSWORD, addr="10.1.1.20").status_code == 201
    # The page too.
    response = page_sign_in(client, "andi")
    assert response.status_code == 302


def test_the_delay_grows_with_every_further_failure(client, factory, app):
    factory.user("dispatcher", username="rina")
    codes = [sign_in(client, "rina", "wrong-password").status_code for _ in range(5)]
    assert codes == [401, 401, 401, 401, 429]

    def remaining():
        with app.app_context():
            row = db.session.get(SignInThrottle, ("rina", "127.0.0.1"))
            left = (row.locked_until - clock.now()).total_seconds()
            row.locked_until = clock.now() - timedelta(seconds=1)  # let the delay pass
            db.session.commit()
            db.session.remove()
            return left

    assert 590 < remaining() <= 600
    assert sign_in(client, "rina", "wrong-password").status_code == 429
    assert 1190 < remaining() <= 1200
    assert sign_in(client, "rina", "wrong-password").status_code == 429
    assert 2390 < remaining() <= 2400
    # The right password, once the delay has passed, works and forgets the failures.
    assert sign_in(client, "rina", PASSWORD).status_code == 201
    assert [sign_in(client, "rina", "wrong").status_code for _ in range(4)] == [401] * 4


def test_old_failures_are_forgotten(client, factory, app):
    factory.user("dispatcher", username="tono")
    for _ in range(4):
        sign_in(client, "tono", "wrong-password")
    with app.app_context():
        row = db.session.get(SignInThrottle, ("tono", "127.0.0.1"))
        row.last_failure_at = clock.now() - timedelta(days=2)
        db.session.commit()
        db.session.remove()
    assert sign_in(client, "tono", "wrong-password").status_code == 401


def test_a_bearer_call_from_a_browser_with_a_cookie_but_no_sign_in_works(client, factory):
    client.get("/login")  # the sign-in page puts a CSRF token in the session cookie
    client.post("/lang/en")  # and the language choice
    headers = factory.headers("dispatcher")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200


def test_a_copied_session_cookie_stops_working_after_sign_out(app, factory):
    factory.user("dispatcher", username="operator")
    browser = app.test_client()
    page_sign_in(browser, "operator")
    cookie = browser.get_cookie("cc110_session").value
    thief = app.test_client()
    thief.set_cookie("cc110_session", cookie)
    assert thief.get("/").status_code == 200
    token = csrf_from(browser.get("/").get_data(as_text=True))
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    assert thief.get("/").status_code == 302
    assert thief.get("/api/v1/auth/me").status_code == 401
    # Signing in again gives a new session that works.
    page_sign_in(browser, "operator")
    assert browser.get("/").status_code == 200
    assert thief.get("/").status_code == 302


def test_sessions_have_an_absolute_lifetime(app, factory):
    factory.user("dispatcher", username="operator")
    client = app.test_client()
    page_sign_in(client, "operator")
    hours = app.config["CALLCENTER_SESSION_MAX_H"]
    # Active all along (the idle timeout never ran out), but the shift is over.
    with client.session_transaction() as sess:
        sess["t0"] -= hours * 3600 - 60
    assert client.get("/").status_code == 200
    with client.session_transaction() as sess:
        sess["t0"] -= 61
    assert client.get("/").status_code == 302


def test_deactivation_and_password_reset_end_sessions_and_tokens(app, factory):
    admin = factory.user("admin", username="boss")
    for action in ("deactivate", "reset"):
        user = factory.user("dispatcher")
        browser = app.test_client()
        page_sign_in(browser, user["username"])
        token = factory.token(user)
        bearer = {"Authorization": f"Bearer {token}"}
        assert browser.get("/").status_code == 200
        with app.app_context():
            target = db.session.get(User, user["id"])
            actor = db.session.get(User, admin["id"])
            if action == "deactivate":
                accounts.set_active(target, False, actor=actor)
            else:
                accounts.reset_password(target, "a-brand-new-secret-1", actor=actor)
            db.session.remove()
        assert browser.get("/").status_code == 302, action
        assert browser.get("/api/v1/auth/me", headers=bearer).status_code == 401, action


@pytest.mark.parametrize(
    "password,ok",
    [
        ("short-pw1", False),  # 9 characters
        ("long-pw-10", True),
        ("1234567890", False),  # common
        ("Password1234", False),  # common, whatever the case
        ("qwertyuiop", False),
        ("x" * 257, False),
        ("newoperator", False),  # the username
    ],
)
def test_password_rules(client, factory, password, ok):
    headers = factory.headers("admin")
    response = client.post(
        "/api/v1/users",
        headers=headers,
        json={"username": "newoperator", "password": password, "role": "dispatcher"},
    )
    assert response.status_code == (201 if ok else 422), response.get_json()
    if not ok:
        assert "password" in response.get_json()["error"]["fields"]


def test_security_headers_on_every_response(client, factory, app):
    for path in ("/login", "/api/v1/categories", "/static/css/app.css", "/no-such-page"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP
    secure = client.get("/login", base_url="https://cc.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_tile_server_is_allowed_when_set(app, client):
    app.config["CALLCENTER_TILE_URL"] = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    try:
        csp = client.get("/login").headers["Content-Security-Policy"]
    finally:
        app.config["CALLCENTER_TILE_URL"] = ""
    assert "img-src 'self' data: blob: https://*.tile.example.org" in csp


def test_session_cookie_secure_from_the_environment(monkeypatch):
    from flask import Flask

    from callcenter import config

    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("CALLCENTER_SESSION_MAX_H", "8")
    flask_app = Flask("probe")
    config.load(flask_app)
    assert flask_app.config["SESSION_COOKIE_SECURE"] is True
    assert flask_app.config["CALLCENTER_SESSION_MAX_H"] == 8.0


def test_seed_demo_refuses_in_production(app):
    runner = app.test_cli_runner()
    app.config["CALLCENTER_ENV"] = "production"
    try:
        with app.app_context():
            result = runner.invoke(args=["seed-demo"])
    finally:
        app.config["CALLCENTER_ENV"] = "development"
    assert result.exit_code != 0
    assert "production" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
        db.session.remove()
