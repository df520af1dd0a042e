"""What the administration pages share: running a service from a form, and the roles."""

from __future__ import annotations

from flask import flash, redirect

from ..services.errors import ServiceError

READERS = ("admin", "supervisor")


def text(form, name: str) -> str | None:
    """A form field, stripped; None when empty."""
    value = (form.get(name) or "").strip()
    return value or None


def number(form, name: str):
    """A whole number from a form field, as the API would receive it (strings that are not
    numbers are passed on for the service to refuse)."""
    value = text(form, name)
    if value is None:
        return None
    return int(value) if value.lstrip("-").isdigit() else value


def attempt(action, done: str, back: str):
    """Run ``action``; flash ``done`` on success or the service's message and field errors,
    and go back to ``back``."""
    try:
        action()
    except ServiceError as exc:
        flash_error(exc)
    else:
        flash(done)
    return redirect(back)


def flash_error(exc: ServiceError) -> None:
    details = "; ".join(f"{k}: {v}" for k, v in (exc.fields or {}).items())
    flash(f"{exc.message} {details}".strip() if details else str(exc.message), "error")
