"""Template helpers: WIB times, the page language, error pages."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l

# The API's words for an error that no view described (werkzeug's are English only).
_API_DEFAULTS = {
    403: _l("You may not do this."),
    404: _l("Nothing is at this address."),
    405: _l("This address does not take this method."),
    413: _l("The request is too large."),
    429: _l("Too many requests. Wait a moment."),
}


def wib(moment, fmt: str = "medium") -> str:
    """A UTC timestamp as people read it: in WIB, in the page's language."""
    if moment is None:
        return ""
    return format_datetime(moment, fmt) + " WIB"


def _described(exc, code: int):
    """The exception's own description, or ours when it carries werkzeug's default."""
    description = getattr(exc, "description", "")
    if description == getattr(type(exc), "description", None) and code in _API_DEFAULTS:
        return _API_DEFAULTS[code]
    return description


def duration(seconds) -> str:
    """An age or a wait as people read it: ``45 s``, ``12 min``, ``3 h 5 min``."""
    seconds = max(0, int(seconds or 0))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _error_page(code: int):
    def handler(exc):
        if request.blueprint == "api" or request.path.startswith("/api/"):
            from .api import error_response

            return error_response(
                code,
                {
                    404: "not_found",
                    405: "method_not_allowed",
                    403: "forbidden",
                    413: "payload_too_large",
                    429: "rate_limited",
                }.get(code, "error"),
                _described(exc, code),
            )
        return render_template("errors/error.html", code=code), code

    return handler


def category_label(code: str) -> str:
    from .services import catalog

    return catalog.label(code, str(get_locale() or "id"))


def init_app(app) -> None:
    from .services import phones

    app.add_template_filter(wib, "wib")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(category_label, "category_label")
    app.add_template_filter(phones.display, "phone")
    app.add_template_global(lambda: str(get_locale() or "id"), "current_locale")
    for code in (403, 404, 405, 413, 429):
        app.register_error_handler(code, _error_page(code))
