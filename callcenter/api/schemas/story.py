"""A ticket with its whole story: the shapes of tickets, WhatsApp and follow-ups together
(a module of its own, so that those modules need not import one another)."""

from __future__ import annotations

from pydantic import Field

from .common import Assignment
from .followups import Callback, Handoff
from .tickets import Note, Ticket, TicketCall, TimelineEntry
from .wa import WaMessage


class TicketDetail(Ticket):
    """A ticket with its whole story."""

    assignments: list[Assignment]
    timeline: list[TimelineEntry]
    calls: list[TicketCall]
    notes: list[Note]
    whatsapp: list[WaMessage] = Field(description="Its WhatsApp messages, oldest first.")
    handoffs: list[Handoff]
    callbacks: list[Callback]
