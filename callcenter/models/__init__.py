"""The models, one module per aggregate."""

from .assignment import Assignment
from .catalog import CategorySetting
from .emergency import Emergency
from .event import Event
from .ticket import IdempotencyKey, Ticket, TicketCounter
from .unit import Sector, Unit, UnitPosition, UnitShift
from .user import ApiToken, SignInThrottle, User
from .whatsapp import WaCursor, WaMessage, WaStatus, WaThread

__all__ = [
    "ApiToken",
    "Assignment",
    "CategorySetting",
    "Emergency",
    "Event",
    "IdempotencyKey",
    "Sector",
    "SignInThrottle",
    "Ticket",
    "TicketCounter",
    "Unit",
    "UnitPosition",
    "UnitShift",
    "User",
    "WaCursor",
    "WaMessage",
    "WaStatus",
    "WaThread",
]
