"""Sign-in for people (session pages) and devices (bearer tokens), and role checks."""

from __future__ import annotations

import time

from flask import Blueprint, g, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface

from ..extensions import csrf, db, login_manager
from ..models import User
from ..services import sessions

bp = Blueprint("auth", __name__)


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header, if the request has one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


@login_manager.user_loader
def _load_session_user(user_id: str) -> User | None:
    # A request that presents a token is judged by its token alone, never by a cookie.
    if bearer_token() is not None:
        return None
    user = db.session.get(User, int(user_id))
    if user is None:
        return None
    # Revoked server-side (sign-out, deactivation, password reset) or past its absolute
    # lifetime: the cookie, wherever it was copied to, no longer signs anyone in.
    if not sessions.session_valid(user, session.get("sv"), session.get("t0"), time.time()):
        return None
    return user


@login_manager.request_loader
def _load_token_user(req) -> User | None:
    token = bearer_token()
    if token is None:
        return None
    found = sessions.user_for_token(token)
    if found is None:
        return None
    g.api_token = token
    g.api_token_id = found[1].id  # live streams end when this token is revoked
    return found[0]


class SessionInterface(SecureCookieSessionInterface):
    """Session cookies are Secure whenever the request came over HTTPS, never set for
    token-authenticated API calls, and not refreshed by passive requests (a live stream
    reconnecting by itself is not a person at the screen, so the idle timeout still runs)."""

    def get_cookie_secure(self, app) -> bool:
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        return has_request_context() and request.is_secure

    def should_set_cookie(self, app, session_) -> bool:
        if has_request_context() and (bearer_token() is not None or g.get("passive")):
            return False
        return super().should_set_cookie(app, session_)


def _csrf_guard():
    """CSRF applies to everything a browser session can do. API calls that carry a bearer
    token (which a foreign site cannot make a browser send), and API calls without any
    session, are exempt; the token endpoint checks a password instead."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.url_rule is None:
        return  # no route matched: the answer is a 404 or 405 and nothing runs
    if request.blueprint == "webhooks":
        return  # signed by the sender (HMAC of the body), never sent with a session
    if request.blueprint == "api" and (bearer_token() is not None or "_user_id" not in session):
        return
    csrf.protect()


def init_app(app) -> None:
    login_manager.login_view = "auth.login"
    # Flask-Login's "strong" protection threw away any session without its fingerprint,
    # which also made a bearer-token call from a browser holding a not-signed-in cookie
    # answer 401, and it ends sessions when a phone changes networks. Sessions are
    # instead revoked server-side (the user's session version) and have an absolute lifetime.
    login_manager.session_protection = None
    app.session_interface = SessionInterface()
    app.before_request(_csrf_guard)


from . import views  # noqa: E402,F401  (routes register on bp)
