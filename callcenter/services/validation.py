"""Input checks shared by the services; every message is translatable."""

from __future__ import annotations

import math
from datetime import datetime

from flask_babel import lazy_gettext as _l

from . import geo


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class Errors(dict):
    """Field name -> message; the first message for a field wins."""

    def add(self, name: str, message) -> None:
        self.setdefault(name, message)


def unknown_fields(data: dict, allowed: set[str], errors: Errors, prefix: str = "") -> None:
    for name in sorted(set(data) - allowed):
        errors.add(prefix + name, _l("Unknown field."))


def require_object(value, name: str, errors: Errors) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add(name, _l("Must be an object."))
        return None
    return value


def optional_text(value, name: str, errors: Errors, max_len: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(name, _l("Must be text."))
        return None
    value = value.strip()
    if len(value) > max_len:
        errors.add(name, _l("At most %(n)s characters.", n=max_len))
        return None
    return value or None


# The largest id any table hands out (a 64-bit signed key); a larger one names nothing.
MAX_ID = 2**63 - 1


def is_id(value) -> bool:
    """A JSON value usable as a row id: a whole number in 1..MAX_ID (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def whole_number(raw: str | None, *, max_digits: int = 18) -> bool:
    """Text of ASCII digits only (``str.isdigit`` also takes ``²`` and other scripts'
    digits, which ``int`` refuses), short enough for a 64-bit column."""
    return bool(raw) and raw.isascii() and raw.isdigit() and len(raw) <= max_digits


def find_nul(value, path: str = "") -> str | None:
    """The path of the first text holding a NUL character in a JSON value, or None.
    PostgreSQL cannot store NUL in text, and no caller means one."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return inner
            found = find_nul(item, inner)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = find_nul(item, f"{path}[{i}]" if path else f"[{i}]")
            if found:
                return found
    return None


def integer(value, name: str, errors: Errors, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(name, _l("Must be a whole number from %(low)s to %(high)s.", low=low, high=high))
        return None
    if not low <= value <= high:
        errors.add(name, _l("Must be a whole number from %(low)s to %(high)s.", low=low, high=high))
        return None
    return value


def coordinates(
    lat, lon, errors: Errors, prefix: str = "", *, in_indonesia: bool = True
) -> tuple[float, float] | None:
    """Checked ``(lat, lon)``: numbers in range and, by default, inside Indonesia."""
    ok = True
    for name, value, limit in (("lat", lat, 90), ("lon", lon, 180)):
        if value is None:
            errors.add(prefix + name, _l("Required."))
            ok = False
        elif not is_number(value) or not -limit <= value <= limit:
            errors.add(prefix + name, _l("Must be a number from -%(n)s to %(n)s.", n=limit))
            ok = False
    if not ok:
        return None
    if in_indonesia and not geo.in_indonesia(lat, lon):
        errors.add(prefix + "lat", _l("This location is outside Indonesia."))
        errors.add(prefix + "lon", _l("This location is outside Indonesia."))
        return None
    return float(lat), float(lon)


def parse_time(value, name: str, errors: Errors) -> datetime | None:
    """An ISO 8601 time with its offset (``Z`` too), as an aware datetime; None if absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(name, _l("An ISO 8601 time with its offset."))
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.add(name, _l("An ISO 8601 time with its offset."))
        return None
    if moment.tzinfo is None:
        errors.add(name, _l("An ISO 8601 time with its offset."))
        return None
    return moment
