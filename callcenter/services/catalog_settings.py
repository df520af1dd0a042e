"""The center's own defaults for the catalog's categories: the priority and the number of
units a new ticket of that category gets, unless the dispatcher chooses otherwise."""

from __future__ import annotations

from dataclasses import replace

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import CategorySetting, User
from ..models.ticket import MAX_UNITS
from . import catalog, clock, events
from .errors import NotFound, ValidationError
from .validation import Errors, integer, unknown_fields


def _overlay(category: catalog.Category, setting: CategorySetting | None) -> catalog.Category:
    if setting is None:
        return category
    changes = {}
    if setting.default_priority is not None:
        changes["default_priority"] = setting.default_priority
    if setting.default_units is not None and category.dispatch:
        changes["default_units"] = setting.default_units
    return replace(category, **changes) if changes else category


def get(code: str) -> catalog.Category | None:
    """The category ``code`` with the center's defaults applied, or None if unknown."""
    category = catalog.get(code)
    if category is None:
        return None
    return _overlay(category, db.session.get(CategorySetting, code))


def categories() -> list[catalog.Category]:
    """Every category of the catalog, in its order, with the center's defaults applied."""
    settings = {s.code: s for s in db.session.scalars(db.select(CategorySetting))}
    return [_overlay(c, settings.get(c.code)) for c in catalog.CATEGORIES]


def editable(category: catalog.Category) -> bool:
    """Only categories a dispatcher logs and that send units have defaults to tune."""
    return category.dispatch and category.intake


def update(code: str, data: dict, *, actor: User) -> catalog.Category:
    """Set ``default_priority`` (1-4) and/or ``default_units`` (1-10) of a category; null
    restores the catalog's own value. Commits with ``category.updated``."""
    base = catalog.get(code)
    if base is None:
        raise NotFound(_l("No such category."))
    errors = Errors()
    unknown_fields(data, {"default_priority", "default_units"}, errors)
    values = {}
    if "default_priority" in data:
        raw = data["default_priority"]
        values["default_priority"] = (
            None if raw is None else integer(raw, "default_priority", errors, 1, 4)
        )
    if "default_units" in data:
        raw = data["default_units"]
        values["default_units"] = (
            None if raw is None else integer(raw, "default_units", errors, 1, MAX_UNITS)
        )
    if not editable(base):
        errors.add("category", _l("Choose a category that sends a unit."))
    if errors:
        raise ValidationError(_l("The category was not changed."), fields=errors)
    setting = db.session.get(CategorySetting, code, with_for_update=True)
    before = _overlay(base, setting)
    if setting is None:
        setting = CategorySetting(code=code)
        db.session.add(setting)
    for name, value in values.items():
        setattr(setting, name, value)
    setting.updated_at = clock.now()
    setting.updated_by_id = actor.id
    after = _overlay(base, setting)
    events.record(
        "category.updated",
        actor=actor,
        data={
            "code": code,
            "from": _defaults(before),
            "to": _defaults(after),
        },
    )
    db.session.commit()
    return after


def _defaults(category: catalog.Category) -> dict:
    return {"default_priority": category.default_priority, "default_units": category.default_units}
