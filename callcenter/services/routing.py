"""Automatic routing: fill each ticket's open slots with the nearest free units.

One ticket is routed in one transaction: lock the ticket and its active assignments, and
while a slot is open, pick the nearest available unit with a fresh position that is not on
the ticket and has not left it (declined, let the offer expire, released, cleared), claim it
with a conditional update (so two workers can never claim one unit) and write the offer with
its slot, its deadline and the events; then commit. The database backs this up: it refuses a
second active assignment of a unit, the same unit twice on a ticket, and a ticket holding
more active assignments than it needs (models/assignment.py).

Escalation is per slot: a slot that ``CALLCENTER_MAX_OFFERS`` units declined or let expire
is left to the dispatcher (the ticket is escalated, its other slots are still routed).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import cache

from flask import current_app
from werkzeug.utils import import_string

from ..extensions import db
from ..models import Assignment, Ticket, Unit
from ..models.ticket import OPEN_STATUSES
from ..ops import metrics
from . import clock, events, locator, slots, sql, state

log = logging.getLogger(__name__)
# Searches for more candidates when others won the claim race.
CLAIM_ROUNDS = 3


@cache
def _eta_function(path: str):
    return import_string(path)


def eta_s(distance_m: float, kind: str) -> int:
    """ETA from the configured estimator (``CALLCENTER_ETA_FUNCTION``)."""
    cfg = current_app.config
    return int(_eta_function(cfg["CALLCENTER_ETA_FUNCTION"])(distance_m, kind, cfg))


def fresh_after():
    return clock.now() - timedelta(seconds=current_app.config["CALLCENTER_POSITION_MAX_AGE_S"])


def _claim(unit_id: int, cutoff, ticket: Ticket) -> Unit | None:
    """Make an available unit ``dispatched``, only if it still is available and fresh.

    On PostgreSQL a unit row locked by another transaction is skipped, not waited for: a
    routing transaction may claim several units, and two of them waiting for each other's
    units would deadlock. The lock is FOR NO KEY UPDATE, as in services/state.py.
    (SQLite runs one writing transaction at a time.)"""
    free = (Unit.id == unit_id, Unit.status == "available", Unit.position_at >= cutoff)
    if sql.is_postgresql():
        free = (
            Unit.id
            == db.select(Unit.id)
            .where(*free)
            .with_for_update(skip_locked=True, key_share=True)
            .scalar_subquery(),
        )
    result = db.session.execute(
        db.update(Unit)
        .where(*free)
        .values(status="dispatched", status_reason=None, status_changed_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    unit = db.session.get(Unit, unit_id, populate_existing=True)
    events.record(
        "unit.status_changed",
        unit=unit,
        ticket=ticket,
        data={"from": "available", "to": "dispatched", "reason": None, "callsign": unit.callsign},
    )
    locator.unit_changed(unit.id, "dispatched", unit.lat, unit.lon)
    return unit


def offer(
    ticket: Ticket,
    unit: Unit,
    distance_m: float | None,
    slot: int,
    *,
    actor=None,
    manual: bool = False,
) -> Assignment:
    """Write an offer of ``ticket`` to ``unit`` in ``slot``, with its deadline and event.

    The caller holds the ticket's lock, has made the unit ``dispatched`` and then sets the
    ticket's status (``slots.follow_units``)."""
    cfg = current_app.config
    now = clock.now()
    assignment = Assignment(
        ticket_id=ticket.id,
        unit_id=unit.id,
        slot=slot,
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
        created_at = ticket.created_at
        events.after_commit(lambda: metrics.observe_since(metrics.INTAKE_TO_OFFER, created_at))
    events.record(
        "assignment.offered",
        ticket=ticket,
        unit=unit,
        actor=actor,
        data={
            "assignment_id": assignment.id,
            "callsign": unit.callsign,
            "number": ticket.number,
            "slot": slot,
            "units_needed": ticket.units_needed,
            "deadline_at": assignment.deadline_at.isoformat(),
            "distance_m": round(distance_m) if distance_m is not None else None,
            "eta_s": assignment.eta_s,
            "manual": manual,
        },
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
    """Fill the open slots of a ticket whose row this transaction holds locked; does not
    commit. Returns ``offered`` (at least one offer made), ``queued`` (a slot still waits),
    ``escalated`` (a slot reached the failed-offer limit just now) or ``skipped``."""
    cfg = current_app.config
    if ticket.status not in OPEN_STATUSES or ticket.lat is None:
        return "skipped"
    crew = slots.crew_of(ticket, lock=True)
    need = crew.to_fill
    if need == 0:
        if ticket.waiting_since is not None:
            slots.follow_units(ticket, crew)
        return "skipped"

    failures = slots.failures_by_slot(ticket.id)
    limit = cfg["CALLCENTER_MAX_OFFERS"]
    open_slots = [n for n in crew.free_slots() if failures[n] < limit][:need]
    blocked = len(open_slots) < need
    escalated = blocked and escalate(ticket, "max_offers")

    cutoff = fresh_after()
    radius_m = cfg["CALLCENTER_SEARCH_RADIUS_KM"] * 1000
    excluded = slots.ineligible_units(ticket) | crew.unit_ids()
    tried: set[int] = set()
    offered, last = 0, None
    for _ in range(CLAIM_ROUNDS):
        wanted = len(open_slots) - offered
        if wanted == 0:
            break
        candidates = locator.nearest_available(
            ticket.lat,
            ticket.lon,
            radius_m=radius_m,
            fresh_after=cutoff,
            exclude=excluded | tried,
            limit=wanted + 4,
        )
        if not candidates:
            break
        for candidate in candidates:
            if offered == len(open_slots):
                break
            tried.add(candidate.unit_id)
            unit = _claim(candidate.unit_id, cutoff, ticket)
            if unit is not None:
                crew.active.append(offer(ticket, unit, candidate.distance_m, open_slots[offered]))
                offered, last = offered + 1, unit

    reason = None
    if offered < len(open_slots):
        reason = locator.queue_reason(
            ticket.lat, ticket.lon, radius_m=radius_m, fresh_after=cutoff, exclude=excluded
        )
    elif blocked:
        reason = "max_offers"
    slots.follow_units(ticket, crew, reason=reason, unit=last)
    if offered:
        return "offered"
    return "escalated" if escalated else "queued"


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
    """``(id, status)`` of open tickets with a slot waiting for a unit (or not routed yet),
    highest priority first, then oldest."""
    return [
        (row.id, row.status)
        for row in db.session.execute(
            db.select(Ticket.id, Ticket.status)
            .where(
                db.or_(Ticket.waiting_since.is_not(None), Ticket.status == "new"),
                Ticket.status.in_(OPEN_STATUSES),
                Ticket.lat.is_not(None),
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

    A ticket already routed once is only tried again while some unit is free; a ticket
    still ``new`` is always routed, so that it is offered or queued with its reason.
    """
    outcomes: dict[str, int] = {}
    waiting = waiting_tickets(limit)
    db.session.rollback()  # end the read; each ticket is its own transaction
    none_free = False
    for ticket_id, status in waiting:
        if status != "new":
            none_free = none_free or not any_unit_free()
            db.session.rollback()
            if none_free:
                continue
        outcome = route_ticket(ticket_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
