"""JSON shapes of hand-offs, the agency catalog and call-backs."""

from __future__ import annotations

from flask_babel import get_locale

from ..models import Agency, Callback, CallbackAttempt, Handoff, Ticket
from ..services import catalog, clock, phones


def _locale() -> str:
    return str(get_locale() or "id")


def agency(a: Agency) -> dict:
    return {
        "id": a.id,
        "code": a.code,
        "kind": a.kind,
        "name": {"id": a.name_id, "en": a.name_en},
        "label": a.name(_locale()),
        "phone": a.phone,  # None: the number is not entered yet
        "phone_display": phones.display(a.phone) or None,
        "active": a.active,
    }


def handoff(h: Handoff) -> dict:
    now = clock.now()
    return {
        "id": h.id,
        "ticket_id": h.ticket_id,
        "agency": agency(h.agency),
        "status": h.status,
        "note": h.note,
        "created_at": h.created_at,
        "created_by_id": h.created_by_id,
        "due_at": h.due_at,
        "overdue": h.status == "pending" and h.due_at <= now,
        "escalated_at": h.escalated_at,
        "acknowledged_at": h.acknowledged_at,
        "acknowledged_by": h.acknowledged_by,
        "reference": h.reference,
        "recorded_at": h.recorded_at,
        "recorded_by_id": h.recorded_by_id,
    }


def _ticket_brief(t: Ticket | None) -> dict | None:
    if t is None:
        return None
    return {
        "id": t.id,
        "number": t.number,
        "category": t.category,
        "category_label": catalog.label(t.category, _locale()),
        "status": t.status,
        "created_at": t.created_at,
        "summary": t.summary,
    }


def attempt(a: CallbackAttempt) -> dict:
    return {"id": a.id, "outcome": a.outcome, "note": a.note, "at": a.at, "by_id": a.by_id}


def callback(c: Callback, tickets: dict[int, Ticket], attempts: list[CallbackAttempt]) -> dict:
    """A call-back task with the call it came from, its tries and the ticket it became."""
    now = clock.now()
    return {
        "id": c.id,
        "status": c.status,
        "phone": c.phone,
        "phone_display": phones.display(c.phone) or None,
        "created_at": c.created_at,
        "due_at": c.due_at,
        "overdue": c.status == "open" and c.due_at <= now,
        "overdue_at": c.overdue_at,
        "attempts": c.attempts,
        "no_answers": c.no_answers,
        "closed_at": c.closed_at,
        "close_reason": c.close_reason,
        "ticket": _ticket_brief(tickets.get(c.ticket_id)),
        "result_ticket": _ticket_brief(tickets.get(c.result_ticket_id)),
        "history": [attempt(a) for a in attempts],
    }


def callbacks(rows: list[Callback], details: tuple[dict, dict]) -> list[dict]:
    """Call-back tasks; ``details`` is ``services.callbacks.details(rows)``."""
    tickets, attempts = details
    return [callback(c, tickets, attempts[c.id]) for c in rows]
