"""Units: the dispatch board, the map's positions, and the unit's own device (``/units/me``):
its position reports, status, job, tickets, incidents found on patrol and the emergency
button."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator
from pydantic import ValidationError as PydanticError

from ...models.ticket import MAX_UNITS
from ...models.unit import SELF_STATUSES, UNIT_KINDS
from ...ops import metrics
from .common import (
    Assignment,
    Body,
    IsoTime,
    Label,
    Out,
    Query,
    Sector,
    Time,
    TimeText,
)
from .tickets import Note, UnitTicket

Latitude = Annotated[float, Field(ge=-90, le=90, description="WGS 84 degrees.")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="WGS 84 degrees.")]


# --- the board ----------------------------------------------------------------------------


class UnitLocation(Out):
    lat: float
    lon: float
    accuracy_m: float | None = Field(description="The device's stated accuracy, in metres.")


class UnitJob(Out):
    """The ticket a unit is on: an open offer, or an accepted assignment."""

    id: int = Field(description="The ticket's id.")
    number: str
    priority: int
    status: str = Field(description="The ticket's status.")
    assignment_id: int
    assignment_status: str = Field(description="`offered` or `accepted`.")


class UnitAlarm(Out):
    """A unit's open emergency (the officer pressed the emergency button)."""

    ticket_id: int = Field(description="The emergency's ticket.")
    raised_at: Time
    acknowledged_at: Time | None = Field(description="When a dispatcher acknowledged it.")
    alarm_active: bool = Field(description="Shown on every console until acknowledged.")


class BoardUnit(Out):
    """A patrol unit as the dispatch board and its own device show it."""

    id: int
    callsign: str
    name: str
    kind: str = Field(json_schema_extra={"enum": list(UNIT_KINDS)})
    sector: Sector | None = Field(description="The Polsek it belongs to.")
    status: str = Field(
        description=(
            "`available`, `unavailable`, `off_duty`, or a job's: `dispatched` (an open offer), "
            "`en_route`, `on_scene`."
        )
    )
    status_reason: str | None
    status_changed_at: Time
    location: UnitLocation | None = Field(description="The last applied position; null: none.")
    position_at: Time | None = Field(description="When the device measured that position.")
    position_age_s: float | None = Field(description="Seconds since `position_at`.")
    retired: bool
    stale: bool = Field(
        description="No position, or one older than routing accepts (`CALLCENTER_POSITION_"
        "MAX_AGE_S`): the unit is not routed."
    )
    ticket: UnitJob | None = Field(description="The ticket it is on; null: none.")
    emergency: UnitAlarm | None = Field(description="Its open emergency; null: none.")


class PositionsQuery(Query):
    since: IsoTime | None = Field(
        None,
        description="An ISO 8601 time with its offset: only the units whose position the "
        "server applied after it (send the previous answer's `as_of`). Absent: every unit "
        "with a position.",
    )


class UnitPosition(Out):
    id: int = Field(description="The unit's id.")
    lat: float | None
    lon: float | None
    position_at: Time | None = Field(description="When the device measured it.")


class Positions(Out):
    """The units that moved (the map's feed; staff streams also carry it as `positions`)."""

    as_of: Time = Field(description="Send as `since` next time.")
    units: list[UnitPosition]


class DeclineReason(Out):
    code: str = Field(description="Send as the `reason` of a decline.")
    label: Label


# --- the device -----------------------------------------------------------------------------


class PositionReport(Body):
    """One position fix from the unit's device. A report older than the one applied is
    kept in the history but does not move the unit; a repeat (same `recorded_at`) is
    answered as a duplicate."""

    lat: Latitude = Field(description="WGS 84 degrees; the point must be in Indonesia.")
    lon: Longitude = Field(description="WGS 84 degrees; the point must be in Indonesia.")
    accuracy_m: Annotated[float, Field(ge=0, le=100_000)] | None = Field(
        None, description="The fix's accuracy in metres."
    )
    recorded_at: TimeText | None = Field(
        None,
        description="When the device measured it (ISO 8601 with its offset; default: now). "
        "At most 60 s ahead of the server's clock.",
    )
    speed_kmh: float | None = Field(None, description="Accepted and not stored.")
    heading: float | None = Field(None, description="Accepted and not stored.")

    @model_validator(mode="wrap")
    @classmethod
    def _count_refused(cls, data, handler):
        """A report refused here counts as refused, like one the service refuses."""
        try:
            return handler(data)
        except PydanticError:
            metrics.POSITION_REPORTS.labels("refused").inc()
            raise


class PositionResult(Out):
    applied: bool = Field(description="The unit moved (201); false: an older fix (200).")
    duplicate: bool = Field(description="This fix was already stored; nothing changed.")
    recorded_at: Time


class StatusChange(Body):
    """A unit signs on, takes a break or signs off (not while it has an offer or a job)."""

    status: str = Field(
        description="One of: " + ", ".join(f"`{s}`" for s in SELF_STATUSES) + ".",
        json_schema_extra={"enum": list(SELF_STATUSES)},
    )
    reason: Annotated[str, Field(max_length=200)] | None = None


class DeviceTicket(UnitTicket):
    """A ticket as a unit on it reads it: enough to get there, work with the other units
    and call the caller back (not the caller's history), with the running notes.
    `assignment` is the reading unit's own assignment on it (`GET /units/me/tickets/{id}`),
    else the most advanced unit's."""

    notes: list[Note]


class EmergencyTicket(DeviceTicket):
    """The emergency ticket, and what of the press's position could not be used."""

    position_ignored: dict[str, str] | None = Field(
        description="Field -> why, for each part of the given position set aside (the last "
        "known position is used instead); null: none."
    )


class MyAssignment(Out):
    unit: BoardUnit
    assignment: Assignment | None = Field(description="Its open offer or job; null: idle.")
    ticket: DeviceTicket | None = Field(description="That ticket; null: idle.")
    server_time: Time = Field(description="The server's clock, to show offer deadlines right.")


class JobTicket(Out):
    id: int
    number: str
    category: str
    category_label: Label | None
    status: str
    resolution: str | None
    address: str | None
    created_at: Time


class Job(Assignment):
    """One of the unit's recent assignments, with its ticket in brief."""

    ticket: JobTicket


class FoundOnPatrol(Body):
    """An incident the unit found on patrol: logged at its own position, with the unit on
    it (the other units it asks for are routed)."""

    category: str = Field(description="A category that sends units (`GET /categories`).")
    summary: str = Field(description="What the unit sees.")
    units_needed: Annotated[int, Field(ge=1, le=MAX_UNITS)] | None = Field(
        None, description="Default: the category's."
    )


class EmergencyPress(Body):
    """The device's position with the press (all optional; read leniently: a position that
    cannot be used is set aside, never a reason to refuse the press)."""

    lat: float | None = None
    lon: float | None = None
    recorded_at: TimeText | None = Field(None, description="When the device took the fix.")


class EmergencyEnd(Body):
    reason: Annotated[str, Field(max_length=300)] = Field(description="Why it is over (required).")
