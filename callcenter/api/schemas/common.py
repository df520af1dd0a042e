"""Bases and small types every resource's schema uses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask_babel import lazy_gettext as _l
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    RootModel,
    WithJsonSchema,
)

from ...services.validation import MAX_ID


class Body(BaseModel):
    """A JSON request body: types as JSON has them (no ``"5"`` for 5), no unknown field."""

    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True)

    def data(self) -> dict:
        """What the client sent, as the services take it: only the fields it set."""
        return self.model_dump(exclude_unset=True, by_alias=True)


class OptionalBody(Body):
    """A body the client may leave out entirely (then every field is unset)."""

    __body_optional__ = True


class Query(BaseModel):
    """Query parameters: text on the wire, converted; parameters we do not read are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    def data(self) -> dict:
        return self.model_dump(exclude_unset=True, by_alias=True)


class Out(BaseModel):
    """An answer: every field declared (an undeclared one breaks the schema)."""

    model_config = ConfigDict(extra="forbid")


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Times a client sends are parsed by the services (an offset is required): declared as text
# in the date-time format so that the messages stay the API's.
TimeText = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Time = datetime


def choice_or_blank(values: tuple[str, ...], blank: str):
    """A query filter taking one of ``values``, where an empty value (what a page's select
    sends for its first option) means ``blank``. The document lists the empty value too, so
    that a client reading it knows the empty filter is accepted on purpose."""
    return Annotated[
        Literal[values],  # type: ignore[valid-type]
        BeforeValidator(lambda value: blank if value == "" else value),
        Field(json_schema_extra={"enum": [*values, ""]}),
    ]


def or_blank(schema: dict) -> dict:
    """The ``json_schema_extra`` of a text filter the pages may send empty, which the service
    reads as "all" or its default: the value as ``schema`` says, or empty."""
    return {"anyOf": [{"type": "string", **schema}, {"type": "string", "maxLength": 0}]}


def _iso_time(value):
    """An ISO 8601 time with its offset, and nothing else (pydantic's own datetime would also
    take a bare number as seconds since 1970)."""
    if isinstance(value, datetime):
        return value
    message = str(_l("An ISO 8601 time with its offset."))
    if not isinstance(value, str):
        raise ValueError(message)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(message) from None
    if parsed.tzinfo is None:
        raise ValueError(message)
    return parsed


IsoTime = Annotated[
    datetime,
    PlainValidator(_iso_time),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class ErrorDetail(Out):
    code: str = Field(description="A stable machine-readable code, e.g. `validation_failed`.")
    message: str = Field(description="For people, in the request's language.")
    fields: dict[str, str] | None = Field(
        default=None, description="Each failing field (dotted path) and what is wrong with it."
    )


class Error(Out):
    """Every error answer."""

    error: ErrorDetail


class Deleted(Out):
    """An empty confirmation (no fields)."""


class Anything(RootModel[dict]):
    """A free-form JSON object."""


class PageQuery(Query):
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    after: Annotated[int, Field(ge=0, le=MAX_ID)] | None = None


# Shapes more than one resource embeds.


class UnitBrief(Out):
    """A unit named inside another resource."""

    id: int
    callsign: str
    name: str | None
    kind: str
    status: str


class Actor(Out):
    """Who did something, as the audit trail names them."""

    id: int
    username: str
    name: str
    role: str


class Event(Out):
    """One row of the audit trail and live feed (an SSE message's `data`)."""

    id: int = Field(description="Increasing; send the last one seen as `Last-Event-ID`.")
    type: str = Field(description="See `x-event-types` on `GET /api/v1/events/stream`.")
    at: Time
    ticket_id: int | None
    unit_id: int | None
    actor_id: int | None
    data: dict


class Assignment(Out):
    """A unit's part in a ticket: an offer, then its acceptance and progress."""

    id: int
    ticket_id: int
    unit_id: int
    unit_callsign: str | None
    slot: int
    status: str
    step: str | None
    manual: bool
    offered_at: Time | None
    deadline_at: Time | None
    responded_at: Time | None
    en_route_at: Time | None
    on_scene_at: Time | None
    ended_at: Time | None
    distance_m: int | None
    eta_s: int | float | None
    decline_reason: str | None
    end_reason: str | None
    resolution: str | None
    note: str | None


# Fields


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


def omittable(**kwargs):
    """A body field the client may leave out but not send as null (a change that leaves
    it alone): the document shows it without a default."""
    return Field(None, json_schema_extra=_no_default, **kwargs)


class Sector(Out):
    """A Polsek sector: units belong to one, tickets are counted in the nearest."""

    id: int
    code: str
    name: str
    lat: float | None
    lon: float | None
    phone: str | None = Field(description="The Polsek's desk; null: not entered yet.")


class Label(Out):
    """A text in both of the center's languages."""

    id: str = Field(description="Bahasa Indonesia.")
    en: str = Field(description="English.")
