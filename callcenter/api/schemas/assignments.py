"""A unit's answer to an offer and its progress on the job; the dispatcher's release."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...models.ticket import MAX_UNITS, TICKET_STATUSES
from .common import Assignment, Body
from .tickets import Ticket, UnitTicket, whole

Reason = Annotated[str, Field(max_length=300, description="Required.")]


class DeclineIn(Body):
    reason: Annotated[str, Field(max_length=200)] = Field(description="Required.")


class ProgressIn(Body):
    status: Literal["en_route", "on_scene", "cleared"]
    resolution: str | None = Field(
        None, description="With `cleared`: a code of `GET /api/v1/resolutions` (required)."
    )
    note: Annotated[str, Field(max_length=2000)] | None = None


class ReleaseIn(Body):
    reason: Reason
    refill: bool = Field(
        True,
        description="False: the ticket needs one unit fewer instead of offering the slot again.",
    )


class BackupIn(Body):
    count: whole(1, MAX_UNITS - 1) = Field(
        None, description="How many more units (default 1; the ticket's total is at most 10)."
    )
    reason: Reason


class AssignmentState(Assignment):
    """The assignment after the change, and its ticket's status."""

    ticket_status: Literal[TICKET_STATUSES]


class Released(AssignmentState):
    ticket: Ticket


class BackupSent(AssignmentState):
    added: int = Field(description="Units added to the ticket's need.")
    ticket: Ticket | UnitTicket = Field(description="A unit is told the ticket without flags.")
