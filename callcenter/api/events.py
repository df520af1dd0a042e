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
from . import bp, page_args, serialize


def _scope() -> dict:
    """A unit reads its own events only; others read all but private types."""
    unit_id = current_user.unit_id if current_user.role == "unit" else None
    if current_user.role == "unit" and unit_id is None:
        unit_id = -1
    return {"role": current_user.role, "unit_id": unit_id}


@bp.get("/events")
@roles_required()
def list_events():
    limit, after = page_args()
    rows = events.since(after or 0, limit=limit, **_scope())
    return jsonify([serialize.event(e) for e in rows])


def _resume_point() -> int:
    raw = (
        request.headers.get("Last-Event-ID")
        or request.args.get("last_event_id")
        or request.args.get("after")
    )
    if raw is None or raw == "":
        return feed.last_id()
    if not whole_number(raw):
        raise ValidationError(
            _l("Invalid query parameters."), fields={"Last-Event-ID": _l("Must be a whole number.")}
        )
    return int(raw)


def _credential() -> str:
    """The close key of what authenticated this request: its token, or its page session."""
    token_id = g.get("api_token_id")
    if token_id is not None:
        return f"token-{token_id}"
    return f"session-{session.get('sid') or 'none'}"


@bp.get("/events/stream")
@roles_required()
def stream():
    """Server-sent events: ``id:`` is the event id; a reconnect with ``Last-Event-ID``
    resumes after it. Staff streams also get coalesced ``positions`` messages (no id).
    The stream ends after ``CALLCENTER_STREAM_MAX_S``, or when its token is revoked, its
    session signed out or its user deactivated; the client reconnects and is authenticated
    again. Over a cap: 429 (this user) or 503 (the server), with ``Retry-After``.
    ``?client=`` (a key per browser tab) makes a reconnect take over the tab's earlier
    stream instead of counting as another screen."""
    g.passive = True  # does not keep an idle session alive
    cursor = _resume_point()
    scope = feed.scope_for(current_user)
    credential = _credential()
    client = request.args.get("client")
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
def stream_check():
    """Whether a stream would be let in now: 204, or the 429/503 (with ``Retry-After``) a
    stream would get. Clients ask after a refused connection (EventSource hides the
    status), with their ``client`` key: a page reconnecting would take over its own lease.
    Embedded: this answers for the process that serves the check."""
    g.passive = True
    registry.check(current_user.id, request.args.get("client"))
    if current_app.config["CALLCENTER_STREAMS"] == "embedded":
        broadcaster.get().check_room()
    return "", 204


@bp.post("/events/stream/release")
@roles_required()
def stream_release():
    """A browser tab going away (``sendBeacon`` from ``pagehide``) gives its stream's lease
    back at once: ``client`` (form or JSON) is the key it opened the stream with."""
    g.passive = True
    data = request.get_json(silent=True) if request.is_json else request.form
    client = (data or {}).get("client")
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
def stream_next(ticket: str):
    """The push engine asks this for the next page of a stream's replay; the signed ticket
    stands for the client's credential."""
    if current_app.config["CALLCENTER_STREAMS"] != "pushpin" or not grip.from_engine(
        request.headers
    ):
        raise grip.not_through_engine()
    return grip.next_page(ticket)


@bp.get("/events/stream/held/<int:since>")
def stream_held(since: int):
    """The push engine asks this for held streams (recovery, new subscription, maximum
    age); their channels and positions come in ``Grip-Last``."""
    if current_app.config["CALLCENTER_STREAMS"] != "pushpin" or not grip.from_engine(
        request.headers
    ):
        raise grip.not_through_engine()
    return grip.held(since, request.headers.getlist("Grip-Last"))
