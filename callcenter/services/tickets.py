"""Reading tickets: lists, one ticket with its units and assignments."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Assignment, Ticket
from ..models.ticket import OPEN_STATUSES, TICKET_STATUSES
from . import slots
from .errors import NotFound, ValidationError


def parse_statuses(raw: str | None) -> list[str] | None:
    """``status=queued,dispatched`` or ``status=open``; None for no filter."""
    if not raw:
        return None
    wanted: list[str] = []
    for part in raw.split(","):
        part = part.strip()
        if part == "open":
            wanted.extend(OPEN_STATUSES)
        elif part in TICKET_STATUSES:
            wanted.append(part)
        else:
            raise ValidationError(
                _l("Unknown status."),
                fields={
                    "status": _l(
                        "One of: %(choices)s.", choices=", ".join(("open", *TICKET_STATUSES))
                    )
                },
            )
    return wanted


def list_tickets(statuses: list[str] | None, limit: int, after: int | None) -> list[Ticket]:
    """Tickets in id order after the ``after`` cursor."""
    query = (
        db.select(Ticket).options(selectinload(Ticket.emergency)).order_by(Ticket.id).limit(limit)
    )
    if statuses:
        query = query.where(Ticket.status.in_(statuses))
    if after is not None:
        query = query.where(Ticket.id > after)
    return list(db.session.scalars(query))


def get(ticket_id: int) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(_l("No such ticket."))
    return ticket


def crews(rows: list[Ticket]) -> dict[int, slots.Crew]:
    """Each ticket's active assignments and how many units cleared it (for its JSON)."""
    return slots.crews(rows)


def crew(ticket: Ticket) -> slots.Crew:
    return slots.crews([ticket])[ticket.id]


def assignments_of(ticket_id: int) -> list[Assignment]:
    return list(
        db.session.scalars(
            db.select(Assignment).where(Assignment.ticket_id == ticket_id).order_by(Assignment.id)
        )
    )
