"""JSON shapes of a ticket's calls and running notes."""

from __future__ import annotations

from flask_babel import get_locale

from ..services import catalog, phones
from . import serialize_followups, serialize_wa
from .serialize import actor, assignment, ticket, timeline, unit_brief


def call(c) -> dict:
    return {
        "id": c.id,
        "ticket_id": c.ticket_id,
        "channel": c.channel,
        "caller": {
            "name": c.caller_name,
            "phone": c.caller_phone,
            "phone_display": phones.display(c.caller_phone) or None,
        },
        "text": c.text,
        "received_at": c.received_at,
        "taken_by": actor(c.taken_by),
    }


def calls(rows) -> list[dict]:
    """A ticket's calls; the first opened it (it cannot be split off)."""
    return [call(c) | {"opening": i == 0} for i, c in enumerate(rows)]


def note(n) -> dict:
    return {
        "id": n.id,
        "ticket_id": n.ticket_id,
        "text": n.text,
        "created_at": n.created_at,
        "author": actor(n.author),
        "unit": unit_brief(n.unit),
    }


def duplicate(t) -> dict:
    """The ticket a call being typed may be about, as the intake warning shows it."""
    return {
        "id": t.id,
        "number": t.number,
        "status": t.status,
        "category": t.category,
        "category_label": catalog.label(t.category, str(get_locale() or "id")),
        "summary": t.summary,
        "address": t.address,
        "created_at": t.created_at,
    }


def ticket_detail(story) -> dict:
    """A ticket with its whole story (``services.story.Story``)."""
    return ticket(story.ticket, story.crew) | {
        "assignments": [assignment(a) for a in story.assignments],
        "timeline": timeline(story.events, story.actors),
        "calls": calls(story.calls),
        "notes": [note(n) for n in story.notes],
        "whatsapp": serialize_wa.ticket_story(story.whatsapp),
        "handoffs": [serialize_followups.handoff(h) for h in story.handoffs],
        "callbacks": serialize_followups.callbacks(story.callbacks, story.callback_details),
    }
