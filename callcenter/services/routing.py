"""Routing: offer each waiting ticket to the nearest free unit, exactly once.

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

import redis
from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.utils import import_string

from ..extensions import db
from ..models import Assignment, Ticket, Unit
from ..models.ticket import ROUTABLE_STATUSES
from . import bus, clock, events, geo, locator, queue, state
from .errors import Conflict, NotFound, ValidationError

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


def _failed_units(ticket_id: int) -> set[int]:
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


def _offer(
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
    failed = _failed_units(ticket.id)
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
            _offer(ticket, unit, candidate.distance_m)
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


def _any_unit_free() -> bool:
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
            none_free = none_free or not _any_unit_free()
            db.session.rollback()
            if none_free:
                continue
        outcome = route_ticket(ticket_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def suggest_units(ticket_id: int, limit: int = 8) -> list[dict]:
    """The nearest units a dispatcher could give this ticket, for manual assignment.

    Free units (stale positions too, marked as such) and units on a job of lower priority
    (pulling them needs confirmation), nearest first. Units that cannot take it (off duty,
    unavailable, or on a job of the same or higher priority) are left out, so that a free
    unit further away is never hidden behind busy ones. Each entry has the distance, ETA,
    the position's age, whether the unit declined or let this ticket expire, and its job.
    """
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(_l("No such ticket."))
    if ticket.lat is None:
        return []
    cutoff = fresh_after()
    failed = _failed_units(ticket.id)
    jobs = {
        a.unit_id: a
        for a in db.session.scalars(
            db.select(Assignment).where(Assignment.status.in_(("offered", "accepted")))
        )
    }

    def assignable(unit: Unit) -> bool:
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
                "eta_s": eta_s(distance, unit.kind),
                "position_age_s": round((now - unit.position_at).total_seconds())
                if unit.position_at
                else None,
                "stale": unit.position_at is None or unit.position_at < cutoff,
                "declined_before": unit.id in failed,
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


def assign(ticket_id: int, unit_id, *, actor, confirm: bool = False) -> Assignment:
    """A dispatcher offers a chosen unit to a ticket.

    The ticket must be waiting or offered to another unit (that offer is withdrawn). A free
    unit is simply offered the ticket. A unit on a lower-priority job is pulled off it only
    with ``confirm``; that job is re-queued and routed again. A unit on a job of the same or
    higher priority, off duty or unavailable, is refused.
    """
    if isinstance(unit_id, bool) or not isinstance(unit_id, int):
        raise ValidationError(_l("Choose a unit."), fields={"unit_id": _l("Choose a unit.")})
    target = db.session.get(Unit, unit_id)
    if target is None:
        raise ValidationError(_l("No such unit."), fields={"unit_id": _l("No such unit.")})
    if db.session.get(Ticket, ticket_id) is None:
        raise NotFound(_l("No such ticket."))

    # Lock order: both tickets by id, then the unit.
    current = state.active_assignment(unit_id=unit_id)
    other_id = current.ticket_id if current is not None and current.ticket_id != ticket_id else None
    locked = {tid: state.lock_ticket(tid) for tid in sorted({ticket_id, other_id} - {None})}
    ticket = locked[ticket_id]
    unit = state.lock_unit(unit_id)
    current = state.active_assignment(unit_id=unit_id, lock=True)
    if current is not None and current.ticket_id not in locked:
        db.session.rollback()
        raise Conflict(_l("The unit's job changed just now. Try again."), code="unit_changed")

    if ticket.status not in (*ROUTABLE_STATUSES, "dispatched"):
        raise Conflict(_l("This ticket already has a unit or is closed."), code="ticket_not_open")
    if ticket.lat is None:
        raise Conflict(_l("This ticket has no location."), code="no_location")
    if current is not None and current.ticket_id == ticket.id:
        raise Conflict(_l("This unit already has this ticket."), code="already_assigned")

    if current is not None:
        other = locked[current.ticket_id]
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
        state.set_ticket_status(other, "queued", reason="unit_reassigned", actor=actor)
        queue.route_ticket_after_commit(other.id)
    elif unit.status != "available":
        raise Conflict(
            _l(
                "%(callsign)s is %(status)s and cannot take a job.",
                callsign=unit.callsign,
                status=unit.status,
            ),
            code="unit_unavailable",
        )

    previous = state.active_assignment(ticket_id=ticket.id, lock=True)
    if previous is not None:
        previous_unit = state.lock_unit(previous.unit_id)
        state.end_assignment(
            previous,
            "cancelled",
            ticket=ticket,
            unit=previous_unit,
            actor=actor,
            reason="reassigned",
            data={"reason": "reassigned"},
        )
        state.set_unit_status(previous_unit, "available", actor=actor, ticket=ticket)
        queue.route_queued_after_commit()

    state.set_unit_status(unit, "dispatched", actor=actor, ticket=ticket)
    distance = (
        geo.haversine_m(ticket.lat, ticket.lon, unit.lat, unit.lon)
        if unit.lat is not None
        else None
    )
    assignment = _offer(ticket, unit, distance, actor=actor, manual=True)
    db.session.commit()
    return assignment


def sweep() -> dict:
    """Repair what a lost message or a crash left behind; every step is safe to run twice.

    Expires offers past their deadline, escalates priority 1-2 tickets that waited too long,
    routes tickets stuck in ``new`` and queued tickets while a unit is free, and keeps the
    live index in step with the database.
    """
    from . import lifecycle  # lifecycle builds on routing

    cfg = current_app.config
    now = clock.now()
    report = {"expired": 0, "escalated": 0, "routed": 0, "index_fixed": 0}

    overdue = list(
        db.session.scalars(
            db.select(Assignment.id)
            .where(Assignment.status == "offered", Assignment.deadline_at <= now)
            .order_by(Assignment.deadline_at)
        )
    )
    db.session.rollback()
    for assignment_id in overdue:
        report["expired"] += int(lifecycle.expire_offer(assignment_id))

    limit = now - timedelta(seconds=cfg["CALLCENTER_ESCALATE_QUEUED_S"])
    late = list(
        db.session.scalars(
            db.select(Ticket.id).where(
                Ticket.status.in_(ROUTABLE_STATUSES),
                Ticket.priority <= 2,
                Ticket.escalated_at.is_(None),
                Ticket.status_changed_at <= limit,
            )
        )
    )
    db.session.rollback()
    for ticket_id in late:
        ticket = state.lock_ticket(ticket_id)
        if (
            ticket is not None
            and ticket.status in ROUTABLE_STATUSES
            and ticket.status_changed_at <= limit
        ):
            report["escalated"] += int(escalate(ticket, "queued_too_long"))
        db.session.commit()

    stuck = now - timedelta(seconds=cfg["CALLCENTER_STUCK_NEW_S"])
    stuck_new = db.session.scalar(
        db.select(db.exists().where(Ticket.status == "new", Ticket.created_at <= stuck))
    )
    queued = db.session.scalar(db.select(db.exists().where(Ticket.status == "queued")))
    if stuck_new or (queued and _any_unit_free()):
        db.session.rollback()
        report["routed"] = route_queued().get("offered", 0)
    db.session.rollback()

    if cfg["REDIS_URL"] and _due("geo_reconcile", cfg["CALLCENTER_GEO_RECONCILE_S"]):
        try:
            report["index_fixed"] = locator.reconcile()
        finally:
            db.session.rollback()
    return report


def _due(name: str, every_s: float) -> bool:
    """True at most once per ``every_s`` across all workers (a Redis key as the timer)."""
    conn = bus.client()
    try:
        return bool(conn.set(bus.key("due", name), "1", nx=True, px=int(every_s * 1000)))
    except redis.RedisError:
        return False  # no Redis now: nothing to reconcile either
