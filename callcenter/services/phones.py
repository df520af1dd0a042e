"""Caller phone numbers, normalised to E.164 with Indonesia as the home region."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers


def normalise(raw: str) -> str | None:
    """The E.164 form of ``raw`` (``0811-48-2000`` -> ``+62811482000``), or None if invalid.

    ``62811...`` without the plus (how WhatsApp numbers are often written) is read as
    international: a national number is written with its leading 0.
    """
    stripped = raw.strip()
    if stripped[:2] == "62" and sum(ch.isdigit() for ch in stripped) >= 10:
        raw = "+" + stripped
    try:
        number = phonenumbers.parse(raw, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def display(e164: str | None) -> str:
    """A number as a person reads it: national form for Indonesian numbers (remembered:
    lists show the same numbers again and again)."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 62:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
