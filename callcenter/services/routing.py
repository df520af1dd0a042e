"""Automatic routing: offer each waiting ticket to the nearest free unit, exactly once.

One ticket is routed in one transaction: lock the ticket, pick the nearest available unit
with a fresh position that has not declined or let this ticket expire, claim it with a
conditional update (so two workers can never claim one unit), write the offer with its
deadline and the events, commit. The partial unique indexes on assignments back this up:
the database itself refuses a second open offer for a ticket or a unit.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import cache

from flask import current_app
from werkzeug.utils import import_string

from ..extensions import db
from ..models import Assignment, Ticket, Unit
from ..models.ticket import ROUTABLE_STATUSES
from . import clock, events, locator, state

log = logging.getLogger(__name__)

FAILED_OFFER_STATUSES = ("declined", "expired")


@cache
def _eta_function(path: str):
    return import_string(path)


def eta_s(distance_m: float, kind: str) -> int:
    """ETA from the configured estimator (``CALLCENTER_ETA_FUNCTION``)."""
    cfg = current_app.config
    return int(_eta_function(cfg["CALLCENTER_ETA_FUNCTION"])(distance_m, kind, cfg))


def fresh_after():
    return clock.now() - timedelta(seconds=current_app.config["CALLCENTER_POSITION_MAX_AGE_S"])


def failed_units(ticket_id: int) -> set[int]:
    return set(
        db.session.scalars(
            db.select(Assignment.unit_id).where(
                Assignment.ticket_id == ticket_id,
                Assignment.status.in_(FAILED_OFFER_STATUSES),
            )
        )
    )


def _claim(unit_id: int, cutoff) -> bool:
    """Make an available unit ``dispatched``, only if it still is available and fresh."""
    result = db.session.execute(
        db.update(Unit)
        .where(Unit.id == unit_id, Unit.status == "available", Unit.position_at >= cutoff)
        .values(status="dispatched", status_reason=None, status_changed_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def offer(
    ticket: Ticket, unit: Unit, distance_m: float | None, *, actor=None, manual: bool = False
) -> Assignment:
    cfg = current_app.config
    now = clock.now()
    assignment = Assignment(
        ticket_id=ticket.id,
        unit_id=unit.id,
        status="offered",
        manual=manual,
        offered_at=now,
        deadline_at=now + timedelta(seconds=cfg["CALLCENTER_OFFER_TIMEOUT_S"]),
        distance_m=distance_m,
        eta_s=eta_s(distance_m, unit.kind) if distance_m is not None else None,
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(assignment)
    db.session.flush()
    if ticket.dispatched_at is None:
        ticket.dispatched_at = now
    events.record(
        "assignment.offered",
        ticket=ticket,
        unit=unit,
        actor=actor,
        data={
            "assignment_id": assignment.id,
            "callsign": unit.callsign,
            "number": ticket.number,
            "deadline_at": assignment.deadline_at.isoformat(),
            "distance_m": round(distance_m) if distance_m is not None else None,
            "eta_s": assignment.eta_s,
            "manual": manual,
        },
    )
    state.set_ticket_status(
        ticket,
        "dispatched",
        actor=actor,
        unit=unit,
        data={"assignment_id": assignment.id, "callsign": unit.callsign},
    )
    return assignment


def escalate(ticket: Ticket, reason: str, *, actor=None) -> bool:
    """Flag a ticket for the dispatcher's attention (shown in red); once per ticket."""
    if ticket.escalated_at is not None:
        return False
    ticket.escalated_at = clock.now()
    ticket.escalation_reason = reason
    events.record(
        "ticket.escalated",
        ticket=ticket,
        actor=actor,
        data={"reason": reason, "number": ticket.number, "priority": ticket.priority},
    )
    return True


def route_locked(ticket: Ticket) -> str:
    """Route a ticket whose row this transaction holds locked; does not commit.

    Returns ``offered``, ``queued``, ``escalated`` or ``skipped``.
    """
    cfg = current_app.config
    if ticket.status not in ROUTABLE_STATUSES or ticket.lat is None:
        return "skipped"
    if ticket.escalation_reason == "max_offers":
        return "skipped"  # waits for the dispatcher
    if state.active_assignment(ticket_id=ticket.id) is not None:
        return "skipped"
    failed = failed_units(ticket.id)
    if len(failed) >= cfg["CALLCENTER_MAX_OFFERS"]:
        escalate(ticket, "max_offers")
        state.set_ticket_status(ticket, "queued", reason="max_offers")
        return "escalated"

    cutoff = fresh_after()
    radius_m = cfg["CALLCENTER_SEARCH_RADIUS_KM"] * 1000
    candidates = locator.nearest_available(
        ticket.lat, ticket.lon, radius_m=radius_m, fresh_after=cutoff, exclude=failed, limit=5
    )
    for candidate in candidates:
        if _claim(candidate.unit_id, cutoff):
            unit = db.session.get(Unit, candidate.unit_id, populate_existing=True)
            events.record(
                "unit.status_changed",
                unit=unit,
                ticket=ticket,
                data={
                    "from": "available",
                    "to": "dispatched",
                    "reason": None,
                    "callsign": unit.callsign,
                },
            )
            locator.unit_changed(unit.id, "dispatched", unit.lat, unit.lon)
            offer(ticket, unit, candidate.distance_m)
            return "offered"

    reason = locator.queue_reason(
        ticket.lat, ticket.lon, radius_m=radius_m, fresh_after=cutoff, exclude=failed
    )
    state.set_ticket_status(ticket, "queued", reason=reason)
    return "queued"


def route_ticket(ticket_id: int) -> str:
    """Route one ticket in its own transaction; safe to run twice, or concurrently."""
    ticket = state.lock_ticket(ticket_id)
    if ticket is None:
        db.session.rollback()
        return "skipped"
    outcome = route_locked(ticket)
    db.session.commit()
    return outcome


def waiting_tickets(limit: int = 200) -> list[tuple[int, str]]:
    """``(id, status)`` of tickets waiting for a unit, highest priority first, then oldest."""
    return [
        (row.id, row.status)
        for row in db.session.execute(
            db.select(Ticket.id, Ticket.status)
            .where(
                Ticket.status.in_(ROUTABLE_STATUSES),
                Ticket.lat.is_not(None),
                db.or_(
                    Ticket.escalation_reason.is_(None), Ticket.escalation_reason != "max_offers"
                ),
            )
            .order_by(Ticket.priority, Ticket.created_at, Ticket.id)
            .limit(limit)
        )
    ]


def any_unit_free() -> bool:
    return db.session.scalar(
        db.select(db.exists().where(Unit.status == "available", Unit.position_at >= fresh_after()))
    )


def route_queued(limit: int = 200) -> dict:
    """Route waiting tickets in priority order; returns counts of the outcomes.

    Queued tickets are only tried while some unit is free; a ticket still ``new`` is always
    routed, so that it is offered or queued with its reason.
    """
    outcomes: dict[str, int] = {}
    waiting = waiting_tickets(limit)
    db.session.rollback()  # end the read; each ticket is its own transaction
    none_free = False
    for ticket_id, status in waiting:
        if status == "queued":
            none_free = none_free or not any_unit_free()
            db.session.rollback()
            if none_free:
                continue
        outcome = route_ticket(ticket_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
