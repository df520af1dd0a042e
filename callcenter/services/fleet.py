"""Administration of the fleet: units (register, edit, retire, the crew on duty) and Polsek
sectors."""

from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Sector, Unit, UnitShift, User
from ..models.unit import BUSY_STATUSES, UNIT_KINDS
from . import accounts, clock, events, phones, sql, state
from .errors import Conflict, NotFound, ValidationError
from .validation import Errors, coordinates, integer, optional_text, parse_time, unknown_fields

CALLSIGN_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")  # also a sector's code
NRP_RE = re.compile(r"^\d{8}$")  # a Polri officer's registration number
MAX_OFFICERS = 6
MAX_SHIFT_H = 24


def _sector_ref(ref, errors: Errors) -> Sector | None:
    sector = None
    if isinstance(ref, int) and not isinstance(ref, bool):
        sector = db.session.get(Sector, ref)
    elif isinstance(ref, str):
        sector = db.session.scalars(
            db.select(Sector).where(
                db.or_(Sector.code == ref.strip().upper(), Sector.name == ref.strip())
            )
        ).one_or_none()
    if sector is None:
        errors.add("sector", _l("No such sector."))
    return sector


def _unit_values(data: dict, errors: Errors, *, creating: bool) -> dict:
    """The fields of a unit in ``data`` (all of them when ``creating``), checked; a bad one is
    named in ``errors``."""
    unknown_fields(data, {"callsign", "name", "kind", "sector"}, errors)
    values = {}
    if creating or "callsign" in data:
        callsign = data.get("callsign")
        callsign = callsign.strip().upper() if isinstance(callsign, str) else ""
        if not CALLSIGN_RE.match(callsign):
            errors.add("callsign", _l("2-32 characters: letters, digits and dashes."))
        values["callsign"] = callsign
    if creating or "name" in data:
        name = optional_text(data.get("name"), "name", errors, 120)
        if not name and "name" not in errors:
            errors.add("name", _l("Required."))
        values["name"] = name
    if creating or "kind" in data:
        kind = data.get("kind", "car")
        if kind not in UNIT_KINDS:
            errors.add("kind", _l("One of: %(choices)s.", choices=", ".join(UNIT_KINDS)))
        values["kind"] = kind
    if "sector" in data:
        ref = data["sector"]
        values["sector_id"] = (
            None if ref in (None, "") else getattr(_sector_ref(ref, errors), "id", None)
        )
    return values


def _callsign_taken() -> dict:
    return {"callsign": _l("This callsign is taken.")}


def _code_taken() -> dict:
    return {"code": _l("This code is taken.")}


def create_unit(data: dict, *, actor: User | None = None) -> Unit:
    """Register a unit from ``{callsign, name, sector?, kind?}`` (the sector by id, code or
    name); it starts off duty. Commits with one ``unit.created`` event."""
    errors = Errors()
    values = _unit_values(data, errors, creating=True)
    if errors:
        raise ValidationError(_l("The unit was not created."), fields=errors)
    unit = Unit(**values, status="off_duty")
    db.session.add(unit)
    sql.flush_unique(_l("The unit was not created."), _callsign_taken())
    events.record(
        "unit.created",
        unit=unit,
        actor=actor,
        data={
            "callsign": unit.callsign,
            "name": unit.name,
            "kind": unit.kind,
            "sector": unit.sector.code if unit.sector else None,
        },
    )
    db.session.commit()
    return unit


def update_unit(unit: Unit, data: dict, *, actor: User) -> Unit:
    """Change a unit's ``callsign``, ``name``, ``kind`` or ``sector`` (id, code or name;
    null for none); commits with one ``unit.updated`` event naming what changed."""
    errors = Errors()
    values = _unit_values(data, errors, creating=False)
    if errors:
        raise ValidationError(_l("The unit was not changed."), fields=errors)
    if unit.retired_at is not None:
        raise Conflict(_l("This unit is retired."), code="unit_retired")
    changes = events.apply_changes(unit, values)
    if not changes:
        return unit
    sql.flush_unique(_l("The unit was not changed."), _callsign_taken())
    events.record(
        "unit.updated",
        unit=unit,
        actor=actor,
        data={"callsign": unit.callsign, "changes": changes},
    )
    db.session.commit()
    db.session.refresh(unit)
    return unit


def retire_unit(unit_id: int, *, actor: User) -> Unit:
    """Take a unit out of service for good: off duty, never routed again, its sign-ins
    deactivated (their tokens, sessions and streams end). Refused (409) while the unit is on
    a job. Its history stays. Commits with ``unit.retired``."""
    unit = state.lock_unit(unit_id)
    if unit is None:
        raise NotFound(_l("No such unit."))
    if unit.retired_at is not None:
        return unit
    if unit.status in BUSY_STATUSES:
        raise Conflict(
            _l("This unit is on a job. Release it from the job first."), code="unit_busy"
        )
    state.set_unit_status(unit, "off_duty", actor=actor, reason="retired")
    unit.retired_at = clock.now()
    members = list(db.session.scalars(db.select(User).where(User.unit_id == unit.id)))
    events.record(
        "unit.retired",
        unit=unit,
        actor=actor,
        data={"callsign": unit.callsign, "users": [u.username for u in members]},
    )
    for member in members:
        if member.is_active_flag:
            accounts.deactivate(member, actor=actor)
    db.session.commit()
    return unit


def _officers(value, errors: Errors) -> list[dict]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_OFFICERS:
        errors.add("officers", _l("From 1 to %(n)s officers.", n=MAX_OFFICERS))
        return []
    officers, seen = [], set()
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            errors.add(f"officers.{n}", _l("Give a name and an NRP."))
            continue
        unknown_fields(item, {"name", "nrp"}, errors, f"officers.{n}.")
        name = optional_text(item.get("name"), f"officers.{n}.name", errors, 120)
        if not name or len(name) < 2:
            errors.add(f"officers.{n}.name", _l("Required."))
        nrp = item.get("nrp")
        nrp = re.sub(r"\s", "", nrp) if isinstance(nrp, str) else ""
        if not NRP_RE.match(nrp):
            errors.add(f"officers.{n}.nrp", _l("An NRP has 8 digits."))
        elif nrp in seen:
            errors.add(f"officers.{n}.nrp", _l("This officer is listed twice."))
        seen.add(nrp)
        officers.append({"name": name, "nrp": nrp})
    return officers


def set_crew(unit: Unit, data: dict, *, actor: User) -> UnitShift:
    """Set the crew on duty in ``unit`` for a shift: ``{officers: [{name, nrp}],
    starts_at?, hours?}`` (from now, 12 hours, by default). A later shift that overlaps
    takes over from the earlier one. Commits with ``unit.crew_set``."""
    errors = Errors()
    unknown_fields(data, {"officers", "starts_at", "hours"}, errors)
    officers = _officers(data.get("officers"), errors)
    now = clock.now()
    starts_at = parse_time(data.get("starts_at"), "starts_at", errors) or now
    hours = data.get("hours", 12)
    hours = integer(hours, "hours", errors, 1, MAX_SHIFT_H)
    if starts_at < now - timedelta(hours=MAX_SHIFT_H) and "starts_at" not in errors:
        errors.add("starts_at", _l("A shift cannot start more than a day ago."))
    if errors:
        raise ValidationError(_l("The crew was not saved."), fields=errors)
    if unit.retired_at is not None:
        raise Conflict(_l("This unit is retired."), code="unit_retired")
    shift = UnitShift(
        unit_id=unit.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        officers=officers,
        created_by_id=actor.id,
    )
    db.session.add(shift)
    events.record(
        "unit.crew_set",
        unit=unit,
        actor=actor,
        data={
            "callsign": unit.callsign,
            "officers": officers,
            "starts_at": shift.starts_at.isoformat(),
            "ends_at": shift.ends_at.isoformat(),
        },
    )
    db.session.commit()
    return shift


def current_crews(unit_ids=None) -> dict[int, UnitShift]:
    """Each unit's shift on duty now (the latest to start, of those under way)."""
    now = clock.now()
    query = (
        db.select(UnitShift)
        .where(UnitShift.starts_at <= now, UnitShift.ends_at > now)
        .order_by(UnitShift.unit_id, UnitShift.starts_at, UnitShift.id)
    )
    if unit_ids is not None:
        query = query.where(UnitShift.unit_id.in_(list(unit_ids)))
    crews = {}
    for shift in db.session.scalars(query):
        crews[shift.unit_id] = shift  # the last one per unit wins
    return crews


def shifts(unit_id: int, limit: int = 20) -> list[UnitShift]:
    return list(
        db.session.scalars(
            db.select(UnitShift)
            .where(UnitShift.unit_id == unit_id)
            .order_by(UnitShift.starts_at.desc(), UnitShift.id.desc())
            .limit(limit)
        )
    )


def list_units(*, include_retired: bool = True) -> list[Unit]:
    query = db.select(Unit).order_by(Unit.retired_at.is_not(None), Unit.callsign)
    if not include_retired:
        query = query.where(Unit.retired_at.is_(None))
    return list(db.session.scalars(query))


def _sector_values(data: dict, errors: Errors, *, creating: bool) -> dict:
    unknown_fields(data, {"code", "name", "lat", "lon", "phone"}, errors)
    values = {}
    if creating or "code" in data:
        code = data.get("code")
        code = code.strip().upper() if isinstance(code, str) else ""
        if not CALLSIGN_RE.match(code):
            errors.add("code", _l("2-32 characters: letters, digits and dashes."))
        values["code"] = code
    if creating or "name" in data:
        name = optional_text(data.get("name"), "name", errors, 120)
        if not name and "name" not in errors:
            errors.add("name", _l("Required."))
        values["name"] = name
    if "lat" in data or "lon" in data:
        if data.get("lat") is None and data.get("lon") is None:
            values["lat"] = values["lon"] = None
        else:
            point = coordinates(data.get("lat"), data.get("lon"), errors)
            if point:
                values["lat"], values["lon"] = point
    if "phone" in data:
        raw = optional_text(data.get("phone"), "phone", errors, 40)
        phone = phones.normalise(raw) if raw else None
        if raw and phone is None:
            errors.add("phone", _l("Not a valid Indonesian phone number."))
        values["phone"] = phone
    return values


def create_sector(data: dict, *, actor: User) -> Sector:
    """A new Polsek sector ``{code, name, lat?, lon?, phone?}``; commits with its event."""
    errors = Errors()
    values = _sector_values(data, errors, creating=True)
    if errors:
        raise ValidationError(_l("The sector was not created."), fields=errors)
    sector = Sector(**values)
    db.session.add(sector)
    sql.flush_unique(_l("The sector was not created."), _code_taken())
    events.record("sector.created", actor=actor, data={"sector_id": sector.id, **values})
    db.session.commit()
    return sector


def update_sector(sector_id: int, data: dict, *, actor: User) -> Sector:
    """Change a sector's name, station position or phone; commits with ``sector.updated``."""
    sector = db.session.get(Sector, sector_id)
    if sector is None:
        raise NotFound(_l("No such sector."))
    errors = Errors()
    values = _sector_values(data, errors, creating=False)
    if errors:
        raise ValidationError(_l("The sector was not changed."), fields=errors)
    changes = events.apply_changes(sector, values)
    sql.flush_unique(_l("The sector was not changed."), _code_taken())
    if changes:
        events.record(
            "sector.updated",
            actor=actor,
            data={"sector_id": sector.id, "code": sector.code, "changes": changes},
        )
    db.session.commit()
    return sector
