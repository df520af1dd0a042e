"""The event feed: a page of events, and the live SSE stream with ``Last-Event-ID`` resume."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

from flask import Response, current_app, g, jsonify, request, stream_with_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ..auth.decorators import roles_required
from ..extensions import db
from ..services import bus, clock, events, units
from ..services.errors import ValidationError
from . import bp, page_args, serialize

log = logging.getLogger(__name__)
# How far back each look for moved units reaches, for reports committed while we read.
OVERLAP = timedelta(seconds=2)


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
        return events.last_id()
    if not raw.isdigit():
        raise ValidationError(
            _l("Invalid query parameters."), fields={"Last-Event-ID": _l("Must be a whole number.")}
        )
    return int(raw)


def _sse(data: dict, *, event_id: int | None = None, name: str | None = None) -> str:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if name:
        lines.append(f"event: {name}")
    lines.append("data: " + json.dumps(data, default=_json_default, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


def _json_default(value):
    return value.isoformat()


@bp.get("/events/stream")
@roles_required()
def stream():
    """Server-sent events: ``id:`` is the event id; a reconnect with ``Last-Event-ID``
    resumes after it. Staff streams also get coalesced ``positions`` messages (no id).
    The stream ends after ``CALLCENTER_STREAM_MAX_S`` so the client reconnects and is
    authenticated again."""
    g.passive = True  # does not keep an idle session alive
    cursor = _resume_point()
    scope = _scope()
    staff = scope["unit_id"] is None
    cfg = current_app.config
    keepalive_s = float(cfg["CALLCENTER_STREAM_KEEPALIVE_S"])
    max_s = float(cfg["CALLCENTER_STREAM_MAX_S"])
    db.session.remove()  # hold no connection while streaming

    @stream_with_context
    def generate():
        nonlocal cursor
        waiter = bus.Waiter()
        started = last_sent = time.monotonic()
        # Positions: look a little back each time (a report committing while we read must
        # not be missed) and send each unit's report once.
        positions_from = clock.now()
        sent_positions: dict[int, object] = {}
        try:
            yield "retry: 2000\n\n"
            while time.monotonic() - started < max_s:
                batch = events.since(cursor, limit=500, **scope)
                moved = []
                if staff:
                    as_of = clock.now()
                    moved = [
                        u
                        for u in units.positions_since(positions_from - OVERLAP)
                        if sent_positions.get(u.id) != u.position_updated_at
                    ]
                    sent_positions.update((u.id, u.position_updated_at) for u in moved)
                    positions_from = as_of
                db.session.remove()
                for event in batch:
                    cursor = event.id
                    yield _sse(serialize.event(event), event_id=event.id)
                if moved:
                    yield _sse(
                        {
                            "units": [
                                {
                                    "id": u.id,
                                    "lat": u.lat,
                                    "lon": u.lon,
                                    "position_at": u.position_at,
                                }
                                for u in moved
                            ]
                        },
                        name="positions",
                    )
                if batch or moved:
                    last_sent = time.monotonic()
                elif time.monotonic() - last_sent >= keepalive_s:
                    yield ": keepalive\n\n"
                    last_sent = time.monotonic()
                if len(batch) < 500:
                    waiter.wait(1.0)
        except SQLAlchemyError as exc:
            # The database went away: end the stream; the client reconnects and resumes.
            log.warning("live stream ended: %s", exc)
        finally:
            waiter.close()
            db.session.remove()

    response = Response(generate(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response
