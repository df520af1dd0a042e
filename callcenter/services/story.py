"""A ticket's whole story, as the detail screen reads it: its units, timeline, calls, notes,
WhatsApp messages, hand-offs and call-backs. Reads only; nothing imports this module back."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Assignment, Call, Callback, Event, Handoff, Ticket, TicketNote, User, WaMessage
from . import accounts, callbacks, calls, events, handoffs, notes, tickets
from .slots import Crew
from .whatsapp import threads


@dataclass
class Story:
    ticket: Ticket
    crew: Crew
    assignments: list[Assignment]
    events: list[Event]
    actors: dict[int, User]
    calls: list[Call]
    notes: list[TicketNote]
    whatsapp: list[WaMessage]
    handoffs: list[Handoff]
    callbacks: list[Callback]
    callback_details: tuple[dict, dict]


def of_ticket(ticket_id: int) -> Story:
    """Everything about one ticket (``NotFound`` when there is no such ticket)."""
    ticket = tickets.get(ticket_id)
    rows = events.for_ticket(ticket.id)
    tasks = callbacks.of_ticket(ticket.id)
    return Story(
        ticket=ticket,
        crew=tickets.crew(ticket),
        assignments=tickets.assignments_of(ticket.id),
        events=rows,
        actors=accounts.users_by_id(e.actor_id for e in rows),
        calls=calls.calls_of(ticket.id),
        notes=notes.notes_of(ticket.id),
        whatsapp=threads.ticket_story(ticket.id),
        handoffs=handoffs.of_ticket(ticket.id),
        callbacks=tasks,
        callback_details=callbacks.details(tasks),
    )
