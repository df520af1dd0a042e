"""The event feed: a page of events, and the live SSE stream with ``Last-Event-ID`` resume.

The stream is served by the in-process broadcaster (embedded default) or handed over to
the push engine (``CALLCENTER_STREAMS=pushpin``); see callcenter/streams/.
"""

from __future__ import annotations

from flask import Response, current_app, g, jsonify, request, session, stream_with_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.decorators import roles_required
from ..extensions import db
from ..services import events
from ..services.errors import ValidationError
from ..services.validation import whole_number
from ..streams import broadcaster, feed, grip, registry
from . import bp, serialize
from .contract import operation
from .schemas.common import Event
from .schemas.events import EventsQuery, StreamCheckQuery, StreamQuery, StreamRelease


def _scope() -> dict:
    """A unit reads its own events only; others read all but private types."""
    unit_id = current_user.unit_id if current_user.role == "unit" else None
    if current_user.role == "unit" and unit_id is None:
        unit_id = -1
    return {"role": current_user.role, "unit_id": unit_id}


@bp.get("/events")
@roles_required()
@operation(tag="events", query=EventsQuery, ok=list[Event])
def list_events(query: EventsQuery):
    """A page of events, oldest first: those after `after` (an event id). A unit reads only
    the events about itself and the tickets it is on."""
    rows = events.since(query.after or 0, limit=query.limit, **_scope())
    return jsonify([serialize.event(e) for e in rows])


def _resume_point(query: StreamQuery) -> int:
    raw = request.headers.get("Last-Event-ID")
    if raw:
        if not whole_number(raw):
            raise ValidationError(
                _l("Invalid query parameters."),
                fields={"Last-Event-ID": _l("Must be a whole number.")},
            )
        return int(raw)
    for cursor in (query.last_event_id, query.after):
        if cursor is not None:
            return cursor
    return feed.last_id()


def _credential() -> str:
    """The close key of what authenticated this request: its token, or its page session."""
    token_id = g.get("api_token_id")
    if token_id is not None:
        return f"token-{token_id}"
    return f"session-{session.get('sid') or 'none'}"


@bp.get("/events/stream")
@roles_required()
@operation(
    tag="events",
    query=StreamQuery,
    content="text/event-stream",
    headers={"Last-Event-ID": "The last event id seen: the stream resumes after it."},
)
def stream(query: StreamQuery):
    """The live feed, as Server-Sent Events.

    `id:` is the event id; a reconnect with `Last-Event-ID` resumes after it. Staff streams
    also get coalesced `positions` messages (no id; `data` is `{"units": [UnitPosition]}`).
    The stream ends after `CALLCENTER_STREAM_MAX_S`, or when its token is revoked, its
    session signed out or its user deactivated; the client reconnects and is authenticated
    again. Over a cap: 429 (this user) or 503 (the server), with `Retry-After`."""
    g.passive = True  # does not keep an idle session alive
    cursor = _resume_point(query)
    scope = feed.scope_for(current_user)
    credential = _credential()
    client = query.client
    if current_app.config["CALLCENTER_STREAMS"] == "pushpin":
        if not grip.from_engine(request.headers):
            raise grip.not_through_engine()
        return grip.open_stream(current_user, scope, cursor, credential, client)
    keys = (f"user-{current_user.id}", credential)
    user = current_user._get_current_object()
    db.session.remove()  # hold no connection (on SQLite: no lock) while streaming
    chunks = broadcaster.stream(user, scope, cursor, keys, client)
    response = Response(stream_with_context(chunks), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


@bp.get("/events/stream/check")
@roles_required()
@operation(tag="events", query=StreamCheckQuery, status=204)
def stream_check(query: StreamCheckQuery):
    """Whether a stream would be let in now: 204, or the 429/503 (with `Retry-After`) a
    stream would get.

    Clients ask after a refused connection (EventSource hides the status), with their
    `client` key: a page reconnecting would take over its own lease. Embedded: this answers
    for the process that serves the check."""
    g.passive = True
    registry.check(current_user.id, query.client)
    if current_app.config["CALLCENTER_STREAMS"] == "embedded":
        broadcaster.get().check_room()
    return "", 204


@bp.post("/events/stream/release")
@roles_required()
@operation(tag="events", status=204, described_body=StreamRelease)
def stream_release():
    """Give a stream's lease back at once (a browser tab going away).

    Sent with `sendBeacon` from `pagehide`: the body is a form or JSON with `client`, the
    key the stream was opened with (required, 422 without it)."""
    g.passive = True
    data = request.get_json(silent=True) if request.is_json else request.form
    client = data.get("client") if hasattr(data, "get") else None  # a JSON array, a number
    if not isinstance(client, str) or not client:
        raise ValidationError(_l("Send the client key."), fields={"client": _l("Required.")})
    stream_id = registry.forget(current_user.id, client)
    if stream_id:
        if current_app.config["CALLCENTER_STREAMS"] == "pushpin":
            grip.publish_close(f"close-stream-{stream_id}")
        else:
            broadcaster.get().end(stream_id)
    return "", 204


@bp.get("/events/stream/next/<ticket>")
@operation(tag="push engine", content="text/event-stream")
def stream_next(ticket: str):
    """Internal: the push engine asks this for the next page of a stream's replay.

    The signed `ticket` stands for the client's credential. Only through the push engine
    (`CALLCENTER_STREAMS=pushpin`); otherwise 503 `streams_elsewhere`. An empty answer ends
    the client's stream."""
    if current_app.config["CALLCENTER_STREAMS"] != "pushpin" or not grip.from_engine(
        request.headers
    ):
        raise grip.not_through_engine()
    return grip.next_page(ticket)


@bp.get("/events/stream/held/<int:since>")
@operation(tag="push engine", content="text/event-stream")
def stream_held(since: int):
    """Internal: the push engine asks this for held streams.

    A recovery after a gap, the check after a new subscription, or the end at the maximum
    age; `since` is when the streams began (Unix seconds), their channels and positions come
    in `Grip-Last`. Only through the push engine (`CALLCENTER_STREAMS=pushpin`); otherwise
    503 `streams_elsewhere`."""
    if current_app.config["CALLCENTER_STREAMS"] != "pushpin" or not grip.from_engine(
        request.headers
    ):
        raise grip.not_through_engine()
    return grip.held(since, request.headers.getlist("Grip-Last"))
