"""Manual dispatch: the units a dispatcher could send, and sending the one chosen."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Assignment, Emergency, Ticket, Unit
from ..models.assignment import ACTIVE_STATUSES
from ..models.ticket import OPEN_STATUSES
from . import clock, geo, queue, routing, slots, state
from .errors import Conflict, NotFound, ValidationError
from .validation import is_id


def suggest_units(ticket_id: int, limit: int = 8) -> list[dict]:
    """The nearest units a dispatcher could give this ticket, for manual assignment.

    Free units (stale positions too, marked as such) and units on a job of lower priority
    (pulling them needs confirmation), nearest first. Units that cannot take it (off duty,
    unavailable, on a job of the same or higher priority, already on this ticket, or the
    officer in danger on their own emergency) are left out, so that a free unit further away
    is never hidden behind busy ones. Each entry has the distance, ETA, the position's age,
    whether the unit left this ticket before (declined, expired, released, cleared), and
    its job.
    """
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(_l("No such ticket."))
    if ticket.lat is None:
        return []
    cutoff = routing.fresh_after()
    left = slots.ineligible_units(ticket)
    in_danger = ticket.emergency.unit_id if ticket.emergency is not None else None
    jobs = {
        a.unit_id: a
        for a in db.session.scalars(
            db.select(Assignment).where(Assignment.status.in_(ACTIVE_STATUSES))
        )
    }

    def assignable(unit: Unit) -> bool:
        if unit.id == in_danger:
            return False
        job = jobs.get(unit.id)
        if job is None:
            return unit.status == "available"
        return job.ticket_id != ticket.id and job.ticket.priority > ticket.priority

    units = db.session.scalars(
        db.select(Unit).where(
            Unit.status.not_in(("off_duty", "unavailable")), Unit.lat.is_not(None)
        )
    ).all()
    ranked = sorted(
        (
            (geo.haversine_m(ticket.lat, ticket.lon, u.lat, u.lon), u)
            for u in units
            if assignable(u)
        ),
        key=lambda pair: (pair[0], pair[1].id),
    )[:limit]
    now = clock.now()
    suggestions = []
    for distance, unit in ranked:
        job = jobs.get(unit.id)
        suggestions.append(
            {
                "unit": {
                    "id": unit.id,
                    "callsign": unit.callsign,
                    "name": unit.name,
                    "kind": unit.kind,
                    "status": unit.status,
                    "sector": unit.sector.name if unit.sector else None,
                },
                "distance_m": round(distance),
                "eta_s": routing.eta_s(distance, unit.kind),
                "position_age_s": round((now - unit.position_at).total_seconds())
                if unit.position_at
                else None,
                "stale": unit.position_at is None or unit.position_at < cutoff,
                "declined_before": unit.id in left,
                "current_job": (
                    {
                        "ticket_id": job.ticket_id,
                        "number": job.ticket.number,
                        "priority": job.ticket.priority,
                        "assignment_status": job.status,
                    }
                    if job is not None
                    else None
                ),
                "assignable": True,
                "needs_confirmation": job is not None,
            }
        )
    return suggestions


def _pull_off(current: Assignment, other: Ticket, unit: Unit, ticket: Ticket, *, actor, confirm):
    """Take a unit off a job of lower priority (with ``confirm``); that slot is routed again."""
    if other.priority <= ticket.priority:
        raise Conflict(
            _l(
                "%(callsign)s is on ticket %(number)s of equal or higher priority.",
                callsign=unit.callsign,
                number=other.number,
            ),
            code="unit_busy",
        )
    if not confirm:
        raise Conflict(
            _l(
                "%(callsign)s is on ticket %(number)s (priority %(p)s). Confirm to pull it "
                "off that job; the job will be queued again.",
                callsign=unit.callsign,
                number=other.number,
                p=other.priority,
            ),
            code="confirmation_required",
        )
    state.end_assignment(
        current,
        "cancelled",
        ticket=other,
        unit=unit,
        actor=actor,
        reason="reassigned",
        data={"reason": "reassigned"},
    )
    slots.follow_units(other, slots.crew_of(other), reason="unit_reassigned", actor=actor)
    queue.route_ticket_after_commit(other.id)


def assign(ticket_id: int, unit_id, *, actor, confirm: bool = False) -> Assignment:
    """A dispatcher offers a chosen unit to an open ticket, in an open slot.

    When every slot is taken, the newest offer not yet accepted is withdrawn for the chosen
    unit; when every slot has accepted (or served), the ticket is full and this is refused
    (raise the units needed, or release a unit). A free unit is simply offered the ticket.
    A unit on a lower-priority job is pulled off it only with ``confirm``; that job's slot
    is routed again. A unit on a job of the same or higher priority, off duty, unavailable,
    already on the ticket, or the officer in danger on their own emergency is refused.
    """
    if not is_id(unit_id):
        raise ValidationError(_l("Choose a unit."), fields={"unit_id": _l("Choose a unit.")})
    target = db.session.get(Unit, unit_id)
    if target is None:
        raise ValidationError(_l("No such unit."), fields={"unit_id": _l("No such unit.")})
    if db.session.get(Ticket, ticket_id) is None:
        raise NotFound(_l("No such ticket."))

    # Lock order: both tickets by id, their assignments, then the units by id.
    current = state.active_assignment(unit_id)
    other_id = current.ticket_id if current is not None and current.ticket_id != ticket_id else None
    locked = {tid: state.lock_ticket(tid) for tid in sorted({ticket_id, other_id} - {None})}
    ticket = locked[ticket_id]
    if ticket.status not in OPEN_STATUSES:
        raise Conflict(_l("This ticket is closed."), code="ticket_not_open")
    if ticket.lat is None:
        raise Conflict(_l("This ticket has no location."), code="no_location")
    crew = slots.crew_of(ticket, lock=True)
    current = state.active_assignment(unit_id, lock=True)
    if current is not None and current.ticket_id not in locked:
        db.session.rollback()
        raise Conflict(_l("The unit's job changed just now. Try again."), code="unit_changed")
    if current is not None and current.ticket_id == ticket.id:
        raise Conflict(_l("This unit already has this ticket."), code="already_assigned")
    in_danger = db.session.scalar(
        db.select(Emergency.unit_id).where(Emergency.ticket_id == ticket.id)
    )
    if in_danger == unit_id:
        raise Conflict(
            _l("%(callsign)s is the unit in danger on this ticket.", callsign=target.callsign),
            code="unit_in_danger",
        )
    replaced = None
    if crew.to_fill == 0:
        if not crew.offered:
            raise Conflict(
                _l(
                    "Ticket %(number)s has all the units it needs (%(n)s). Raise the units "
                    "needed, or release a unit first.",
                    number=ticket.number,
                    n=ticket.units_needed,
                ),
                code="ticket_full",
            )
        replaced = max(crew.offered, key=lambda a: (a.offered_at, a.id))

    units = {uid: state.lock_unit(uid) for uid in sorted({unit_id} | _unit_of(replaced))}
    unit = units[unit_id]
    if current is not None:
        _pull_off(current, locked[current.ticket_id], unit, ticket, actor=actor, confirm=confirm)
    elif unit.status != "available":
        raise Conflict(
            _l(
                "%(callsign)s is %(status)s and cannot take a job.",
                callsign=unit.callsign,
                status=unit.status,
            ),
            code="unit_unavailable",
        )
    if replaced is not None:
        previous_unit = units[replaced.unit_id]
        state.end_assignment(
            replaced,
            "cancelled",
            ticket=ticket,
            unit=previous_unit,
            actor=actor,
            reason="reassigned",
            data={"reason": "reassigned"},
        )
        state.set_unit_status(previous_unit, "available", actor=actor, ticket=ticket)
        crew.active.remove(replaced)
        queue.route_queued_after_commit()

    state.set_unit_status(unit, "dispatched", actor=actor, ticket=ticket)
    distance = (
        geo.haversine_m(ticket.lat, ticket.lon, unit.lat, unit.lon)
        if unit.lat is not None
        else None
    )
    slot = replaced.slot if replaced is not None else crew.free_slots()[0]
    assignment = routing.offer(ticket, unit, distance, slot, actor=actor, manual=True)
    crew.active.append(assignment)
    slots.follow_units(ticket, crew, actor=actor, unit=unit)
    db.session.commit()
    return assignment


def _unit_of(assignment: Assignment | None) -> set[int]:
    return {assignment.unit_id} if assignment is not None else set()
