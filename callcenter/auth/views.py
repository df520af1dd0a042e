"""Sign-in and sign-out pages, and the language switch."""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..extensions import limiter
from ..services import accounts, sessions
from ..services.errors import ServiceError
from . import bp


class SignInForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=256)])


def home_for(user) -> str:
    if user.role == "unit":
        return url_for("mdt.index")
    return url_for("console.index")


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: _login_rate(), methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        try:
            user = sessions.authenticate(
                form.username.data, form.password.data, remote_addr=request.remote_addr, via="page"
            )
        except ServiceError as exc:
            error = str(exc.message)
        else:
            session.clear()
            login_user(user)
            session["sv"] = user.session_version  # revoked when the version moves on
            session["t0"] = int(time.time())  # the absolute lifetime counts from here
            # Names this sign-in: signing out ends the live streams it opened.
            session["sid"] = secrets.token_urlsafe(12)
            session.permanent = True  # idle timeout: PERMANENT_SESSION_LIFETIME, refreshed
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
    elif request.method == "POST":
        error = _("Enter your username and password.")
    status = 401 if error and request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error), status


def _login_rate() -> str:
    from flask import current_app

    return current_app.config["CALLCENTER_LOGIN_RATE"]


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.record_sign_out(current_user, session_id=session.get("sid"))
    logout_user()
    session.clear()
    flash(_("You are signed out."))
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Switch the page language; a signed-in user keeps the choice."""
    if current_user.is_authenticated:
        try:
            accounts.set_locale(current_user, code)
        except ServiceError as exc:
            flash(str(exc.message))
    elif code in ("id", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")) or url_for("auth.login"))
