"""Hand-offs: a ticket handed to another agency (Damkar, PSC 119, BPBD, ...), the agency's
acknowledgement as the dispatcher records it, and the escalation of one left unanswered.

A hand-off-only category sends no police unit: its ticket waits as ``handed_off`` ("Diserahkan"
on the board) and closes, resolution ``referred``, when its last hand-off is acknowledged.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Agency, Handoff, Ticket, User
from ..models.ticket import OPEN_STATUSES
from . import catalog, clock, events, routing, state
from .errors import Conflict, NotFound, ValidationError
from .validation import Errors, is_id, optional_text, parse_time, unknown_fields

NOTE_MAX = 1000
ESCALATION_REASON = "handoff_unacknowledged"


def agencies() -> list[Agency]:
    """The catalog, in its order (emergency services first, then the police desks)."""
    return list(
        db.session.scalars(
            db.select(Agency).where(Agency.active.is_(True)).order_by(Agency.sort_order, Agency.id)
        )
    )


def of_ticket(ticket_id: int) -> list[Handoff]:
    return list(
        db.session.scalars(
            db.select(Handoff).where(Handoff.ticket_id == ticket_id).order_by(Handoff.id)
        )
    )


def _agency(ref) -> Agency | None:
    if isinstance(ref, str) and ref.strip():
        return db.session.scalars(
            db.select(Agency).where(Agency.code == ref.strip().lower(), Agency.active.is_(True))
        ).one_or_none()
    if is_id(ref):
        agency = db.session.get(Agency, ref)
        return agency if agency is not None and agency.active else None
    return None


def _add(ticket: Ticket, agency: Agency, note: str | None, actor) -> Handoff:
    """Write one pending hand-off and its event (the caller holds the ticket's lock)."""
    now = clock.now()
    handoff = Handoff(
        ticket_id=ticket.id,
        agency_id=agency.id,
        agency=agency,
        note=note,
        created_at=now,
        created_by_id=actor if isinstance(actor, int) or actor is None else actor.id,
        due_at=now + timedelta(seconds=current_app.config["CALLCENTER_HANDOFF_ACK_S"]),
    )
    db.session.add(handoff)
    db.session.flush()
    events.record(
        "handoff.created",
        ticket=ticket,
        actor=actor,
        data={
            "handoff_id": handoff.id,
            "number": ticket.number,
            "agency": agency.code,
            "agency_name": agency.name_id,
            "due_at": handoff.due_at.isoformat(),
            "note": note,
        },
    )
    return handoff


def at_intake(ticket: Ticket, category: catalog.Category, *, actor) -> Handoff | None:
    """A new ticket of a category with an agency is handed to it; a hand-off-only one then
    waits as ``handed_off``. Part of intake's transaction; does not commit."""
    if not category.agency:
        return None
    agency = _agency(category.agency)
    if agency is None:  # the catalog row was removed: the dispatcher hands it off by hand
        return None
    handoff = _add(ticket, agency, None, actor)
    if category.handoff_only:
        state.set_ticket_status(ticket, "handed_off", actor=actor, data={"agency": agency.code})
    return handoff


def hand_off(ticket_id: int, data: dict, *, actor: User) -> Handoff:
    """Record that an open ticket was handed to ``agency`` (a catalog code), with a note.

    Refused: an unknown agency (422), a closed ticket or one already waiting on that agency
    (409)."""
    errors = Errors()
    unknown_fields(data, {"agency", "note"}, errors)
    agency = _agency(data.get("agency"))
    if agency is None:
        errors.add("agency", _l("Choose an agency from the catalog."))
    note = optional_text(data.get("note"), "note", errors, NOTE_MAX)
    if errors:
        raise ValidationError(_l("The ticket was not handed off."), fields=errors)
    ticket = state.lock_ticket(ticket_id)
    if ticket is None:
        raise NotFound(_l("No such ticket."))
    if ticket.status not in OPEN_STATUSES:
        raise Conflict(_l("The ticket is closed."), code="ticket_closed")
    waiting = db.session.scalar(
        db.select(Handoff.id).where(
            Handoff.ticket_id == ticket.id,
            Handoff.agency_id == agency.id,
            Handoff.status == "pending",
        )
    )
    if waiting is not None:
        raise Conflict(
            _l("This ticket already waits for that agency to acknowledge it."),
            code="handoff_pending",
        )
    try:
        handoff = _add(ticket, agency, note, actor)
    except IntegrityError as exc:  # the same hand-off, sent twice at once
        db.session.rollback()
        raise Conflict(
            _l("This ticket already waits for that agency to acknowledge it."),
            code="handoff_pending",
        ) from exc
    db.session.commit()
    return handoff


def acknowledge(handoff_id: int, data: dict, *, actor: User) -> Handoff:
    """Record the agency's acknowledgement: ``by`` (who answered there), ``reference`` (their
    number for it) and ``at`` (when; default now). A hand-off-only ticket with nothing else
    waiting closes. Refused: a second acknowledgement (409)."""
    errors = Errors()
    unknown_fields(data, {"by", "reference", "at"}, errors)
    by = optional_text(data.get("by"), "by", errors, 120)
    if not by and "by" not in errors:
        errors.add("by", _l("Required: who at the agency acknowledged it."))
    reference = optional_text(data.get("reference"), "reference", errors, 80)
    at = parse_time(data.get("at"), "at", errors)
    now = clock.now()
    if at is not None and at > now + timedelta(minutes=1):
        errors.add("at", _l("This time is in the future."))
    if errors:
        raise ValidationError(_l("The acknowledgement was not recorded."), fields=errors)

    ticket_id = db.session.scalar(db.select(Handoff.ticket_id).where(Handoff.id == handoff_id))
    db.session.rollback()
    if ticket_id is None:
        raise NotFound(_l("No such hand-off."))
    ticket = state.lock_ticket(ticket_id)  # lock order: the ticket, then its hand-off
    handoff = db.session.scalars(
        db.select(Handoff)
        .where(Handoff.id == handoff_id)
        .with_for_update(of=Handoff)
        .execution_options(populate_existing=True)
    ).one()
    if handoff.status != "pending":
        raise Conflict(_l("This hand-off was already acknowledged."), code="already_acknowledged")
    if at is not None and at < handoff.created_at - timedelta(minutes=1):
        raise ValidationError(
            _l("The acknowledgement was not recorded."),
            fields={"at": _l("This is before the ticket was handed off.")},
        )
    handoff.status = "acknowledged"
    handoff.acknowledged_at = at or now
    handoff.acknowledged_by = by
    handoff.reference = reference
    handoff.recorded_at = now
    handoff.recorded_by_id = actor.id
    db.session.flush()
    events.record(
        "handoff.acknowledged",
        ticket=ticket,
        actor=actor,
        data={
            "handoff_id": handoff.id,
            "number": ticket.number,
            "agency": handoff.agency.code,
            "agency_name": handoff.agency.name_id,
            "by": by,
            "reference": reference,
            "acknowledged_at": handoff.acknowledged_at.isoformat(),
            "late": handoff.escalated_at is not None,
        },
    )
    if ticket.status == "handed_off" and not _pending(ticket.id):
        ticket.resolution = "referred"
        state.finish_ticket(
            ticket,
            "closed",
            actor=actor,
            data={"resolution": "referred", "agency": handoff.agency.code},
        )
    db.session.commit()
    return handoff


def _pending(ticket_id: int) -> bool:
    return db.session.scalar(
        db.select(db.exists().where(Handoff.ticket_id == ticket_id, Handoff.status == "pending"))
    )


def escalate_overdue() -> int:
    """Escalate every hand-off of an open ticket still unacknowledged past its due time:
    the hand-off is marked, its event written, and the ticket flagged for the dispatcher.
    Each in its own transaction; safe to run twice or on two workers at once."""
    now = clock.now()
    due = list(
        db.session.execute(
            db.select(Handoff.id, Handoff.ticket_id)
            .join(Ticket, Ticket.id == Handoff.ticket_id)
            .where(
                Handoff.status == "pending",
                Handoff.due_at <= now,
                Handoff.escalated_at.is_(None),
                Ticket.status.in_(OPEN_STATUSES),
            )
            .order_by(Handoff.due_at)
            .limit(200)
        )
    )
    db.session.rollback()
    escalated = 0
    for handoff_id, ticket_id in due:
        ticket = state.lock_ticket(ticket_id)
        handoff = db.session.scalars(
            db.select(Handoff)
            .where(Handoff.id == handoff_id)
            .with_for_update(of=Handoff)
            .execution_options(populate_existing=True)
        ).one_or_none()
        if (
            ticket is None
            or handoff is None
            or handoff.status != "pending"
            or handoff.escalated_at is not None
            or ticket.status not in OPEN_STATUSES
        ):
            db.session.rollback()
            continue
        handoff.escalated_at = now
        events.record(
            "handoff.escalated",
            ticket=ticket,
            data={
                "handoff_id": handoff.id,
                "number": ticket.number,
                "agency": handoff.agency.code,
                "agency_name": handoff.agency.name_id,
                "due_at": handoff.due_at.isoformat(),
            },
        )
        routing.escalate(ticket, ESCALATION_REASON)
        db.session.commit()
        escalated += 1
    return escalated
