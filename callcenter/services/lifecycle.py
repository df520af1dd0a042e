"""One unit's part in a ticket: answers to the offer, expiry, progress, backup and release.

Every function is one unit of work: it locks in the order tickets, assignments, units,
re-checks the state it was asked to change, writes the change and its events, and commits.
A request that comes too late (the offer expired, the job was cleared) gets ``Conflict``.
The ticket's status follows its units (``slots.follow_units``).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Assignment, Emergency, Ticket, Unit, User
from ..models.assignment import ACTIVE_STATUSES
from ..models.ticket import MAX_UNITS
from ..models.unit import BUSY_STATUSES, SELF_STATUSES
from ..ops import metrics
from . import catalog, clock, events, queue, routing, slots, state
from .errors import Conflict, NotFound, ValidationError
from .validation import Errors, integer, optional_text, unknown_fields

# The unit's own steps, and the steps each may follow.
PROGRESS = {"en_route": ("accepted",), "on_scene": ("accepted", "en_route")}
# The steps of a job as the officer reads them in a refusal.
STEP_WORDS = {
    "accepted": _l("accepted"),
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
        "units_reduced": _l("The command center needs fewer units on this ticket."),
        "emergency_ended": _l("The emergency has ended: the officer is safe."),
    }
    messages = {
        "expired": _l("This offer has expired. The command center offers it to another unit."),
        "cancelled": withdrawn.get(assignment.end_reason, _l("This offer was withdrawn.")),
        "declined": _l("This offer was already declined."),
        "accepted": _l("This offer was already accepted."),
        "released": _l("The command center took you off this ticket."),
        "completed": {
            "closed_by_dispatcher": _l("The command center closed this job."),
            "emergency_ended": _l("The emergency has ended: the officer is safe."),
        }.get(assignment.end_reason, _l("This job is already cleared.")),
    }
    return Conflict(
        messages.get(assignment.status, _l("This offer is no longer open.")),
        code=f"assignment_{assignment.status}",
    )


def _required_reason(data: dict, allowed: set[str], max_len: int = 300):
    """The required ``reason`` of a request, and the errors found so far."""
    errors = Errors()
    unknown_fields(data, allowed, errors)
    reason = optional_text(data.get("reason"), "reason", errors, max_len)
    if not reason and "reason" not in errors:
        errors.add("reason", _l("Required."))
    return reason, errors


def _expire_locked(assignment: Assignment, ticket: Ticket) -> None:
    """Expire an offer past its deadline: the unit is marked unavailable (it may be out of
    reach), the slot goes to the next nearest unit."""
    unit = state.lock_unit(assignment.unit_id)
    state.end_assignment(assignment, "expired", ticket=ticket, unit=unit, reason="no_answer")
    state.set_unit_status(unit, "unavailable", reason="offer_expired", ticket=ticket)
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
    """The unit takes the job: the ticket is ``acknowledged`` (unless another unit is further
    already); the unit stays ``dispatched`` until it reports ``en_route``. Repeating an accept
    that went through (a retry on a bad connection) changes nothing; an offer that expired,
    was withdrawn or was declined is a ``Conflict``."""
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
    if ticket.acknowledged_at is None:
        ticket.acknowledged_at = now  # the first unit to accept
        ticket.accepted_offer_at = assignment.offered_at  # processing ends at this offer
    db.session.flush()
    events.record(
        "assignment.accepted",
        ticket=ticket,
        unit=assignment.unit_id,
        actor=actor,
        data={
            "assignment_id": assignment.id,
            "callsign": assignment.unit.callsign,
            "number": ticket.number,
            "slot": assignment.slot,
            "response_s": round((now - assignment.offered_at).total_seconds(), 1),
        },
    )
    crew = slots.crew_of(ticket)
    slots.follow_units(ticket, crew, actor=actor, unit=assignment.unit_id)
    offered_at = assignment.offered_at
    events.after_commit(lambda: metrics.observe_since(metrics.OFFER_TO_ACCEPT, offered_at))
    db.session.commit()
    return assignment


def decline(assignment_id: int, data: dict, *, unit: Unit | None, actor: User) -> Assignment:
    """The unit turns the offer down (with a reason): it is free again, and the slot is
    offered to the next nearest unit that has not declined the ticket."""
    reason_text, errors = _required_reason(data, {"reason"}, 200)
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
    routing.route_locked(ticket)
    queue.route_queued_after_commit()
    db.session.commit()
    return assignment


def progress(assignment_id: int, data: dict, *, unit: Unit | None, actor: User) -> Assignment:
    """This unit is ``en_route``, ``on_scene``, or ``cleared`` with a resolution (and a note).

    Each unit keeps its own progress; the ticket takes its most advanced unit's. Clearing
    frees this unit only; the ticket closes (with this resolution) when it was the last
    active unit and no slot is open. Repeating the step just taken changes nothing (a
    retried request); anything else out of order, or on a job no longer accepted, is a
    ``Conflict``.
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
    step = assignment.step
    if status == step:
        db.session.rollback()
        return assignment  # a retry of the step just taken
    if status in PROGRESS and step not in PROGRESS[status]:
        raise Conflict(
            _l(
                "The job is %(status)s; it cannot go to %(next)s.",
                status=STEP_WORDS.get(step, step),
                next=STEP_WORDS[status],
            ),
            code="invalid_transition",
        )
    locked_unit = state.lock_unit(assignment.unit_id)
    now = clock.now()
    if status == "cleared":
        _clear(assignment, ticket, locked_unit, resolution, note, actor=actor)
    else:
        if status == "en_route":
            assignment.en_route_at = now
        else:
            assignment.on_scene_at = now
            if ticket.on_scene_at is None:
                ticket.on_scene_at = now  # the first unit at the scene
        db.session.flush()
        slots.follow_units(ticket, slots.crew_of(ticket), actor=actor, unit=locked_unit)
        state.set_unit_status(locked_unit, status, actor=actor, ticket=ticket)
    db.session.commit()
    return assignment


def _clear(assignment, ticket, unit, resolution, note, *, actor) -> None:
    assignment.resolution = resolution
    assignment.note = note
    state.end_assignment(
        assignment,
        "completed",
        ticket=ticket,
        unit=unit,
        actor=actor,
        reason="cleared",
        data={"resolution": resolution, "note": note},
    )
    crew = slots.crew_of(ticket)
    if not crew.active and crew.to_fill == 0:
        ticket.resolution = resolution
        ticket.resolution_note = note
        state.finish_ticket(
            ticket,
            "closed",
            actor=actor,
            unit=unit,
            data={"resolution": resolution, "note": note, "last_unit": unit.callsign},
        )
    else:
        slots.follow_units(ticket, crew, actor=actor, unit=unit)
    state.set_unit_status(unit, "available", actor=actor, ticket=ticket)
    queue.route_queued_after_commit()


def release(assignment_id: int, data: dict, *, actor: User) -> Assignment:
    """The dispatcher takes one unit off a ticket, with a reason: the unit is free, and its
    slot is offered to the next nearest unit, or, with ``refill: false``, the ticket needs
    one unit fewer. The released unit is not offered this ticket again automatically."""
    reason, errors = _required_reason(data, {"reason", "refill"})
    refill = data.get("refill", True)
    if not isinstance(refill, bool):
        errors.add("refill", _l("Must be true or false."))
    if errors:
        raise ValidationError(_l("The unit was not released."), fields=errors)
    assignment = _assignment_for(assignment_id, None)
    ticket = assignment.ticket
    if not assignment.is_active:
        raise _conflict_for(assignment)
    if not refill and ticket.units_needed == 1:
        raise Conflict(
            _l("A ticket needs at least one unit. Release it with a replacement, or cancel."),
            code="last_unit",
        )
    crew = slots.crew_of(ticket, lock=True)
    if not refill and len(crew.active) == 1 and crew.completed >= ticket.units_needed - 1:
        raise Conflict(
            _l("The units this ticket needs have all cleared: close the ticket instead."),
            code="close_instead",
        )
    unit = state.lock_unit(assignment.unit_id)
    state.end_assignment(
        assignment,
        "released",
        ticket=ticket,
        unit=unit,
        actor=actor,
        reason=reason,
        data={"reason": reason, "refill": refill, "step": assignment.step},
    )
    state.set_unit_status(unit, "available", actor=actor, ticket=ticket)
    if not refill:
        crew.active.remove(assignment)
        before = ticket.units_needed
        slots.compact(crew, before - 1)
        ticket.units_needed = before - 1
        ticket.updated_at = clock.now()
        db.session.flush()
        events.record(
            "ticket.updated",
            ticket=ticket,
            actor=actor,
            data={
                "changes": {"units_needed": [before, ticket.units_needed]},
                "number": ticket.number,
                "reason": "released",
            },
        )
    routing.route_locked(ticket)
    queue.route_queued_after_commit()
    db.session.commit()
    return assignment


def request_backup(assignment_id: int, data: dict, *, unit: Unit | None, actor: User) -> dict:
    """The unit on a job (or a dispatcher) asks for ``count`` more units (1 by default, the
    ticket's total capped at 10), with a reason; the new slots are routed at once.

    Refused when the unit no longer holds the job, or has only been offered it.
    Returns ``{assignment, ticket, added}``."""
    reason, errors = _required_reason(data, {"reason", "count"})
    count = 1
    if "count" in data:
        count = integer(data["count"], "count", errors, 1, MAX_UNITS - 1)
    if errors:
        raise ValidationError(_l("The request for backup was not sent."), fields=errors)
    assignment = _assignment_for(assignment_id, unit)
    ticket = assignment.ticket
    if not assignment.is_active or (unit is not None and assignment.status != "accepted"):
        raise _conflict_for(assignment)
    room = MAX_UNITS - ticket.units_needed
    if room == 0:
        raise Conflict(
            _l("This ticket already has the most units a ticket can have (%(n)s).", n=MAX_UNITS),
            code="units_at_most",
        )
    added = min(count, room)
    before = ticket.units_needed
    now = clock.now()
    ticket.units_needed = before + added
    ticket.backup_requested_at = now
    ticket.updated_at = now
    db.session.flush()
    events.record(
        "ticket.backup_requested",
        ticket=ticket,
        unit=assignment.unit_id,
        actor=actor,
        data={
            "number": ticket.number,
            "assignment_id": assignment.id,
            "callsign": assignment.unit.callsign,
            "count": count,
            "added": added,
            "units_needed": [before, ticket.units_needed],
            "reason": reason,
            "by_unit": unit is not None,
        },
    )
    routing.route_locked(ticket)
    db.session.commit()
    return {"assignment": assignment, "ticket": ticket, "added": added}


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
    """A ticket the unit may read: one it holds an open offer or assignment on, one it
    cleared less than ``CALLCENTER_UNIT_TICKET_GRACE_S`` ago (to finish its report), or its
    own emergency. Any other, including one it declined, let expire or was released or
    withdrawn from, is 404 to the unit, like another unit's ticket."""
    grace = timedelta(seconds=current_app.config["CALLCENTER_UNIT_TICKET_GRACE_S"])
    mine = db.and_(Assignment.ticket_id == ticket_id, Assignment.unit_id == unit.id)
    holds = db.select(Assignment.id).where(mine, Assignment.status.in_(ACTIVE_STATUSES))
    cleared = db.select(Assignment.id).where(
        mine, Assignment.status == "completed", Assignment.ended_at >= clock.now() - grace
    )
    in_danger = db.select(Emergency.id).where(
        Emergency.ticket_id == ticket_id, Emergency.unit_id == unit.id
    )
    allowed = db.or_(holds.exists(), cleared.exists(), in_danger.exists())
    if not db.session.scalar(db.select(allowed)):
        raise NotFound(_l("No such ticket."))
    return db.session.get(Ticket, ticket_id)
