"""Row locks and audited status changes shared by routing and the lifecycle.

Lock order, everywhere: tickets (ascending id), then assignments, then units. Every
transaction that changes several of them takes its locks in that order, so two of them can
wait for each other but never deadlock.
"""

from __future__ import annotations

from ..extensions import db
from ..models import Assignment, Emergency, Ticket, Unit
from ..models.assignment import ACTIVE_STATUSES
from . import clock, events, locator

# Row locks here are FOR NO KEY UPDATE on PostgreSQL (``key_share=True``), never FOR UPDATE:
# every event row holds foreign keys to its ticket and unit, and inserting it takes KEY SHARE
# on those rows while holding the event-order lock (services/events.py). FOR UPDATE would
# make that insert wait for the ticket's holder while the holder waits for the event-order
# lock at its own commit: a deadlock. We never change a ticket's or unit's id, so nothing
# needs the stronger lock.


def lock_ticket(ticket_id: int) -> Ticket | None:
    return db.session.scalars(
        db.select(Ticket)
        .where(Ticket.id == ticket_id)
        .with_for_update(of=Ticket, key_share=True)
        .execution_options(populate_existing=True)
    ).one_or_none()


def lock_unit(unit_id: int) -> Unit | None:
    return db.session.scalars(
        db.select(Unit)
        .where(Unit.id == unit_id)
        .with_for_update(of=Unit, key_share=True)
        .execution_options(populate_existing=True)
    ).one_or_none()


def lock_assignment(assignment_id: int) -> Assignment | None:
    return db.session.scalars(
        db.select(Assignment)
        .where(Assignment.id == assignment_id)
        .with_for_update(of=Assignment, key_share=True)
        .execution_options(populate_existing=True)
    ).one_or_none()


def active_assignment(unit_id: int, *, lock: bool = False) -> Assignment | None:
    """The unit's one open offer or assignment, if it has one (a ticket may have several:
    see ``slots.crew_of``)."""
    query = db.select(Assignment).where(
        Assignment.status.in_(ACTIVE_STATUSES), Assignment.unit_id == unit_id
    )
    if lock:
        query = query.with_for_update(of=Assignment, key_share=True).execution_options(
            populate_existing=True
        )
    return db.session.scalars(query).one_or_none()


def set_ticket_status(
    ticket: Ticket,
    to: str,
    *,
    actor=None,
    reason: str | None = None,
    unit=None,
    data: dict | None = None,
) -> bool:
    """Move a ticket to ``to`` with its audit event; False if nothing changed."""
    before = ticket.status
    if before == to and ticket.status_reason == reason:
        return False
    now = clock.now()
    ticket.status = to
    ticket.status_reason = reason
    ticket.updated_at = now
    if before != to:
        ticket.status_changed_at = now
    events.record(
        "ticket.status_changed",
        ticket=ticket,
        unit=unit,
        actor=actor,
        data={"from": before, "to": to, "reason": reason, "number": ticket.number, **(data or {})},
    )
    return True


def set_unit_status(
    unit: Unit, to: str, *, actor=None, reason: str | None = None, ticket=None
) -> bool:
    """Move a unit to ``to`` with its audit event and live-index update."""
    before = unit.status
    if before == to and unit.status_reason == reason:
        return False
    unit.status = to
    unit.status_reason = reason
    unit.status_changed_at = clock.now()
    events.record(
        "unit.status_changed",
        unit=unit,
        ticket=ticket,
        actor=actor,
        data={"from": before, "to": to, "reason": reason, "callsign": unit.callsign},
    )
    locator.unit_changed(unit.id, to, unit.lat, unit.lon)
    return True


def finish_ticket(
    ticket: Ticket, to: str, *, actor=None, unit=None, data: dict | None = None
) -> None:
    """End a ticket as ``closed`` or ``cancelled``, with its ``ticket.<to>`` event; the
    caller has ended its assignments. An officer's emergency on it ends with it."""
    now = clock.now()
    before = ticket.status
    ticket.status = to
    ticket.status_reason = None
    ticket.status_changed_at = now
    ticket.updated_at = now
    ticket.closed_at = now
    ticket.waiting_since = None
    events.record(
        f"ticket.{to}",
        ticket=ticket,
        unit=unit,
        actor=actor,
        data={"from": before, "number": ticket.number, **(data or {})},
    )
    emergency = db.session.scalars(
        db.select(Emergency)
        .where(Emergency.ticket_id == ticket.id, Emergency.ended_at.is_(None))
        .with_for_update(of=Emergency)
    ).one_or_none()
    if emergency is not None:
        emergency.ended_at = now
        emergency.ended_by_id = actor if isinstance(actor, int) or actor is None else actor.id
        emergency.end_reason = (data or {}).get("reason") or (data or {}).get("note") or to
        events.record(
            "emergency.ended",
            ticket=ticket,
            unit=emergency.unit_id,
            actor=actor,
            data={
                "number": ticket.number,
                "emergency_id": emergency.id,
                "callsign": emergency.unit.callsign,
                "ticket_status": to,
                "reason": emergency.end_reason,
                "alarm_acknowledged": emergency.acknowledged_at is not None,
            },
        )


def end_assignment(
    assignment: Assignment,
    to: str,
    *,
    ticket: Ticket,
    unit: Unit,
    actor=None,
    reason: str | None = None,
    data: dict | None = None,
) -> None:
    """End an offer or assignment as ``to`` (declined, expired, cancelled, completed,
    released) with
    its ``assignment.<to>`` event; the caller frees or moves the unit."""
    assignment.status = to
    assignment.ended_at = clock.now()
    assignment.end_reason = reason
    # Written now: a new offer to the same unit or ticket may follow in this transaction,
    # and the partial unique indexes must already see this one closed.
    db.session.flush()
    events.record(
        f"assignment.{to}",
        ticket=ticket,
        unit=unit,
        actor=actor,
        data={
            "assignment_id": assignment.id,
            "callsign": unit.callsign,
            "number": ticket.number,
            "slot": assignment.slot,
            **(data or {}),
        },
    )
