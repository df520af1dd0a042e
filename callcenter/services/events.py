"""Events: every state change appends one row, in the transaction that made the change.

``record`` queues an event on the session; the rows are written at commit, under a
transaction-scoped lock on PostgreSQL, so that event ids are handed out in commit order.
Without that, a stream that has sent event 11 could later see event 10 commit and skip it
forever (``Last-Event-ID`` resume depends on ids never appearing behind the cursor).
SQLite already serialises every write transaction (BEGIN IMMEDIATE).

Each event also fixes who hears it on their own stream: its unit, every unit on its ticket
at that moment, and any unit named as a recipient (``_write_recipients``).

``after_commit`` queues work for after a successful commit (enqueue a task, update the live
index, wake the streams); it is dropped on rollback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Assignment, Event, EventRecipient
from ..models.assignment import ACTIVE_STATUSES
from . import bus, clock

log = logging.getLogger(__name__)

_PENDING = "cc_pending_events"
_AFTER = "cc_after_commit"
# An arbitrary constant: the advisory lock that orders event ids by commit.
EVENT_LOCK_KEY = 110_110
# Event types only supervisors and admins read (sign-ins and account changes).
PRIVATE_PREFIXES = ("auth.", "user.")
# A unit whose assignment on a ticket ended this long before an event still hears it: the
# change that ended it (a release, the ticket closed) is usually that very event's.
AUDIENCE_ENDED_WITHIN = timedelta(seconds=5)
# Events about one unit's own offer or status: units no longer on the ticket do not hear
# another unit's (a unit whose offer was withdrawn is not told of the next one's).
UNIT_OWN_PREFIXES = ("assignment.", "unit.")

# Every event type there is (the streams' vocabulary, listed in the OpenAPI document);
# tests/api/test_openapi.py checks that each type the code records is here.
EVENT_TYPES = (
    "agency.updated",
    "assignment.accepted",
    "assignment.cancelled",
    "assignment.completed",
    "assignment.declined",
    "assignment.expired",
    "assignment.offered",
    "assignment.released",
    "auth.locked_out",
    "auth.sign_in_failed",
    "auth.signed_in",
    "auth.signed_out",
    "auth.token_revoked",
    "callback.attempted",
    "callback.closed",
    "callback.created",
    "callback.overdue",
    "category.updated",
    "eido.received",
    "eido.updated",
    "emergency.acknowledged",
    "emergency.ended",
    "emergency.raised",
    "handoff.acknowledged",
    "handoff.created",
    "handoff.escalated",
    "sector.created",
    "sector.updated",
    "system.pruned",
    "ticket.backup_requested",
    "ticket.call_attached",
    "ticket.call_detached",
    "ticket.call_split",
    "ticket.cancelled",
    "ticket.closed",
    "ticket.created",
    "ticket.escalated",
    "ticket.note_added",
    "ticket.status_changed",
    "ticket.updated",
    "unit.created",
    "unit.crew_set",
    "unit.retired",
    "unit.status_changed",
    "unit.updated",
    "user.activated",
    "user.created",
    "user.deactivated",
    "user.locale_changed",
    "user.password_reset",
    "user.sessions_revoked",
    "user.unlocked",
    "user.updated",
    "wa.media_failed",
    "wa.media_stored",
    "wa.message_failed",
    "wa.message_queued",
    "wa.message_received",
    "wa.message_retrying",
    "wa.message_sent",
    "wa.settings_changed",
    "wa.status",
    "wa.thread_claimed",
    "wa.thread_closed",
    "wa.thread_flooded",
    "wa.thread_linked",
    "wa.thread_opened",
    "wa.thread_read",
    "wa.thread_released",
)


@dataclass
class _Pending:
    type: str
    at: datetime
    ticket: object = None
    unit: object = None
    actor_id: int | None = None
    data: dict = field(default_factory=dict)
    recipients: tuple[int, ...] = ()


def apply_changes(row, values: dict) -> dict:
    """Set ``values`` on ``row``; what changed, as events record it:
    ``{name: {"from": before, "to": after}}`` (a value already set is left out)."""
    changes = {
        name: {"from": getattr(row, name), "to": value}
        for name, value in values.items()
        if getattr(row, name) != value
    }
    for name, change in changes.items():
        setattr(row, name, change["to"])
    return changes


def record(
    type_: str,
    *,
    ticket=None,
    unit=None,
    actor=None,
    data: dict | None = None,
    recipients=(),
) -> None:
    """Queue an event for this transaction. ``ticket``/``unit`` may be objects or ids;
    ``recipients`` are more unit ids whose streams carry the event (besides ``unit``)."""
    actor_id = actor if isinstance(actor, int) or actor is None else actor.id
    others = tuple(sorted({int(u) for u in recipients} - {_id_of(unit)}))
    db.session.info.setdefault(_PENDING, []).append(
        _Pending(type_, clock.now(), ticket, unit, actor_id, dict(data or {}), others)
    )


def after_commit(action: Callable[[], None]) -> None:
    """Run ``action`` once this transaction has committed (never if it rolls back)."""
    db.session.info.setdefault(_AFTER, []).append(action)


def _id_of(obj):
    return obj if obj is None or isinstance(obj, int) else obj.id


def _before_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()  # ids for tickets and units created in this transaction
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": EVENT_LOCK_KEY})
    rows = [
        Event(
            type=p.type,
            at=p.at,
            ticket_id=_id_of(p.ticket),
            unit_id=_id_of(p.unit),
            actor_id=p.actor_id,
            data=p.data,
        )
        for p in pending
    ]
    session.add_all(rows)
    session.flush()
    _write_recipients(session, rows, pending)
    last_id = max(r.id for r in rows)
    session.info.setdefault(_AFTER, []).append(lambda: bus.notify_events(last_id))


def _write_recipients(session: Session, rows: list[Event], pending: list[_Pending]) -> None:
    """Who else hears each event on their own stream: every unit on its ticket at that
    moment (an offer or assignment open now, or ended moments ago, by this same change as a
    rule), and the units the caller named. A replay from any id then gives a unit exactly
    what it was sent live, whoever is on the ticket by then."""
    ticket_ids = {r.ticket_id for r in rows if r.ticket_id is not None}
    on_ticket: dict[int, set[int]] = {}
    if ticket_ids:
        since = min(r.at for r in rows) - AUDIENCE_ENDED_WITHIN
        found = session.execute(
            db.select(Assignment.ticket_id, Assignment.unit_id).where(
                Assignment.ticket_id.in_(ticket_ids),
                db.or_(Assignment.status.in_(ACTIVE_STATUSES), Assignment.ended_at >= since),
            )
        )
        for ticket_id, unit_id in found:
            on_ticket.setdefault(ticket_id, set()).add(unit_id)
    active: dict[int, set[int]] = {}
    if ticket_ids:
        for ticket_id, unit_id in session.execute(
            db.select(Assignment.ticket_id, Assignment.unit_id).where(
                Assignment.ticket_id.in_(ticket_ids), Assignment.status.in_(ACTIVE_STATUSES)
            )
        ):
            active.setdefault(ticket_id, set()).add(unit_id)
    out = []
    for row, p in zip(rows, pending, strict=True):
        # What one unit does or is offered concerns the units still on the ticket; what
        # happens to the ticket also reaches those whose part just ended with it.
        if row.type.startswith(UNIT_OWN_PREFIXES):
            units = active.get(row.ticket_id, set()) | set(p.recipients)
        else:
            units = on_ticket.get(row.ticket_id, set()) | set(p.recipients)
        units.discard(row.unit_id)
        out.extend({"event_id": row.id, "unit_id": u} for u in sorted(units))
    if out:
        session.execute(db.insert(EventRecipient), out)


def _after_commit(session: Session) -> None:
    actions = session.info.pop(_AFTER, None) or []
    for action in actions:
        try:
            action()
        except Exception:  # the change is committed; a lost follow-up is repaired by the sweep
            log.exception("after-commit action failed")


def _after_rollback(session: Session, _previous=None) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_AFTER, None)


def init_app(app) -> None:
    """Install the session hooks once per process."""
    if not sa_event.contains(Session, "before_commit", _before_commit):
        sa_event.listen(Session, "before_commit", _before_commit)
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_soft_rollback", _after_rollback)


def visible_types_clause(role: str):
    """A filter hiding private event types from roles that should not read them."""
    if role in ("supervisor", "admin"):
        return None
    return db.and_(*(~Event.type.startswith(p) for p in PRIVATE_PREFIXES))


def for_unit_clause(unit_id: int):
    """The events a unit's stream carries: its own, and those addressed to it as well."""
    addressed = db.select(EventRecipient.event_id).where(EventRecipient.unit_id == unit_id)
    return db.or_(Event.unit_id == unit_id, Event.id.in_(addressed))


def recipients_of(event_ids) -> dict[int, tuple[int, ...]]:
    """The further units each of these events is addressed to (only those that have any)."""
    ids = list(event_ids)
    if not ids:
        return {}
    found: dict[int, list[int]] = {}
    rows = db.session.execute(
        db.select(EventRecipient.event_id, EventRecipient.unit_id).where(
            EventRecipient.event_id.in_(ids)
        )
    )
    for event_id, unit_id in rows:
        found.setdefault(event_id, []).append(unit_id)
    return {k: tuple(sorted(v)) for k, v in found.items()}


def since(
    after_id: int, *, limit: int = 500, role: str = "dispatcher", unit_id: int | None = None
) -> list[Event]:
    """Events after ``after_id`` in id order; a unit sees only its own."""
    query = db.select(Event).where(Event.id > after_id).order_by(Event.id).limit(limit)
    if unit_id is not None:
        query = query.where(for_unit_clause(unit_id))
    clause = visible_types_clause(role)
    if clause is not None:
        query = query.where(clause)
    return list(db.session.scalars(query))


def last_id() -> int:
    return db.session.scalar(db.select(db.func.coalesce(db.func.max(Event.id), 0)))


def for_ticket(ticket_id: int) -> list[Event]:
    return list(
        db.session.scalars(db.select(Event).where(Event.ticket_id == ticket_id).order_by(Event.id))
    )


def stream_config() -> dict:
    cfg = current_app.config
    return {"keepalive_s": cfg["CALLCENTER_STREAM_KEEPALIVE_S"]}
