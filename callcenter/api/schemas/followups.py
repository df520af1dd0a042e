"""Hand-offs to other agencies (fire brigade, ambulance, ...) and call-backs of silent or
dropped calls."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...models.callbacks import CLOSE_REASONS, OUTCOMES
from ...services.callbacks import LIST_STATUSES
from ...services.callbacks import NOTE_MAX as CALLBACK_NOTE_MAX
from ...services.handoffs import NOTE_MAX as HANDOFF_NOTE_MAX
from .common import Body, Id, Out, Query, Time, TimeText, choice_or_blank, omittable


class AgencyName(Out):
    id: str = Field(description="Bahasa Indonesia.")
    en: str = Field(description="English.")


class Agency(Out):
    """An agency tickets are handed to."""

    id: int
    code: str = Field(description="Send as `agency` when handing off, e.g. `damkar`.")
    kind: str
    name: AgencyName
    label: str = Field(description="The name in the request's language.")
    phone: str | None = Field(
        description="What to dial: a national short number (`113`) or E.164. Null: the "
        "number is not entered yet (Administration, Agencies)."
    )
    phone_display: str | None = Field(description="The number as a person reads it.")
    active: bool = Field(description="Offered for new hand-offs.")


class AgenciesQuery(Query):
    all: bool = Field(False, description="`true`: also the agencies out of service.")


class AgencyChange(Body):
    """An agency's local settings; each field optional."""

    phone: Annotated[str, Field(max_length=40)] | None = omittable(
        description="A short number (`113`) or an Indonesian number in any usual form; null "
        "or empty: not known."
    )
    active: bool = omittable(description="Offered for new hand-offs.")


class Handoff(Out):
    """A ticket handed to an agency, waiting for (or with) its acknowledgement."""

    id: int
    ticket_id: int
    agency: Agency
    status: str = Field(description="`pending` until acknowledged, then `acknowledged`.")
    note: str | None
    created_at: Time
    created_by_id: int | None
    due_at: Time = Field(description="When an unacknowledged hand-off is escalated.")
    overdue: bool = Field(description="Pending past `due_at`.")
    escalated_at: Time | None
    acknowledged_at: Time | None = Field(description="When the agency acknowledged it.")
    acknowledged_by: str | None = Field(description="Who at the agency acknowledged it.")
    reference: str | None = Field(description="The agency's own number for it.")
    recorded_at: Time | None = Field(description="When the acknowledgement was recorded.")
    recorded_by_id: int | None


class HandoffIn(Body):
    agency: int | str = Field(description="The agency's code (`GET /agencies`) or id.")
    note: Annotated[str, Field(max_length=HANDOFF_NOTE_MAX)] | None = Field(
        None, description="What the agency should know."
    )


class HandoffAcknowledgement(Body):
    by: Annotated[str, Field(max_length=120)] = Field(
        description="Who at the agency acknowledged it (required)."
    )
    reference: Annotated[str, Field(max_length=80)] | None = Field(
        None, description="The agency's own number for it."
    )
    at: TimeText | None = Field(
        None,
        description="When they acknowledged it (ISO 8601 with its offset; default: now; not "
        "in the future, not before the hand-off).",
    )


class CallbackTicket(Out):
    id: int
    number: str
    category: str
    category_label: str = Field(description="In the request's language.")
    status: str
    created_at: Time
    summary: str


class CallbackAttempt(Out):
    id: int
    outcome: Literal[OUTCOMES]  # type: ignore[valid-type]
    note: str | None
    at: Time
    by_id: int | None


class Callback(Out):
    """A call-back task: a silent or dropped call to ring back."""

    id: int
    status: Literal["open", "closed"]
    phone: str | None = Field(description="E.164.")
    phone_display: str | None = Field(description="The number as people write it.")
    created_at: Time
    due_at: Time
    overdue: bool = Field(description="Open past `due_at`.")
    overdue_at: Time | None = Field(description="When it was first seen overdue.")
    attempts: int
    no_answers: int
    closed_at: Time | None
    close_reason: Literal[CLOSE_REASONS] | None  # type: ignore[valid-type]
    ticket: CallbackTicket | None = Field(description="The call it came from.")
    result_ticket: CallbackTicket | None = Field(
        description="The ticket a genuine call-back was logged as."
    )
    history: list[CallbackAttempt] = Field(description="Its tries, oldest first.")


class CallbacksQuery(Query):
    status: choice_or_blank(LIST_STATUSES, "open") = Field(  # type: ignore[valid-type]
        "open",
        description="`open` (oldest first: the next to call on top), `closed` or `all` "
        "(newest first); empty: `open`.",
    )


class CallbackAttemptIn(Body):
    """One try at calling back."""

    outcome: Literal[OUTCOMES] = Field(  # type: ignore[valid-type]
        description="`genuine`: a real emergency, logged as the ticket `ticket_id` (the "
        "console logs it through intake with `callback_id`)."
    )
    note: Annotated[str, Field(max_length=CALLBACK_NOTE_MAX)] | None = None
    ticket_id: Id | None = Field(None, description="Only with `genuine`, and required then.")
