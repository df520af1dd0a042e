"""What the live streams carry: scopes, SSE frames, replay pages, positions, closes.

Every event is serialised once into an ``Entry`` (its SSE frame and what decides who may
see it); the broadcaster and the relay hand the same bytes to every stream of its scope.

Scopes and their push-engine channels:

- ``staff`` (dispatchers): every event except the private types (``auth.*``, ``user.*``);
- ``supervisor`` (supervisors and admins): every event;
- ``unit-<id>`` (a unit's own device): that unit's events and those addressed to it too
  (``event_recipients``: whatever happens to a ticket reaches every unit on it; see
  services/events.py), except the private types.

Staff and supervisors also get ``positions`` messages (no id): the units that moved,
coalesced once per tick. ``Last-Event-ID`` resume rests on event ids being handed out in
commit order (services/events.py): everything up to the highest committed id is readable.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..extensions import db
from ..models import Event, Unit
from ..ops import metrics
from ..services import clock
from ..services.events import PRIVATE_PREFIXES, for_unit_clause, recipients_of

POSITIONS_CHANNEL = "positions"
# Look a little back for moved units: a report may commit after a look that began later.
POSITIONS_OVERLAP = timedelta(seconds=2)
RETRY_FRAME = b"retry: 2000\n\n"
KEEPALIVE_FRAME = b": keepalive\n\n"


@dataclass(frozen=True)
class Scope:
    """What one stream may see: ``kind`` is staff, supervisor or unit."""

    kind: str
    unit_id: int | None = None

    @property
    def channel(self) -> str:
        return f"unit-{self.unit_id}" if self.kind == "unit" else self.kind

    @property
    def positions(self) -> bool:
        return self.kind != "unit"

    def sees(self, entry: Entry) -> bool:
        if self.kind == "supervisor":
            return True
        if entry.private:
            return False
        return self.kind == "staff" or self.unit_id in (entry.unit_id, *entry.recipients)


def scope_for(user) -> Scope:
    """A unit user sees its own unit (none at all when unbound); supervisors and admins see
    everything; other staff everything but the private types."""
    if user.role == "unit":
        return Scope("unit", user.unit_id if user.unit_id is not None else -1)
    if user.role in ("supervisor", "admin"):
        return Scope("supervisor")
    return Scope("staff")


def scope_from_channel(channel: str) -> Scope:
    if channel.startswith("unit-"):
        return Scope("unit", int(channel[5:]))
    return Scope(channel)


@dataclass(frozen=True)
class Entry:
    """One event, serialised once."""

    id: int
    type: str
    unit_id: int | None
    private: bool
    frame: bytes
    closes: tuple[str, ...] = ()
    # Further units whose streams carry this event.
    recipients: tuple[int, ...] = ()
    at: float = 0.0  # when the event was written (epoch seconds)

    def channels(self) -> list[str]:
        """The push-engine channels this event is published on."""
        if self.private:
            return ["supervisor"]
        out = ["staff", "supervisor"]
        if self.unit_id is not None:
            out.append(f"unit-{self.unit_id}")
        out.extend(f"unit-{u}" for u in self.recipients if u != self.unit_id)
        return out


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(data) -> str:
    return json.dumps(data, default=_json_default, separators=(",", ":"))


# Account changes that end every stream of the user.
USER_CLOSING = ("user.deactivated", "user.password_reset", "user.sessions_revoked")


def close_keys(event: Event) -> tuple[str, ...]:
    """The credentials whose streams this event ends: a revoked token, a signed-out page
    session, a deactivated user (or one whose password was reset or sessions revoked)."""
    data = event.data or {}
    if event.type == "auth.token_revoked" and data.get("token_id"):
        return (f"token-{data['token_id']}",)
    if event.type == "auth.signed_out" and data.get("session"):
        return (f"session-{data['session']}",)
    if event.type in USER_CLOSING and data.get("user_id"):
        return (f"user-{data['user_id']}",)
    return ()


def close_item(channel: str, item_id: str) -> dict:
    """A ``close`` on a close channel. Close channels are held with ``prev-id=0`` (so that
    Pushpin names them in ``Grip-Last`` and the shared link can rebuild a stream's
    channels), so each close carries that prev-id and an id of its own."""
    return {
        "channel": channel,
        "id": item_id,
        "prev-id": "0",
        "formats": {"http-stream": {"action": "close"}},
    }


def entry(event: Event, recipients: tuple[int, ...] = ()) -> Entry:
    from ..api import serialize

    frame = f"id: {event.id}\ndata: {dumps(serialize.event(event))}\n\n".encode()
    return Entry(
        id=event.id,
        type=event.type,
        unit_id=event.unit_id,
        private=event.type.startswith(PRIVATE_PREFIXES),
        frame=frame,
        closes=close_keys(event),
        recipients=recipients,
        at=event.at.timestamp(),
    )


def observe_handed_over(entries: list[Entry], via: str) -> None:
    """Metrics: how long accepts took from being written to reaching the streams."""
    for entry in entries:
        if entry.type == "assignment.accepted":
            metrics.observe_since(metrics.ACCEPT_TO_STREAM, entry.at, via)


def _scoped(query, scope: Scope | None):
    if scope is None or scope.kind == "supervisor":
        return query
    query = query.where(*(~Event.type.startswith(p) for p in PRIVATE_PREFIXES))
    if scope.kind == "unit":
        query = query.where(for_unit_clause(scope.unit_id))
    return query


def last_id() -> int:
    """The highest committed event id (0 when there are none)."""
    return db.session.scalar(db.select(db.func.coalesce(db.func.max(Event.id), 0)))


def read(
    after_id: int, *, limit: int, scope: Scope | None = None, upto: int | None = None
) -> tuple[list[Entry], int]:
    """Events after ``after_id`` in id order, at most ``limit``, of ``scope`` (all if None),
    and none after ``upto`` when given.

    Returns the entries and how far the read reached: the last entry's id when the page is
    full, else the highest committed id at the time of reading (or ``upto``; no event of
    the scope lies between), so a stream may move its cursor there and never read that
    range again.
    """
    ceiling = last_id()
    if upto is not None:
        ceiling = min(ceiling, upto)
    query = (
        db.select(Event)
        .where(Event.id > after_id, Event.id <= ceiling)
        .order_by(Event.id)
        .limit(limit)
    )
    rows = list(db.session.scalars(_scoped(query, scope)))
    addressed = recipients_of(e.id for e in rows)
    entries = [entry(e, addressed.get(e.id, ())) for e in rows]
    if len(entries) == limit:
        return entries, entries[-1].id
    return entries, max(after_id, ceiling)


def last_in_scope(scope: Scope, *, before: int | None = None) -> int:
    """The id of the newest event of ``scope`` (below ``before``), or 0."""
    query = db.select(db.func.coalesce(db.func.max(Event.id), 0))
    if before is not None:
        query = query.where(Event.id < before)
    return db.session.scalar(_scoped(query, scope))


class Positions:
    """The units that moved since the last look, each report sent once.

    Each look reaches ``POSITIONS_OVERLAP`` back (a report stamped before the previous look
    may commit after it) and leaves out the reports already sent.
    """

    def __init__(self):
        self.since = clock.now()
        self.sent: dict[int, datetime] = {}

    def frame(self) -> bytes | None:
        """One ``positions`` SSE message with every unit that moved, or None."""
        as_of = clock.now()
        rows = db.session.execute(
            db.select(Unit.id, Unit.lat, Unit.lon, Unit.position_at, Unit.position_updated_at)
            .where(Unit.position_updated_at > self.since - POSITIONS_OVERLAP)
            .where(Unit.lat.is_not(None))
        ).all()
        moved = [r for r in rows if self.sent.get(r.id) != r.position_updated_at]
        self.since = as_of
        self.sent.update((r.id, r.position_updated_at) for r in moved)
        # The next look starts after as_of - overlap: older reports can never come back.
        horizon = as_of - POSITIONS_OVERLAP
        self.sent = {k: v for k, v in self.sent.items() if v > horizon}
        if not moved:
            return None
        from ..api import serialize_units

        units = [serialize_units.position(r) for r in moved]
        return f"event: positions\ndata: {dumps({'units': units})}\n\n".encode()


class Ticker:
    """Says when the next positions tick is due."""

    def __init__(self, every_s: float):
        self.every_s = every_s
        self.next_at = time.monotonic() + every_s

    def due(self) -> bool:
        now = time.monotonic()
        if now < self.next_at:
            return False
        self.next_at = max(self.next_at + self.every_s, now + self.every_s / 2)
        return True

    def wait_s(self) -> float:
        return max(0.0, self.next_at - time.monotonic())
