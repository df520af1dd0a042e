"""Running notes on a ticket: what the command center and the units on it learn.

A note is never changed or removed. Each one is an event that reaches the consoles and
the stream of every unit on the ticket, so it shows at once on every job screen.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Ticket, TicketNote, Unit, User
from ..models.notes import NOTE_MAX
from . import clock, events, lifecycle
from .errors import NotFound, ValidationError
from .validation import Errors, unknown_fields


def notes_of(ticket_id: int) -> list[TicketNote]:
    return list(
        db.session.scalars(
            db.select(TicketNote).where(TicketNote.ticket_id == ticket_id).order_by(TicketNote.id)
        )
    )


def _text(data) -> str:
    if not isinstance(data, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    errors = Errors()
    unknown_fields(data, {"text"}, errors)
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        errors.add("text", _l("Write the note."))
    elif len(text.strip()) > NOTE_MAX:
        errors.add("text", _l("At most %(n)s characters.", n=NOTE_MAX))
    if errors:
        raise ValidationError(_l("The note was not saved."), fields=errors)
    return text.strip()


def add(ticket_id: int, data, *, actor: User, unit: Unit | None = None) -> TicketNote:
    """Add a note to a ticket, open or closed. A unit may add one only to a ticket it may
    read (``lifecycle.get_ticket_for_unit``; any other is 404, as for reading it)."""
    if unit is not None:
        ticket = lifecycle.get_ticket_for_unit(ticket_id, unit)
    else:
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound(_l("No such ticket."))
    text = _text(data)
    note = TicketNote(
        ticket_id=ticket.id,
        text=text,
        created_at=clock.now(),
        author_user_id=actor.id,
        unit_id=unit.id if unit is not None else None,
    )
    db.session.add(note)
    db.session.flush()
    events.record(
        "ticket.note_added",
        ticket=ticket,
        unit=unit,
        actor=actor,
        data={
            "number": ticket.number,
            "note_id": note.id,
            "text": text,
            "callsign": unit.callsign if unit is not None else None,
            "author": actor.full_name or actor.username,
        },
    )
    db.session.commit()
    return note
