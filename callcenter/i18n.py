"""Language and time zone of the person in front of the screen."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_login import current_user


def select_locale() -> str:
    """An explicit choice wins (the user's setting, then ``?lang=`` for the session);
    API clients may ask with Accept-Language; everyone else gets Bahasa Indonesia."""
    languages = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if request.blueprint == "api":
        return request.accept_languages.best_match(languages) or default
    return default


def select_timezone() -> str:
    return "Asia/Jakarta"


def _remember_language() -> None:
    """``?lang=en`` on any page switches the language for this browser session."""
    lang = request.args.get("lang")
    if lang in current_app.config["LANGUAGES"] and request.blueprint != "api":
        session["lang"] = lang


def init_app(app) -> None:
    app.before_request(_remember_language)
