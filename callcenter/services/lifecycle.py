"""What happens to a ticket after the offer: answers, expiry, progress, cancel, close, edits.

Every function is one unit of work: it locks in the order tickets, assignments, units,
re-checks the state it was asked to change, writes the change and its events, and commits.
A request that comes too late (the offer expired, the job was cleared) gets ``Conflict``.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Assignment, Ticket, Unit, User
from ..models.ticket import OPEN_STATUSES
from ..models.unit import BUSY_STATUSES, SELF_STATUSES
from . import catalog, clock, events, queue, routing, state
from .errors import Conflict, NotFound, ValidationError
from .validation import Errors, coordinates, integer, optional_text, unknown_fields

PROGRESS = {"en_route": ("acknowledged",), "on_scene": ("acknowledged", "en_route")}
# The steps of a job as the officer reads them in a refusal.
STEP_WORDS = {
    "acknowledged": _l("accepted"),
    "en_route": _l("en route"),
    "on_scene": _l("on scene"),
    "cleared": _l("cleared"),
}


def _assignment_for(assignment_id: int, unit: Unit | None) -> Assignment:
    """The assignment, locked with its ticket; a unit sees only its own (else 404)."""
    found = db.session.get(Assignment, assignment_id)
    if found is None or (unit is not None and found.unit_id != unit.id):
        raise NotFound(_l("No such assignment."))
    state.lock_ticket(found.ticket_id)
    return state.lock_assignment(assignment_id)


def _conflict_for(assignment: Assignment) -> Conflict:
    """Why an answer or an update comes too late, in words the officer can act on."""
    if assignment.status == "offered":
        return Conflict(_l("Accept the offer first."), code="invalid_transition")
    withdrawn = {
        "ticket_cancelled": _l("The command center cancelled this ticket."),
        "reassigned": _l("The command center gave this job to another unit."),
        "closed": _l("The command center closed this ticket."),
    }
    messages = {
        "expired": _l("This offer has expired. The command center offers it to another unit."),
        "cancelled": withdrawn.get(assignment.end_reason, _l("This offer was withdrawn.")),
        "declined": _l("This offer was already declined."),
        "accepted": _l("This offer was already accepted."),
        "completed": _l("The command center closed this job.")
        if assignment.end_reason == "closed_by_dispatcher"
        else _l("This job is already cleared."),
    }
    return Conflict(
        messages.get(assignment.status, _l("This offer is no longer open.")),
        code=f"assignment_{assignment.status}",
    )


def _expire_locked(assignment: Assignment, ticket: Ticket) -> None:
    """Expire an offer past its deadline: the unit is marked unavailable (it may be out of
    reach), the ticket goes to the next nearest unit."""
    unit = state.lock_unit(assignment.unit_id)
    state.end_assignment(assignment, "expired", ticket=ticket, unit=unit, reason="no_answer")
    state.set_unit_status(unit, "unavailable", reason="offer_expired", ticket=ticket)
    state.set_ticket_status(ticket, "queued", reason="offer_expired", unit=unit)
    db.session.flush()
    routing.route_locked(ticket)


def expire_offer(assignment_id: int) -> bool:
    """Expire one offer if it is still open and past its deadline; safe to run twice."""
    found = db.session.get(Assignment, assignment_id)
    if found is None:
        db.session.rollback()
        return False
    ticket = state.lock_ticket(found.ticket_id)
    assignment = state.lock_assignment(assignment_id)
    if assignment.status != "offered" or assignment.deadline_at > clock.now():
        db.session.rollback()
        return False
    _expire_locked(assignment, ticket)
    db.session.commit()
    return True


def accept(assignment_id: int, *, unit: Unit | None, actor: User) -> Assignment:
    """The unit takes the job: the ticket is ``acknowledged``; the unit stays ``dispatched``
    until it reports ``en_route``. Repeating an accept that went through (a retry on a bad
    connection) changes nothing; an offer that expired, was withdrawn or was declined is a
    ``Conflict``."""
    assignment = _assignment_for(assignment_id, unit)
    ticket = assignment.ticket
    if assignment.status == "accepted" and assignment.responded_at is not None:
        db.session.rollback()
        return assignment
    if assignment.status == "offered" and assignment.deadline_at <= clock.now():
        _expire_locked(assignment, ticket)
        db.session.commit()
        raise _conflict_for(assignment)
    if assignment.status != "offered":
        raise _conflict_for(assignment)
    now = clock.now()
    assignment.status = "accepted"
    assignment.responded_at = now
    ticket.acknowledged_at = now
    events.record(
        "assignment.accepted",
        ticket=ticket,
        unit=assignment.unit_id,
        actor=actor,
        data={
            "assignment_id": assignment.id,
            "callsign": assignment.unit.callsign,
            "number": ticket.number,
            "response_s": round((now - assignment.offered_at).total_seconds(), 1),
        },
    )
    state.set_ticket_status(ticket, "acknowledged", actor=actor, unit=assignment.unit_id)
    db.session.commit()
    return assignment


def decline(assignment_id: int, data: dict, *, unit: Unit | None, actor: User) -> Assignment:
    """The unit turns the offer down (with a reason): it is free again, and the ticket is
    offered to the next nearest unit that has not declined it."""
    errors = Errors()
    unknown_fields(data, {"reason"}, errors)
    reason_text = optional_text(data.get("reason"), "reason", errors, 200)
    if not reason_text:
        errors.add("reason", _l("Required."))
    if errors:
        raise ValidationError(_l("Give a reason for declining."), fields=errors)
    assignment = _assignment_for(assignment_id, unit)
    ticket = assignment.ticket
    if assignment.status != "offered":
        raise _conflict_for(assignment)
    locked_unit = state.lock_unit(assignment.unit_id)
    assignment.responded_at = clock.now()
    assignment.decline_reason = reason_text
    state.end_assignment(
        assignment,
        "declined",
        ticket=ticket,
        unit=locked_unit,
        actor=actor,
        data={"reason": reason_text},
    )
    state.set_unit_status(locked_unit, "available", actor=actor, ticket=ticket)
    state.set_ticket_status(ticket, "queued", reason="offer_declined", unit=locked_unit)
    db.session.flush()
    routing.route_locked(ticket)
    queue.route_queued_after_commit()
    db.session.commit()
    return assignment


def progress(assignment_id: int, data: dict, *, unit: Unit | None, actor: User) -> Assignment:
    """``en_route``, ``on_scene``, or ``cleared`` with a resolution (and a note).

    Repeating the step just taken changes nothing (a retried request); anything else out
    of order, or on a job no longer accepted, is a ``Conflict``.
    """
    errors = Errors()
    unknown_fields(data, {"status", "resolution", "note"}, errors)
    status = data.get("status")
    if status not in ("en_route", "on_scene", "cleared"):
        errors.add("status", _l("One of: %(choices)s.", choices="en_route, on_scene, cleared"))
    resolution = data.get("resolution")
    note = optional_text(data.get("note"), "note", errors, 2000)
    if status == "cleared" and resolution not in catalog.RESOLUTIONS:
        errors.add("resolution", _l("Choose a resolution."))
    if errors:
        raise ValidationError(_l("The update was not saved."), fields=errors)

    assignment = _assignment_for(assignment_id, unit)
    ticket = assignment.ticket
    if assignment.status != "accepted":
        raise _conflict_for(assignment)
    if status != "cleared" and ticket.status == status:
        return assignment  # a retry of the step just taken
    if status in PROGRESS and ticket.status not in PROGRESS[status]:
        raise Conflict(
            _l(
                "The job is %(status)s; it cannot go to %(next)s.",
                status=STEP_WORDS.get(ticket.status, ticket.status),
                next=STEP_WORDS[status],
            ),
            code="invalid_transition",
        )
    locked_unit = state.lock_unit(assignment.unit_id)
    now = clock.now()
    if status == "cleared":
        state.end_assignment(
            assignment, "completed", ticket=ticket, unit=locked_unit, actor=actor, reason="cleared"
        )
        _close(ticket, resolution, note, actor=actor, unit=locked_unit)
        state.set_unit_status(locked_unit, "available", actor=actor, ticket=ticket)
        queue.route_queued_after_commit()
    else:
        if status == "on_scene":
            ticket.on_scene_at = now
        state.set_ticket_status(ticket, status, actor=actor, unit=locked_unit)
        state.set_unit_status(locked_unit, status, actor=actor, ticket=ticket)
    db.session.commit()
    return assignment


def _close(ticket: Ticket, resolution: str, note: str | None, *, actor, unit=None) -> None:
    ticket.resolution = resolution
    ticket.resolution_note = note
    state.finish_ticket(
        ticket, "closed", actor=actor, unit=unit, data={"resolution": resolution, "note": note}
    )


def _end_active(ticket: Ticket, *, reason: str, actor) -> Unit | None:
    """End the ticket's open offer or assignment and free its unit; returns the unit."""
    active = state.active_assignment(ticket_id=ticket.id, lock=True)
    if active is None:
        return None
    unit = state.lock_unit(active.unit_id)
    if active.status == "accepted" and reason == "closed":
        state.end_assignment(
            active,
            "completed",
            ticket=ticket,
            unit=unit,
            actor=actor,
            reason="closed_by_dispatcher",
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
    queue.route_queued_after_commit()
    return unit


def _open_ticket(ticket_id: int) -> Ticket:
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


def cancel(ticket_id: int, data: dict, *, actor: User) -> Ticket:
    """Cancel an open ticket with a reason; its unit, if any, is freed."""
    errors = Errors()
    unknown_fields(data, {"reason"}, errors)
    reason = optional_text(data.get("reason"), "reason", errors, 300)
    if not reason and "reason" not in errors:
        errors.add("reason", _l("Required."))
    if errors:
        raise ValidationError(_l("The ticket was not cancelled."), fields=errors)
    ticket = _open_ticket(ticket_id)
    unit = _end_active(ticket, reason="ticket_cancelled", actor=actor)
    ticket.cancel_reason = reason
    state.finish_ticket(ticket, "cancelled", actor=actor, unit=unit, data={"reason": reason})
    db.session.commit()
    return ticket


def close(ticket_id: int, data: dict, *, actor: User) -> Ticket:
    """The dispatcher closes an open ticket with a resolution (and a note)."""
    errors = Errors()
    unknown_fields(data, {"resolution", "note"}, errors)
    resolution = data.get("resolution")
    if resolution not in catalog.RESOLUTIONS:
        errors.add("resolution", _l("Choose a resolution."))
    note = optional_text(data.get("note"), "note", errors, 2000)
    if errors:
        raise ValidationError(_l("The ticket was not closed."), fields=errors)
    ticket = _open_ticket(ticket_id)
    unit = _end_active(ticket, reason="closed", actor=actor)
    _close(ticket, resolution, note, actor=actor, unit=unit)
    db.session.commit()
    return ticket


def edit(ticket_id: int, data: dict, *, actor: User) -> Ticket:
    """Change priority, summary or location of an open ticket; each change is audited.
    A waiting ticket whose location changed is routed again."""
    errors = Errors()
    unknown_fields(data, {"priority", "summary", "location"}, errors)
    changes: dict = {}
    if "priority" in data:
        changes["priority"] = integer(data["priority"], "priority", errors, 1, 4)
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

    ticket = _open_ticket(ticket_id)
    diff = {}
    for name, value in changes.items():
        old = getattr(ticket, name)
        if old != value:
            diff[name] = [old, value]
            setattr(ticket, name, value)
    if not diff:
        db.session.rollback()
        return ticket
    ticket.updated_at = clock.now()
    active = state.active_assignment(ticket_id=ticket.id)
    events.record(
        "ticket.updated",
        ticket=ticket,
        actor=actor,
        unit=active.unit_id if active else None,
        data={"changes": diff, "number": ticket.number},
    )
    if ticket.status in ("new", "queued") and ({"lat", "lon", "priority"} & diff.keys()):
        queue.route_ticket_after_commit(ticket.id)
    db.session.commit()
    return ticket


def set_own_status(unit: Unit, data: dict, *, actor: User) -> Unit:
    """A unit signs on (``available``), takes a break (``unavailable``) or signs off.

    A unit on a job cannot change its status this way: it answers the offer or clears the
    job first. Becoming available lets waiting tickets be routed to it.
    """
    errors = Errors()
    unknown_fields(data, {"status", "reason"}, errors)
    status = data.get("status")
    if status not in SELF_STATUSES:
        errors.add("status", _l("One of: %(choices)s.", choices=", ".join(SELF_STATUSES)))
    reason = optional_text(data.get("reason"), "reason", errors, 200)
    if errors:
        raise ValidationError(_l("The status was not changed."), fields=errors)
    locked = state.lock_unit(unit.id)
    if locked.status in BUSY_STATUSES:
        raise Conflict(
            _l("You have a job. Answer the offer or clear the job first."), code="unit_busy"
        )
    state.set_unit_status(locked, status, actor=actor, reason=reason)
    if status == "available":
        queue.route_queued_after_commit()
    db.session.commit()
    return locked


def get_ticket_for_unit(ticket_id: int, unit: Unit) -> Ticket:
    """A ticket a unit has been offered or assigned; any other is 404 to the unit."""
    exists = db.session.scalar(
        db.select(
            db.exists().where(Assignment.ticket_id == ticket_id, Assignment.unit_id == unit.id)
        )
    )
    if not exists:
        raise NotFound(_l("No such ticket."))
    return db.session.get(Ticket, ticket_id)
