"""Tickets: intake, the ticket as every screen shows it, its calls and notes, the
dispatcher's actions on it, the caller's history and the search."""

from __future__ import annotations

from typing import Annotated, Literal

from flask_babel import lazy_gettext as _l
from pydantic import AfterValidator, Field

from ...models.assignment import ASSIGNMENT_STATUSES
from ...models.notes import NOTE_MAX
from ...models.ticket import CHANNELS, MAX_UNITS, TICKET_STATUSES
from ...models.unit import UNIT_KINDS, UNIT_STATUSES
from .common import (
    Actor,
    Assignment,
    Body,
    Event,
    Id,
    Label,
    OptionalBody,
    Out,
    PageQuery,
    Query,
    Time,
    TimeText,
    UnitBrief,
)

SUMMARY_MAX = 2000  # CALLCENTER_SUMMARY_MAX's default
ADDRESS_MAX = 300  # CALLCENTER_ADDRESS_MAX's default


def whole(low: int, high: int):
    """A whole number in ``low..high``, refused in the words the services use."""

    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(
                _l("Must be a whole number from %(low)s to %(high)s.", low=low, high=high)
            )
        return value

    return Annotated[
        int, Field(json_schema_extra={"minimum": low, "maximum": high}), AfterValidator(check)
    ]


Priority = Annotated[whole(1, 4), Field(description="1 (life at risk) ... 4 (non-urgent).")]
UnitsNeeded = Annotated[
    whole(1, MAX_UNITS), Field(description="How many units the incident needs (1-10).")
]
Channel = Literal[CHANNELS]
TicketStatus = Literal[TICKET_STATUSES]
Summary = Annotated[str, Field(max_length=SUMMARY_MAX, description="What the caller said.")]
Number = Annotated[str, Field(description="The ticket number, e.g. `110-20261128-00042`.")]


# --- requests ------------------------------------------------------------------------------


class CallerIn(Body):
    name: Annotated[str, Field(max_length=120)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="Any Indonesian form (`0811-48-2000`, `+62 811 482 000`); kept as E.164."
    )


class LocationIn(Body):
    lat: Annotated[float, Field(ge=-90, le=90)] = Field(description="Inside Indonesia.")
    lon: Annotated[float, Field(ge=-180, le=180)] = Field(description="Inside Indonesia.")
    address: Annotated[str, Field(max_length=ADDRESS_MAX)] | None = None


class TicketIn(Body):
    """A call logged at intake. With `attach_to`, the call joins that open ticket instead
    (its category and location are the ticket's already) and nothing is dispatched."""

    channel: Channel
    caller: CallerIn | None = None
    category: str | None = Field(
        None,
        description=(
            "A code of `GET /api/v1/categories`; required unless `attach_to`. A non-dispatch "
            "disposition (prank, silent call, ...) closes the ticket at once."
        ),
    )
    priority: Priority | None = Field(None, description="Default: the category's.")
    summary: Summary | None = None
    location: LocationIn | None = Field(
        None, description="Required for a category that sends a unit."
    )
    units_needed: UnitsNeeded | None = Field(None, description="Default: the category's.")
    callback_id: Id | None = Field(
        None, description="A call-back task this call answers (a genuine call, logged as this)."
    )
    received_at: TimeText | None = Field(None, description="When the call rang (default: now).")
    answered_at: TimeText | None = Field(None, description="When it was picked up.")
    attach_to: Id | None = Field(None, description="The open ticket this call is about.")


class TicketEdit(Body):
    """The fields a dispatcher may change on an open ticket (at least one)."""

    priority: Priority = None
    summary: Summary = None
    category: str = Field(None, description="A category that sends a unit.")
    location: LocationIn = None
    units_needed: UnitsNeeded = Field(
        None, description="Lowering it below the units already on the ticket is refused."
    )


class CallIn(Body):
    """Either `{call_id}`: another ticket's call moves here (a duplicate's only call takes
    its ticket with it, cancelled as merged); or a new call `{channel, caller, text,
    received_at?}`."""

    call_id: Id | None = Field(None, description="Move this call of another ticket here.")
    channel: Channel | None = None
    caller: CallerIn | None = None
    text: Summary | None = None
    received_at: TimeText | None = None


class SplitIn(OptionalBody):
    """The new ticket's fields; each left out is the old ticket's."""

    category: str = None
    priority: Priority = None
    summary: Summary = None
    location: LocationIn = None
    units_needed: UnitsNeeded = None


class NoteIn(Body):
    text: str = Field(max_length=NOTE_MAX, description="Required, at most 2000 characters.")


class PhoneIn(Body):
    phone: Annotated[str, Field(max_length=40)] = Field(description="Any Indonesian form.")


class PhoneQuery(Query):
    phone: str = Field("", description="Prefer `POST /api/v1/callers/history`.")


class AssignIn(Body):
    unit_id: Id
    confirm: bool = Field(
        False,
        description="Take the unit off a job of lower priority (answered 409 `unit_busy` first).",
    )


class CancelIn(Body):
    reason: Annotated[str, Field(max_length=300)] = Field(description="Required.")


class CloseIn(Body):
    resolution: str = Field(description="A code of `GET /api/v1/resolutions`.")
    note: Annotated[str, Field(max_length=2000)] | None = None


class DuplicateQuery(Query):
    category: str = Field(description="A category code.")
    # Text, so that the service names every bad parameter at once.
    lat: str = Field(json_schema_extra={"type": "number"})
    lon: str = Field(json_schema_extra={"type": "number"})


class TicketsQuery(PageQuery):
    """Without any of `q, from, to, category, sector, unit, cursor`: tickets in id order
    after `after`. With any: a search, newest first, paged by `cursor` (the next one is in
    `X-Next-Cursor` and `Link: rel="next"`)."""

    status: str | None = Field(
        None, description="Statuses, comma-separated; `open` for every open one."
    )
    q: str | None = Field(
        None, description="A ticket number, a phone number in any form, or words (at most 200)."
    )
    from_: str | None = Field(None, alias="from", description="A WIB day, YYYY-MM-DD.")
    to: str | None = Field(None, description="A WIB day, YYYY-MM-DD (inclusive).")
    category: str | None = Field(None, description="Category codes, comma-separated.")
    sector: str | None = Field(None, description="A sector's code or id.")
    unit: str | None = Field(None, description="A unit's callsign or id.")
    cursor: str | None = Field(None, description="The previous page's `X-Next-Cursor`.")


# --- answers -------------------------------------------------------------------------------


class Category(Out):
    code: str
    label: dict[str, str] = Field(description="`{id, en}`.")
    apco_code: str = Field(description="The APCO common incident type (as NENA EIDO uses).")
    default_priority: int
    default_units: int
    dispatch: bool = Field(description="False: a disposition, closed at intake, never routed.")
    intake: bool = Field(description="False: only a unit's emergency button raises it.")
    handoff: str | None = Field(None, description="The agency it is handed to, if any.")
    handoff_agency: str | None = None
    handoff_only: bool = Field(description="Handed off and not routed to police units.")


class Resolution(Out):
    code: str
    label: dict[str, str] = Field(description="`{id, en}`.")


class Caller(Out):
    name: str | None
    phone: str | None = Field(description="E.164.")
    phone_display: str | None = Field(description="As people write it, e.g. `0811-482-000`.")


class Location(Out):
    lat: float | None
    lon: float | None
    address: str | None


class CrewMember(Out):
    """One unit on a ticket: its assignment, how far it is and its milestones."""

    assignment_id: int
    slot: int
    status: Literal[ASSIGNMENT_STATUSES]
    step: str | None
    unit: UnitBrief | None
    manual: bool
    offered_at: Time | None
    deadline_at: Time | None
    responded_at: Time | None
    en_route_at: Time | None
    on_scene_at: Time | None
    distance_m: int | None
    eta_s: int | float | None


class Emergency(Out):
    """An officer's emergency: who is in danger, and the alarm."""

    id: int
    unit: UnitBrief | None
    raised_at: Time
    located_at: Time | None
    alarm_active: bool
    acknowledged_at: Time | None
    acknowledged_by: Actor | None
    ended_at: Time | None
    end_reason: str | None


class TicketRef(Out):
    id: int
    number: Number


class Flags(Out):
    """What the dispatcher should notice about a ticket."""

    possible_duplicate: TicketRef | None = Field(
        description="An open ticket of the same category, near and recent."
    )
    repeat_caller: bool
    prank_caller: bool
    caller_calls_30d: int
    caller_pranks_30d: int
    escalated: bool
    escalation_reason: str | None
    escalated_at: Time | None
    over_target: bool = Field(description="Open, no unit on scene, older than the target.")
    short: bool = Field(description="Fewer units accepted than it needs.")
    backup_requested: bool
    alarm: bool = Field(description="An officer's alarm no dispatcher acknowledged yet.")


class UnitTicket(Out):
    """A ticket as a unit is told about it (no caller history flags)."""

    id: int
    number: Number
    status: TicketStatus
    status_reason: str | None = Field(description="Why it is `queued`, for instance.")
    priority: int
    category: str
    category_label: Label | None
    dispatch: bool = Field(description="False: a disposition, closed at intake.")
    channel: Channel
    caller: Caller
    summary: str
    location: Location | None
    received_at: Time | None
    answered_at: Time | None
    created_at: Time
    updated_at: Time
    dispatched_at: Time | None
    accepted_offer_at: Time | None
    acknowledged_at: Time | None
    on_scene_at: Time | None
    closed_at: Time | None
    resolution: str | None
    resolution_note: str | None
    cancel_reason: str | None
    sector_id: int | None
    units_needed: int
    units: list[CrewMember] = Field(description="Its active assignments, by slot.")
    units_offered: int
    units_accepted: int
    units_cleared: int
    slots_open: int
    waiting_since: Time | None
    backup_requested_at: Time | None
    unit: UnitBrief | None = Field(description="The most advanced unit (older clients).")
    assignment: Assignment | None = Field(description="That unit's assignment.")
    emergency: Emergency | None


class Ticket(UnitTicket):
    """A ticket with its units and flags."""

    flags: Flags


class Call(Out):
    id: int
    ticket_id: int
    channel: Channel
    caller: Caller
    text: str
    received_at: Time
    taken_by: Actor | None


class TicketCall(Call):
    opening: bool = Field(description="The call that opened the ticket (cannot be split).")


class Intake(Ticket):
    call: Call | None = Field(
        None,
        description="With `attach_to`: the call stored on that ticket (null on a replay).",
    )


class TicketWithCall(Ticket):
    call: Call


class Note(Out):
    id: int
    ticket_id: int
    text: str
    created_at: Time
    author: Actor | None
    unit: UnitBrief | None = Field(description="The unit that wrote it, if a unit did.")


class TimelineEntry(Event):
    actor: Actor | None


class Assigned(Ticket):
    offered: Assignment = Field(description="The offer just made.")


class Duplicate(Out):
    id: int
    number: Number
    status: TicketStatus
    category: str
    category_label: str | None
    summary: str
    address: str | None
    created_at: Time


class PossibleDuplicate(Out):
    ticket: Duplicate | None


class RecentTicket(Out):
    id: int
    number: Number
    category: str
    category_label: str | None
    status: TicketStatus
    created_at: Time
    summary: str


class CallerHistory(Out):
    """Calls from a number in the last `days` days (each call counts)."""

    phone: str
    phone_display: str | None
    days: int | None
    calls: int
    pranks: int
    prank_caller: bool
    recent: list[RecentTicket] = Field(description="Their tickets, newest call first.")


class CurrentJob(Out):
    ticket_id: int
    number: Number
    priority: int
    assignment_status: str


class SuggestedUnit(Out):
    id: int
    callsign: str
    name: str | None
    kind: Literal[UNIT_KINDS]
    status: Literal[UNIT_STATUSES]
    sector: str | None


class Suggestion(Out):
    """A unit a dispatcher could give the ticket, nearest first."""

    unit: SuggestedUnit
    distance_m: int
    eta_s: int | float | None
    position_age_s: int | None
    stale: bool = Field(description="Its position is too old to trust.")
    declined_before: bool
    current_job: CurrentJob | None
    assignable: bool
    needs_confirmation: bool = Field(description="It is on another job: assign with `confirm`.")
