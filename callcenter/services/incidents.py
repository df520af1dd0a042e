"""The dispatcher's decisions about a whole incident: its details and how many units it
needs, cancelling it and closing it. Each function is one unit of work (lock the ticket, its
active assignments, then their units; check; change; commit) and audits every change."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Assignment, Ticket, Unit, User
from ..models.ticket import MAX_UNITS, OPEN_STATUSES
from . import catalog, catalog_settings, clock, events, intake, queue, routing, slots, state
from .errors import Conflict, NotFound, ValidationError
from .validation import Errors, coordinates, integer, optional_text, unknown_fields

EDITABLE = {"priority", "summary", "location", "category", "units_needed"}
STEP_WORDS = {
    "accepted": _l("accepted"),
    "en_route": _l("en route"),
    "on_scene": _l("on scene"),
    "completed": _l("cleared"),
}


def open_ticket(ticket_id: int) -> Ticket:
    """The ticket, locked; ``NotFound`` or, once it is closed or cancelled, ``Conflict``."""
    ticket = state.lock_ticket(ticket_id)
    if ticket is None:
        raise NotFound(_l("No such ticket."))
    if ticket.status not in OPEN_STATUSES:
        raise Conflict(
            _l(
                "Ticket %(number)s is already %(status)s.",
                number=ticket.number,
                status=ticket.status,
            ),
            code="ticket_not_open",
        )
    return ticket


def end_all(ticket: Ticket, *, reason: str, actor, completed: str | None = None) -> list[Unit]:
    """End every open offer and assignment of the ticket and free their units. With
    ``completed`` (the end reason), accepted ones have completed their part; everything
    else is cancelled with ``reason``. Returns the units freed."""
    crew = slots.crew_of(ticket, lock=True)
    units = {uid: state.lock_unit(uid) for uid in sorted(crew.unit_ids())}
    for active in crew.active:
        unit = units[active.unit_id]
        if active.status == "accepted" and completed:
            state.end_assignment(
                active, "completed", ticket=ticket, unit=unit, actor=actor, reason=completed
            )
        else:
            state.end_assignment(
                active,
                "cancelled",
                ticket=ticket,
                unit=unit,
                actor=actor,
                reason=reason,
                data={"reason": reason},
            )
        state.set_unit_status(unit, "available", actor=actor, ticket=ticket)
    if units:
        queue.route_queued_after_commit()
    return list(units.values())


def finish_data(units: list[Unit], data: dict) -> tuple[Unit | None, dict]:
    """The unit (when there was one) and the data of a ticket's closing event."""
    return (units[0] if len(units) == 1 else None), {
        **data,
        "units": [u.callsign for u in units],
    }


def cancel(ticket_id: int, data: dict, *, actor: User) -> Ticket:
    """Cancel an open ticket with a reason; every unit on it is freed."""
    errors = Errors()
    unknown_fields(data, {"reason"}, errors)
    reason = optional_text(data.get("reason"), "reason", errors, 300)
    if not reason and "reason" not in errors:
        errors.add("reason", _l("Required."))
    if errors:
        raise ValidationError(_l("The ticket was not cancelled."), fields=errors)
    ticket = open_ticket(ticket_id)
    units = end_all(ticket, reason="ticket_cancelled", actor=actor)
    ticket.cancel_reason = reason
    unit, body = finish_data(units, {"reason": reason})
    state.finish_ticket(ticket, "cancelled", actor=actor, unit=unit, data=body)
    db.session.commit()
    return ticket


def close(ticket_id: int, data: dict, *, actor: User) -> Ticket:
    """The dispatcher closes an open ticket with a resolution (and a note); every unit on
    it is freed (those that had accepted have completed their part)."""
    errors = Errors()
    unknown_fields(data, {"resolution", "note"}, errors)
    resolution = data.get("resolution")
    if resolution not in catalog.RESOLUTIONS:
        errors.add("resolution", _l("Choose a resolution."))
    note = optional_text(data.get("note"), "note", errors, 2000)
    if errors:
        raise ValidationError(_l("The ticket was not closed."), fields=errors)
    ticket = open_ticket(ticket_id)
    units = end_all(ticket, reason="closed", completed="closed_by_dispatcher", actor=actor)
    ticket.resolution = resolution
    ticket.resolution_note = note
    unit, body = finish_data(units, {"resolution": resolution, "note": note})
    state.finish_ticket(ticket, "closed", actor=actor, unit=unit, data=body)
    db.session.commit()
    return ticket


def dispatch_category(value, errors: Errors, name: str = "category") -> catalog.Category | None:
    """A category that sends units and may be chosen by people (not the emergency one, nor
    one handed to another agency only)."""
    category = catalog_settings.get(value) if isinstance(value, str) else None
    if category is None:
        errors.add(name, _l("Choose a category from the catalog."))
    elif not category.dispatch or not category.intake or category.handoff_only:
        errors.add(name, _l("Choose a category that sends a unit."))
    return category


def _validate_edit(data: dict) -> dict:
    errors = Errors()
    unknown_fields(data, EDITABLE, errors)
    changes: dict = {}
    if "priority" in data:
        changes["priority"] = integer(data["priority"], "priority", errors, 1, 4)
    if "units_needed" in data:
        changes["units_needed"] = integer(
            data["units_needed"], "units_needed", errors, 1, MAX_UNITS
        )
    if "category" in data:
        category = dispatch_category(data["category"], errors)
        changes["category"] = category.code if category else None
    if "summary" in data:
        changes["summary"] = (
            optional_text(
                data["summary"], "summary", errors, current_app.config["CALLCENTER_SUMMARY_MAX"]
            )
            or ""
        )
    if "location" in data:
        loc = data["location"]
        if not isinstance(loc, dict):
            errors.add("location", _l("Must be an object."))
        else:
            unknown_fields(loc, {"lat", "lon", "address"}, errors, "location.")
            point = coordinates(loc.get("lat"), loc.get("lon"), errors, "location.")
            address = optional_text(loc.get("address"), "location.address", errors, 300)
            if point:
                changes["lat"], changes["lon"] = point
                changes["address"] = address
    if not data:
        raise ValidationError(_l("Nothing to change."))
    if errors:
        raise ValidationError(_l("The ticket was not changed."), fields=errors)
    return changes


def _units_named(ticket: Ticket, crew: slots.Crew) -> str:
    """The units that have accepted (or cleared) the ticket, as a dispatcher reads them."""
    done = db.session.scalars(
        db.select(Assignment).where(
            Assignment.ticket_id == ticket.id, Assignment.status == "completed"
        )
    )
    rows = [*crew.accepted, *done]
    return ", ".join(f"{a.unit.callsign} ({STEP_WORDS[a.step]})" for a in rows)


def _lower_units(ticket: Ticket, crew: slots.Crew, wanted: int, *, actor) -> list[str]:
    """Make room for ``units_needed = wanted``: refuse to drop a unit that accepted (or
    cleared), withdraw the newest surplus offers, compact the slots. Returns the callsigns
    whose offers were withdrawn."""
    committed = len(crew.accepted) + crew.completed
    if wanted < committed:
        raise Conflict(
            _l(
                "%(units)s already accepted this ticket: it needs at least %(n)s units. "
                "Release a unit without a replacement first.",
                units=_units_named(ticket, crew),
                n=committed,
            ),
            code="below_accepted",
        )
    if wanted == crew.completed and not crew.accepted:
        raise Conflict(
            _l("The units this ticket needs have all cleared: close the ticket instead."),
            code="close_instead",
        )
    surplus = len(crew.active) + crew.completed - wanted
    withdrawn = []
    newest_first = sorted(crew.offered, key=lambda a: (a.offered_at, a.id), reverse=True)
    for offer in newest_first[: max(0, surplus)]:
        unit = state.lock_unit(offer.unit_id)
        state.end_assignment(
            offer,
            "cancelled",
            ticket=ticket,
            unit=unit,
            actor=actor,
            reason="units_reduced",
            data={"reason": "units_reduced"},
        )
        state.set_unit_status(unit, "available", actor=actor, ticket=ticket)
        crew.active.remove(offer)
        withdrawn.append(unit.callsign)
    if withdrawn:
        queue.route_queued_after_commit()
    slots.compact(crew, wanted)
    return withdrawn


def edit(ticket_id: int, data: dict, *, actor: User) -> Ticket:
    """Change priority, summary, location, category or the units needed of an open ticket;
    the event holds each change's before and after.

    Raising ``units_needed`` routes the new slots at once. Lowering it below the units that
    accepted is refused with their names; surplus offers (newest first) are withdrawn.
    A changed category keeps the ticket's priority, summary and location. An officer's
    emergency keeps its category. A ticket with a slot waiting is routed again (by a worker,
    after the commit) when its location or priority changes.
    """
    changes = _validate_edit(data)
    ticket = open_ticket(ticket_id)
    if not apply_changes(ticket, changes, actor=actor):
        db.session.rollback()
        return ticket
    db.session.commit()
    return ticket


def apply_changes(ticket: Ticket, changes: dict, *, actor, **extra) -> dict:
    """Apply checked changes (``_validate_edit``'s) to an open ticket this transaction holds
    locked, as ``edit`` does; ``ticket.updated`` carries ``extra`` besides the changes.
    Returns the changes made (empty: nothing changed, nothing recorded). Does not commit."""
    changed_category = changes.get("category", ticket.category) != ticket.category
    if changed_category and ticket.emergency is not None:
        raise Conflict(_l("An officer's emergency keeps its category."), code="emergency")
    crew = slots.crew_of(ticket, lock=True)
    diff, withdrawn = {}, []
    changes = dict(changes)
    wanted = changes.pop("units_needed", ticket.units_needed)
    if wanted != ticket.units_needed:
        if wanted < ticket.units_needed:
            withdrawn = _lower_units(ticket, crew, wanted, actor=actor)
        diff["units_needed"] = [ticket.units_needed, wanted]
        ticket.units_needed = wanted
    for name, value in changes.items():
        old = getattr(ticket, name)
        if old != value:
            diff[name] = [old, value]
            setattr(ticket, name, value)
    if not diff:
        return diff
    if {"lat", "lon"} & diff.keys():
        ticket.sector_id = intake.nearest_sector_id(ticket.lat, ticket.lon)
    ticket.updated_at = clock.now()
    db.session.flush()
    body = {"changes": diff, "number": ticket.number, **extra}
    if withdrawn:
        body["withdrawn"] = withdrawn
    # Every unit on the ticket hears of it (the event's audience, services/events.py).
    events.record("ticket.updated", ticket=ticket, actor=actor, data=body)
    if "units_needed" in diff:
        routing.route_locked(ticket)  # new slots are offered at once
    elif ticket.waiting_since is not None and {"lat", "lon", "priority"} & diff.keys():
        queue.route_ticket_after_commit(ticket.id)
    return diff
