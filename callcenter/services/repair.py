"""The repair sweep, run by beat every few seconds: whatever a lost message or a crash left
behind is done again. Every step is safe to run twice."""

from __future__ import annotations

from datetime import timedelta

import redis
from flask import current_app

from ..extensions import db
from ..models import Assignment, Ticket
from ..models.ticket import OPEN_STATUSES
from . import bus, clock, lifecycle, locator, routing, state


def sweep() -> dict:
    """Repair what a lost message or a crash left behind; every step is safe to run twice.

    Expires offers past their deadline, escalates priority 1-2 tickets with a slot that
    waited too long for a unit, routes tickets stuck in ``new`` and tickets with a waiting
    slot while a unit is free, and keeps the live index in step with the database.
    """
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
                Ticket.waiting_since <= limit,
                Ticket.status.in_(OPEN_STATUSES),
                Ticket.priority <= 2,
                Ticket.escalated_at.is_(None),
            )
        )
    )
    db.session.rollback()
    for ticket_id in late:
        ticket = state.lock_ticket(ticket_id)
        if (
            ticket is not None
            and ticket.status in OPEN_STATUSES
            and ticket.waiting_since is not None
            and ticket.waiting_since <= limit
        ):
            report["escalated"] += int(routing.escalate(ticket, "queued_too_long"))
        db.session.commit()

    stuck = now - timedelta(seconds=cfg["CALLCENTER_STUCK_NEW_S"])
    stuck_new = db.session.scalar(
        db.select(db.exists().where(Ticket.status == "new", Ticket.created_at <= stuck))
    )
    waiting = db.session.scalar(
        db.select(
            db.exists().where(
                Ticket.waiting_since.is_not(None),
                Ticket.status.in_(OPEN_STATUSES),
                Ticket.status != "new",
            )
        )
    )
    if stuck_new or (waiting and routing.any_unit_free()):
        db.session.rollback()
        report["routed"] = routing.route_queued().get("offered", 0)
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
