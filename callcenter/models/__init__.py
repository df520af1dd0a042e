"""The models, one module per aggregate."""

from .assignment import Assignment
from .emergency import Emergency
from .event import Event
from .heartbeat import Heartbeat
from .ticket import IdempotencyKey, Ticket, TicketCounter
from .unit import Sector, Unit, UnitPosition
from .user import ApiToken, SignInThrottle, User
from .whatsapp import WaCursor, WaMessage, WaStatus, WaThread

__all__ = [
    "ApiToken",
    "Assignment",
    "Emergency",
    "Event",
    "Heartbeat",
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
