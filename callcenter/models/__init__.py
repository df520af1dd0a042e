"""The models, one module per aggregate."""

from .assignment import Assignment
from .calls import Call
from .emergency import Emergency
from .event import Event, EventRecipient
from .notes import TicketNote
from .ticket import IdempotencyKey, Ticket, TicketCounter
from .unit import Sector, Unit, UnitPosition
from .user import ApiToken, SignInThrottle, User
from .whatsapp import WaCursor, WaMessage, WaStatus, WaThread

__all__ = [
    "ApiToken",
    "Assignment",
    "Call",
    "Emergency",
    "Event",
    "EventRecipient",
    "IdempotencyKey",
    "Sector",
    "SignInThrottle",
    "Ticket",
    "TicketCounter",
    "TicketNote",
    "Unit",
    "UnitPosition",
    "User",
    "WaCursor",
    "WaMessage",
    "WaStatus",
    "WaThread",
]
