"""The agency catalog's local settings: the number a dispatcher calls for each agency
(Damkar, PSC 119, BPBD, a neighbouring Polres, ...) and whether it is offered for hand-offs.

The catalog itself comes with the migrations; each center enters its own numbers here.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Agency, User
from . import events, phones
from .errors import NotFound, ValidationError
from .validation import Errors, optional_text, unknown_fields

# A national short number (113 fire, 119 ambulance, 1500-xxx call centers): kept as dialled.
SHORT_NUMBER_RE = re.compile(r"^1\d{2,6}$")


def all_agencies() -> list[Agency]:
    """Every agency of the catalog, in its order, those taken out of service too."""
    return list(db.session.scalars(db.select(Agency).order_by(Agency.sort_order, Agency.id)))


def phone_value(raw, errors: Errors) -> str | None:
    """A short number as its digits, any other number in E.164; empty: no number."""
    text = optional_text(raw, "phone", errors, 40)
    if not text:
        return None
    digits = re.sub(r"[\s\-.()]", "", text)
    if SHORT_NUMBER_RE.match(digits):
        return digits
    phone = phones.normalise(text)
    if phone is None:
        errors.add("phone", _l("A short number (113) or an Indonesian phone number."))
    return phone


def update(code: str, data: dict, *, actor: User) -> Agency:
    """Change an agency's ``phone`` (null or empty: not known) and whether it is ``active``
    (offered for hand-offs; its past hand-offs stay). Commits with ``agency.updated``
    naming what changed; nothing changed records nothing."""
    errors = Errors()
    unknown_fields(data, {"phone", "active"}, errors)
    values = {}
    if "phone" in data:
        values["phone"] = phone_value(data["phone"], errors)
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors.add("active", _l("Must be true or false."))
        values["active"] = data["active"]
    agency = db.session.scalars(
        db.select(Agency).where(Agency.code == str(code).strip().lower()).with_for_update()
    ).one_or_none()
    if agency is None:
        db.session.rollback()
        raise NotFound(_l("No such agency."))
    if errors:
        db.session.rollback()
        raise ValidationError(_l("The agency was not changed."), fields=errors)
    changes = events.apply_changes(agency, values)
    if changes:
        events.record(
            "agency.updated",
            actor=actor,
            data={
                "agency_id": agency.id,
                "agency": agency.code,
                "agency_name": agency.name_id,
                "changes": changes,
            },
        )
    db.session.commit()
    return agency
