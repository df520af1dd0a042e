"""The models, one module per aggregate."""

from .agencies import Agency, Handoff
from .assignment import Assignment
from .callbacks import Callback, CallbackAttempt
from .emergency import Emergency
from .event import Event
from .ticket import IdempotencyKey, Ticket, TicketCounter
from .unit import Sector, Unit, UnitPosition
from .user import ApiToken, SignInThrottle, User
from .whatsapp import WaCursor, WaMessage, WaStatus, WaThread

__all__ = [
    "Agency",
    "ApiToken",
    "Assignment",
    "Callback",
    "CallbackAttempt",
    "Emergency",
    "Event",
    "Handoff",
    "IdempotencyKey",
    "Sector",
    "SignInThrottle",
    "Ticket",
    "TicketCounter",
    "Unit",
    "UnitPosition",
    "User",
    "WaCursor",
    "WaMessage",
    "WaStatus",
    "WaThread",
]
