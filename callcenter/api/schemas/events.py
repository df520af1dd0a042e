"""The event feed: a page of events, and the live stream (Server-Sent Events)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from ...services.validation import MAX_ID
from .common import Body, PageQuery, Query


def _blank_is_none(value):
    return None if value == "" else value


Cursor = Annotated[Annotated[int, Field(ge=0, le=MAX_ID)] | None, BeforeValidator(_blank_is_none)]

# A page's stream key: up to 64 ASCII letters, digits and dashes (our pages make them).
ClientKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


class EventsQuery(PageQuery):
    """`after`: the id of the last event seen (events come oldest first)."""


class StreamQuery(Query):
    """Where to resume: the `Last-Event-ID` header (what `EventSource` sends by itself on a
    reconnect) wins over `last_event_id`, which wins over `after`; none of them: from now."""

    last_event_id: Cursor = Field(
        None, description="The id of the last event seen (for clients that cannot set headers)."
    )
    after: Cursor = Field(None, description="The same as `last_event_id`.")
    client: ClientKey | None = Field(
        None,
        description="A key per browser tab: a reconnect takes over the tab's earlier stream "
        "instead of counting as another screen.",
    )


class StreamCheckQuery(Query):
    client: ClientKey | None = Field(None, description="The key the stream is opened with.")


class StreamRelease(Body):
    """Sent as a form or JSON (`sendBeacon`)."""

    client: ClientKey = Field(description="The key the stream was opened with.")
