"""Which automatic updates reporters get: a supervisor switches each on or off on the
console; until one does, ``CALLCENTER_WA_AUTO_ACK``, ``_AUTO_EN_ROUTE`` and ``_AUTO_CLOSED``
decide. Every change is audited (``wa.settings_changed``)."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import User, WaSetting
from .. import clock, events, sql
from ..errors import Forbidden, ValidationError
from ..validation import Errors, unknown_fields

# name -> the setting that decides until a supervisor switches it
AUTO = {
    "ack": "CALLCENTER_WA_AUTO_ACK",
    "en_route": "CALLCENTER_WA_AUTO_EN_ROUTE",
    "closed": "CALLCENTER_WA_AUTO_CLOSED",
}
CHANGERS = ("supervisor", "admin")


def auto() -> dict[str, bool]:
    """``{ack, en_route, closed}``: each automatic update on or off, now."""
    values = {name: bool(current_app.config[key]) for name, key in AUTO.items()}
    for row in db.session.scalars(db.select(WaSetting).where(WaSetting.name.in_(AUTO))):
        values[row.name] = row.enabled
    return values


def auto_on(name: str) -> bool:
    row = db.session.get(WaSetting, name)
    return row.enabled if row is not None else bool(current_app.config[AUTO[name]])


def set_auto(data: dict, *, actor: User) -> dict[str, bool]:
    """Switch automatic updates: ``{ack?, en_route?, closed?}`` (true or false)."""
    if actor.role not in CHANGERS:
        raise Forbidden(_l("Only a supervisor may switch the automatic updates."))
    errors = Errors()
    if not isinstance(data, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    unknown_fields(data, set(AUTO), errors)
    for name, value in data.items():
        if name in AUTO and not isinstance(value, bool):
            errors.add(name, _l("Must be true or false."))
    if not errors and not data:
        errors.add("ack", _l("Give at least one of: %(choices)s.", choices=", ".join(AUTO)))
    if errors:
        raise ValidationError(_l("The automatic updates were not changed."), fields=errors)
    before = auto()
    changes = {}
    now = clock.now()
    for name, value in data.items():
        sql.insert_ignore(WaSetting, {"name": name, "enabled": before[name], "changed_at": now})
        row = db.session.scalars(
            db.select(WaSetting)
            .where(WaSetting.name == name)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if row.enabled != value:
            changes[name] = [row.enabled, value]
        row.enabled = value
        row.changed_by_id = actor.id
        row.changed_at = now
    if not changes:
        db.session.rollback()
        return auto()
    events.record("wa.settings_changed", actor=actor, data={"changes": changes})
    db.session.commit()
    return auto()
