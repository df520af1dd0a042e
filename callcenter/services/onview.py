"""An incident found on patrol: a unit starts a ticket from its own screen.

The ticket (channel ``on_view``) is at the unit's own position, the unit is on it at once
(accepted and at the scene: it is where the incident is), and the other slots it asks for
are routed in the same transaction. Its events put it on every console at once.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Assignment, Call, Ticket, Unit, User
from ..models.ticket import MAX_UNITS
from . import clock, events, incidents, intake, routing, slots, state
from .errors import Conflict, ValidationError
from .validation import Errors, integer, optional_text, unknown_fields


def _validate(data: dict) -> tuple:
    errors = Errors()
    unknown_fields(data, {"category", "summary", "units_needed"}, errors)
    category = incidents.dispatch_category(data.get("category"), errors)
    summary = optional_text(
        data.get("summary"), "summary", errors, current_app.config["CALLCENTER_SUMMARY_MAX"]
    )
    if not summary and "summary" not in errors:
        errors.add("summary", _l("Required."))
    units_needed = category.default_units if category else 1
    if data.get("units_needed") is not None:
        units_needed = integer(data["units_needed"], "units_needed", errors, 1, MAX_UNITS)
    if errors:
        raise ValidationError(_l("The incident was not logged."), fields=errors)
    return category, summary, units_needed


def create(unit: Unit, data: dict, *, actor: User) -> Ticket:
    """Log what the unit found, at its own position, with the unit on it.

    Refused (409) when the unit has no fresh position, or has an offer or a job already.
    """
    category, summary, units_needed = _validate(data)
    unit = state.lock_unit(unit.id)  # the new ticket is nobody else's yet: no ticket lock
    job = state.active_assignment(unit.id)
    if job is not None:
        raise Conflict(
            _l(
                "You are on ticket %(number)s. Answer the offer or clear that job first.",
                number=job.ticket.number,
            ),
            code="unit_busy",
        )
    if unit.lat is None or unit.position_at is None or unit.position_at < routing.fresh_after():
        raise Conflict(
            _l(
                "Your position is not known or older than %(min)s minutes. Turn on location "
                "and try again.",
                min=max(1, current_app.config["CALLCENTER_POSITION_MAX_AGE_S"] // 60),
            ),
            code="no_position",
        )
    now = clock.now()
    ticket = Ticket(
        number=intake.next_number(now),
        category=category.code,
        priority=category.default_priority,
        units_needed=units_needed,
        channel="on_view",
        sector_id=intake.nearest_sector_id(unit.lat, unit.lon),
        summary=summary,
        lat=unit.lat,
        lon=unit.lon,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        dispatched_at=now,
        accepted_offer_at=now,
        acknowledged_at=now,
        on_scene_at=now,
    )
    ticket.duplicate_of = intake.find_duplicate(category.code, unit.lat, unit.lon, now)
    db.session.add(ticket)
    db.session.flush()
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
            "units_needed": units_needed,
            "callsign": unit.callsign,
            "duplicate_of": ticket.duplicate_of_id,
        },
    )
    assignment = Assignment(
        ticket_id=ticket.id,
        unit_id=unit.id,
        slot=1,
        status="accepted",
        manual=True,
        offered_at=now,
        deadline_at=now,
        responded_at=now,
        on_scene_at=now,
        distance_m=0.0,
        eta_s=0,
        created_by_id=actor.id,
    )
    db.session.add(assignment)
    db.session.flush()
    base = {"assignment_id": assignment.id, "callsign": unit.callsign, "number": ticket.number}
    events.record(
        "assignment.offered",
        ticket=ticket,
        unit=unit,
        actor=actor,
        data={**base, "slot": 1, "units_needed": units_needed, "manual": True, "on_view": True},
    )
    events.record(
        "assignment.accepted",
        ticket=ticket,
        unit=unit,
        actor=actor,
        data={**base, "slot": 1, "response_s": 0.0, "on_view": True},
    )
    state.set_unit_status(unit, "on_scene", actor=actor, ticket=ticket)
    slots.follow_units(ticket, slots.crew_of(ticket), actor=actor, unit=unit)
    routing.route_locked(ticket)
    db.session.commit()
    return ticket
