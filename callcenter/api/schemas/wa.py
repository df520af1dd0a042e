"""The WhatsApp Center: reporters' conversations (threads), their messages, replies and the
automatic updates."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...models.ticket import MAX_UNITS
from ...services.whatsapp.outbox import TEXT_MAX
from ...services.whatsapp.texts import QUICK_REPLIES
from .common import (
    Actor,
    Body,
    Id,
    OptionalBody,
    Out,
    Query,
    Time,
    TimeText,
    choice_or_blank,
    omittable,
)
from .tickets import CallerHistory, Ticket

QuickReplyCode = Literal[tuple(QUICK_REPLIES)]  # type: ignore[valid-type]


# --- answers -------------------------------------------------------------------------------


class WaPin(Out):
    """A location the reporter shared."""

    lat: float | None
    lon: float | None
    place: str | None = Field(description="The pin's name and address, when WhatsApp gave one.")


class WaMedia(Out):
    """A photo, voice note, video or document the reporter sent."""

    status: str | None = Field(
        description="`pending`, `stored`, `rejected` (too large, a type we keep out) or `failed`."
    )
    mime: str | None
    size: int | None = Field(description="Bytes.")
    filename: str | None
    url: str | None = Field(description="`GET` it (`/api/v1/wa/media/{id}`) once `stored`.")
    error: str | None = Field(description="Why it was rejected or failed.")


class WaSendError(Out):
    code: str | None = Field(description="WhatsApp's error code, or ours.")
    message: str | None


class WaMessage(Out):
    """A message of a thread. The fields from `status` on are only on outbound messages."""

    id: int
    thread_id: int
    direction: Literal["in", "out"]
    kind: str = Field(
        description="`text`, `location`, `image`, `audio`, `video`, `document`, `template`, "
        "`unsupported`, ..."
    )
    raw_type: str | None = Field(description="WhatsApp's own type, for an unsupported one.")
    text: str | None
    created_at: Time
    wa_timestamp: Time | None = Field(description="When WhatsApp says it was sent.")
    location: WaPin | None = Field(description="Set on a `location` message.")
    media: WaMedia | None
    throttled: bool = Field(description="Received while the number was flooding.")
    status: str | None = Field(
        None, description="`queued`, `sending`, `sent`, `delivered`, `read` or `failed`."
    )
    status_at: Time | None = None
    error: WaSendError | None = Field(None, description="Why sending failed, if it did.")
    attempts: int | None = None
    next_attempt_at: Time | None = None
    sent_at: Time | None = None
    delivered_at: Time | None = None
    read_at: Time | None = None
    sender: Actor | None = Field(None, description="Who sent it; null: an automatic update.")
    auto: str | None = Field(None, description="The automatic update's kind (`ack`, ...).")
    quick_reply: str | None = Field(None, description="The quick reply's code, if one was used.")


class WaTicketBrief(Out):
    id: int
    number: str
    status: str
    category: str


class WaWindow(Out):
    """WhatsApp's 24-hour customer-service window."""

    open: bool = Field(description="Free text may be sent now.")
    closes_at: Time | None
    template: bool = Field(description="An approved template is configured for after it.")


class WaFlags(Out):
    flood: bool = Field(description="The number sent too many messages lately.")
    flooded_at: Time | None
    repeat_caller: bool
    prank_caller: bool
    calls_30d: int = Field(description="Calls from the number in the history window.")
    pranks_30d: int


class WaThread(Out):
    """A reporter's conversation."""

    id: int
    status: Literal["open", "closed"]
    phone: str = Field(description="E.164.")
    phone_display: str
    name: str | None = Field(description="The reporter's WhatsApp profile name.")
    created_at: Time
    last_message_at: Time
    last_inbound_at: Time | None
    waiting_since: Time | None = Field(description="Since when the reporter awaits an answer.")
    unread: int
    message_count: int
    claimed_by: Actor | None = Field(description="The dispatcher who holds it.")
    claimed_at: Time | None
    ticket: WaTicketBrief | None = Field(description="The ticket it belongs to.")
    linked_at: Time | None
    window: WaWindow
    flags: WaFlags
    closed_at: Time | None
    close_reason: str | None = Field(description="`closed`, `prank` or `idle`.")
    last_message: WaMessage | None


class WaThreadDetail(WaThread):
    """A thread with the history of its number."""

    caller_history: CallerHistory


class WaThreadMessages(WaThreadDetail):
    """A thread with its history and its messages, oldest first."""

    messages: list[WaMessage]


class WaTicketLink(Out):
    thread: WaThreadDetail
    ticket: Ticket


class QuickReply(Out):
    code: str
    text: str = Field(description="What the reporter receives (Bahasa Indonesia).")
    label: str = Field(description="The button's label, in the request's language.")


class WaAuto(Out):
    ack: bool = Field(description="Acknowledge a new conversation.")
    en_route: bool = Field(description="Tell the reporter that officers are on their way.")
    closed: bool = Field(description="Tell the reporter that the report was closed.")


class WaSettings(Out):
    auto: WaAuto = Field(description="Which automatic updates reporters get.")


# --- requests ------------------------------------------------------------------------------


class WaThreadsQuery(Query):
    status: choice_or_blank(("open", "closed", "all"), "open") = Field(  # type: ignore[valid-type]
        "open",
        description="`open`, `closed` or `all`; empty: `open`. Open ones come oldest waiting "
        "first, then the most recently active.",
    )
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class WaClaim(OptionalBody):
    take_over: bool = Field(False, description="Take it from whoever holds it (supervisors only).")


class WaReply(Body):
    """Either a `text` or a `quick_reply`."""

    text: Annotated[str, Field(max_length=TEXT_MAX)] | None = None
    quick_reply: QuickReplyCode | None = Field(
        None, description="A code of `GET /wa/quick-replies`."
    )
    template: bool = Field(
        False,
        description="Outside the 24-hour window, send it as the approved template (the only "
        "thing WhatsApp delivers then).",
    )


class WaClose(OptionalBody):
    prank: bool = Field(
        False, description="Log it as a prank call (iseng): the number counts as a prank caller."
    )
    note: Annotated[str, Field(max_length=300)] | None = None


class WaTicketCaller(Body):
    name: Annotated[str, Field(max_length=120)] | None = Field(
        None, description="Default: the WhatsApp profile name."
    )
    phone: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="Ignored: the thread's number is the caller's."
    )


class WaTicketLocation(Body):
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    address: str | None = None


class WaTicket(Body):
    """`{ticket_id}` attaches the thread to an open ticket. Otherwise the body is an intake
    request as for `POST /api/v1/tickets`, completed from the thread: channel `whatsapp`, the
    reporter's number and name, their messages as the summary and their latest pin as the
    location, unless given."""

    ticket_id: Id = omittable(description="An open ticket to attach to (then nothing else).")
    channel: str | None = Field(None, description="Ignored: always `whatsapp`.")
    category: str = omittable(description="A category code of the catalog.")
    priority: Annotated[int, Field(ge=1, le=4)] | None = None
    units_needed: Annotated[int, Field(ge=1, le=MAX_UNITS)] | None = None
    summary: str | None = None
    caller: WaTicketCaller | None = None
    location: WaTicketLocation | None = None
    callback_id: Id | None = None
    received_at: TimeText | None = None
    answered_at: TimeText | None = None


class WaPinToTicket(Body):
    message_id: Id = Field(description="A location message of this thread.")


class WaSettingsChange(Body):
    """At least one of them."""

    ack: bool = omittable(description="Acknowledge a new conversation.")
    en_route: bool = omittable(description="Tell the reporter that officers are on their way.")
    closed: bool = omittable(description="Tell the reporter that the report was closed.")
