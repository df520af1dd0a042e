"""The models, one module per aggregate."""

from .agencies import Agency, Handoff
from .assignment import Assignment
from .callbacks import Callback, CallbackAttempt
from .calls import Call
from .catalog import CategorySetting
from .eido import EidoLink
from .emergency import Emergency
from .event import Event, EventRecipient
from .heartbeat import Heartbeat
from .notes import TicketNote
from .ticket import IdempotencyKey, Ticket, TicketCounter
from .unit import Sector, Unit, UnitPosition, UnitShift
from .user import ApiToken, SignInThrottle, User
from .whatsapp import WaCursor, WaMessage, WaSetting, WaStatus, WaThread

__all__ = [
    "Agency",
    "ApiToken",
    "Assignment",
    "Call",
    "Callback",
    "CallbackAttempt",
    "CategorySetting",
    "EidoLink",
    "Emergency",
    "Event",
    "EventRecipient",
    "Handoff",
    "Heartbeat",
    "IdempotencyKey",
    "Sector",
    "SignInThrottle",
    "Ticket",
    "TicketCounter",
    "TicketNote",
    "Unit",
    "UnitPosition",
    "UnitShift",
    "User",
    "WaCursor",
    "WaMessage",
    "WaSetting",
    "WaStatus",
    "WaThread",
]
