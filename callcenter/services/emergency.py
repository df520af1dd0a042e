"""An officer in danger: the emergency button on the unit's screen, the alarm every console
shows until a dispatcher acknowledges it, and the end of the emergency.

A press makes (or, while one is open, re-uses) a priority-1 ticket "Petugas butuh bantuan"
at the unit's position, channel ``panic_button``, needing ``CALLCENTER_EMERGENCY_UNITS``
units. It is routed in the same transaction (the officer in danger is never offered it) and
escalated at once. It works whatever the unit is doing: mid-job, off duty, anything, and
it never fails on its input: a position it cannot use is set aside (and said so) for the
last known one. Two presses at once make one ticket: the database allows one open
emergency per unit.

While the emergency is open the unit's position reports move the ticket's location; a move
of ``CALLCENTER_EMERGENCY_FOLLOW_M`` metres or more is applied and audited (one
``ticket.updated`` event, with the old and new point); smaller moves only refresh the age
of the position. Every report is kept in the unit's breadcrumbs anyway.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Call, Emergency, Ticket, Unit, User
from ..models.ticket import MAX_UNITS
from . import catalog, clock, events, geo, incidents, intake, queue, routing, state
from .errors import Conflict, ValidationError
from .validation import Errors, coordinates, optional_text, parse_time, unknown_fields


def open_emergency(unit_id: int) -> Emergency | None:
    """The unit's open emergency, if it has one."""
    return db.session.scalars(
        db.select(Emergency).where(Emergency.unit_id == unit_id, Emergency.ended_at.is_(None))
    ).one_or_none()


def _lock(emergency_id: int) -> Emergency:
    return db.session.scalars(
        db.select(Emergency)
        .where(Emergency.id == emergency_id)
        .with_for_update(of=Emergency)
        .execution_options(populate_existing=True)
    ).one()


def _where(unit: Unit, data) -> tuple[float | None, float | None, datetime | None, dict]:
    """The point the press gives (and when it was measured), else the unit's last known.

    The button never fails on its input: a position it cannot use is set aside (and named
    in the last item, field -> why) and the last known one is used instead."""
    errors = Errors()
    data = data if isinstance(data, dict) else {}
    unknown_fields(data, {"lat", "lon", "recorded_at"}, errors)
    point = None
    if "lat" in data or "lon" in data:
        point = coordinates(data.get("lat"), data.get("lon"), errors)
    recorded_at = parse_time(data.get("recorded_at"), "recorded_at", errors)
    now = clock.now()
    if recorded_at is None or recorded_at > now:
        recorded_at = now  # a device clock ahead of ours would freeze the follow-up
    ignored = {name: str(message) for name, message in errors.items()}
    if point is not None:
        return point[0], point[1], recorded_at, ignored
    return unit.lat, unit.lon, unit.position_at, ignored


def _raise_alarm(
    emergency: Emergency, ticket: Ticket, unit: Unit, *, actor, repeat: bool, ignored=None
):
    emergency.raised_at = clock.now()
    emergency.acknowledged_at = None
    emergency.acknowledged_by_id = None
    events.record(
        "emergency.raised",
        ticket=ticket,
        unit=unit,
        actor=actor,
        data={
            "number": ticket.number,
            "emergency_id": emergency.id,
            "callsign": unit.callsign,
            "lat": ticket.lat,
            "lon": ticket.lon,
            "located_at": emergency.located_at.isoformat() if emergency.located_at else None,
            "unit_status": unit.status,
            "repeat": repeat,
            "position_ignored": ignored or None,
        },
    )


def press(unit: Unit, data, *, actor: User) -> tuple[Ticket, bool, dict]:
    """The unit's emergency button: returns ``(ticket, created, ignored)``, ``ignored``
    naming the parts of the given position that could not be used (field -> why).

    With an emergency already open, the same ticket is returned; a press after a dispatcher
    acknowledged the alarm raises it again, and a given position moves the ticket.
    """
    lat, lon, located_at, ignored = _where(unit, data)
    existing = open_emergency(unit.id)
    if existing is not None:
        moved = "lat" in data and not ignored
        ticket = _press_again(existing, unit, data, moved, lat, lon, located_at, actor=actor)
        return ticket, False, ignored
    cfg = current_app.config
    now = clock.now()
    ticket = Ticket(
        number=intake.next_number(now),
        category=catalog.EMERGENCY,
        priority=1,
        units_needed=max(1, min(MAX_UNITS, cfg["CALLCENTER_EMERGENCY_UNITS"])),
        channel="panic_button",
        sector_id=intake.nearest_sector_id(lat, lon),
        caller_name=f"{unit.callsign} · {unit.name}"[:120],
        summary=f"{catalog.label(catalog.EMERGENCY)}: {unit.callsign} ({unit.name})",
        lat=lat,
        lon=lon,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        waiting_since=now,
    )
    db.session.add(ticket)
    db.session.flush()
    emergency = Emergency(ticket_id=ticket.id, unit_id=unit.id, raised_at=now)
    emergency.located_at = located_at
    db.session.add(emergency)
    try:
        db.session.flush()
    except IntegrityError:
        # Another press of this unit won the race: answer with its ticket.
        db.session.rollback()
        existing = open_emergency(unit.id)
        if existing is None:
            raise
        return db.session.get(Ticket, existing.ticket_id), False, ignored
    db.session.add(Call.opening(ticket, actor.id))
    events.record(
        "ticket.created",
        ticket=ticket,
        unit=unit,
        actor=actor,
        data={
            "number": ticket.number,
            "category": ticket.category,
            "priority": ticket.priority,
            "channel": ticket.channel,
            "units_needed": ticket.units_needed,
            "emergency": True,
        },
    )
    _raise_alarm(emergency, ticket, unit, actor=actor, repeat=False, ignored=ignored)
    routing.escalate(ticket, "officer_emergency", actor=actor)
    if ticket.lat is None:
        state.set_ticket_status(ticket, "queued", reason="no_location")
    else:
        routing.route_locked(ticket)
    db.session.commit()
    return ticket, True, ignored


def _press_again(emergency, unit, data, moved, lat, lon, located_at, *, actor) -> Ticket:
    ticket = state.lock_ticket(emergency.ticket_id)
    emergency = _lock(emergency.id)
    if emergency.ended_at is not None:  # ended in between: a fresh press is a new one
        db.session.rollback()
        return press(unit, data, actor=actor)[0]
    changed = False
    if moved and (lat, lon) != (ticket.lat, ticket.lon):
        _move(ticket, emergency, lat, lon, located_at, actor=actor, source="press")
        changed = True
    if emergency.acknowledged_at is not None:
        _raise_alarm(emergency, ticket, unit, actor=actor, repeat=True)
        changed = True
    if not changed:
        db.session.rollback()
        return ticket
    db.session.commit()
    return ticket


def _move(ticket, emergency, lat, lon, located_at, *, actor=None, source: str) -> None:
    """Move the emergency ticket to the unit's new point, audited; a ticket still without a
    location is routed now that it has one."""
    before = (ticket.lat, ticket.lon)
    ticket.lat, ticket.lon = lat, lon
    ticket.updated_at = clock.now()
    emergency.located_at = located_at
    events.record(
        "ticket.updated",
        ticket=ticket,
        unit=emergency.unit_id,
        actor=actor,
        data={
            "changes": {"lat": [before[0], lat], "lon": [before[1], lon]},
            "number": ticket.number,
            "source": source,
            "located_at": located_at.isoformat() if located_at else None,
        },
    )
    if before[0] is None:
        db.session.flush()
        routing.route_locked(ticket)


def follow_position(unit_id: int, lat: float, lon: float, recorded_at: datetime) -> None:
    """Called with a position report of a unit before it is applied (the ticket is locked
    first, in the lock order): moves the unit's open emergency, if any. Does not commit."""
    emergency = open_emergency(unit_id)
    if emergency is None:
        return
    ticket = state.lock_ticket(emergency.ticket_id)
    emergency = _lock(emergency.id)
    if emergency.ended_at is not None or (
        emergency.located_at is not None and emergency.located_at >= recorded_at
    ):
        return  # ended meanwhile, or an older report arriving late
    far = (
        ticket.lat is None
        or geo.haversine_m(ticket.lat, ticket.lon, lat, lon)
        >= (current_app.config["CALLCENTER_EMERGENCY_FOLLOW_M"])
    )
    if far:
        _move(ticket, emergency, lat, lon, recorded_at, source="position")
        if ticket.waiting_since is not None:
            queue.route_ticket_after_commit(ticket.id)
    else:
        emergency.located_at = recorded_at


def acknowledge(ticket_id: int, *, actor: User) -> Ticket:
    """A dispatcher or supervisor acknowledges the alarm of an open emergency (audited);
    acknowledging it again changes nothing."""
    ticket = incidents.open_ticket(ticket_id)
    emergency = db.session.scalars(
        db.select(Emergency)
        .where(Emergency.ticket_id == ticket.id)
        .with_for_update(of=Emergency)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if emergency is None:
        raise Conflict(_l("This ticket has no alarm."), code="no_alarm")
    if emergency.acknowledged_at is not None:
        db.session.rollback()
        return ticket
    now = clock.now()
    emergency.acknowledged_at = now
    emergency.acknowledged_by_id = actor.id
    events.record(
        "emergency.acknowledged",
        ticket=ticket,
        unit=emergency.unit_id,
        actor=actor,
        data={
            "number": ticket.number,
            "emergency_id": emergency.id,
            "callsign": emergency.unit.callsign,
            "after_s": round((now - emergency.raised_at).total_seconds(), 1),
        },
    )
    db.session.commit()
    return ticket


def end(unit: Unit, data: dict, *, actor: User) -> Ticket:
    """The officer ends their own emergency (the page asks for confirmation first), with a
    reason: the ticket is closed and every unit on it is freed."""
    errors = Errors()
    unknown_fields(data, {"reason"}, errors)
    reason = optional_text(data.get("reason"), "reason", errors, 300)
    if not reason and "reason" not in errors:
        errors.add("reason", _l("Required."))
    if errors:
        raise ValidationError(_l("The emergency was not ended."), fields=errors)
    emergency = open_emergency(unit.id)
    if emergency is None:
        raise Conflict(_l("You have no open emergency."), code="no_emergency")
    ticket = incidents.open_ticket(emergency.ticket_id)
    units = incidents.end_all(
        ticket, reason="emergency_ended", completed="emergency_ended", actor=actor
    )
    ticket.resolution = "handled"
    ticket.resolution_note = reason
    _, body = incidents.finish_data(
        units, {"resolution": "handled", "note": reason, "reason": reason, "by_unit": True}
    )
    state.finish_ticket(ticket, "closed", actor=actor, unit=unit, data=body)
    db.session.commit()
    return ticket
