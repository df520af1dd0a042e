"""Automatic updates to reporters, as reactions to events, and the periodic repairs.

The reader follows the events table with a cursor kept in the database (event ids are
handed out in commit order, so nothing is skipped): a new thread gets an acknowledgement, a
thread linked to a ticket gets its number, a unit accepting a linked ticket sends "petugas
menuju lokasi", a closed ticket sends "laporan selesai". Each is queued at most once per
thread (a unique index), so two readers, a replayed event or a second unit accepting never
send one twice. Events older than ``MAX_AGE`` (after an outage) are passed over: a late
"petugas menuju lokasi" would mislead.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from ...extensions import db
from ...models import Event, Ticket, WaCursor, WaThread
from .. import catalog, clock, queue, sql
from . import media, outbox, settings, texts, threads

log = logging.getLogger(__name__)

CURSOR = "auto_updates"
MAX_AGE = timedelta(minutes=15)
TYPES = ("wa.thread_opened", "wa.thread_linked", "assignment.accepted", "ticket.closed")
# A queued message or media no task has picked up after this is enqueued again.
LOST_AFTER_S = 15.0


def _lock_cursor() -> WaCursor:
    sql.insert_ignore(WaCursor, {"name": CURSOR, "last_event_id": 0})
    return db.session.scalars(
        db.select(WaCursor)
        .where(WaCursor.name == CURSOR)
        .with_for_update(of=WaCursor)
        .execution_options(populate_existing=True)
    ).one()


def _dispatches(ticket: Ticket | None) -> bool:
    category = catalog.get(ticket.category) if ticket is not None else None
    return category is not None and category.dispatch


def _updates_for(event: Event) -> list[tuple[WaThread, str, str]]:
    """``(thread, kind, text)`` for each automatic update ``event`` calls for."""
    ticket = db.session.get(Ticket, event.ticket_id) if event.ticket_id else None
    number = ticket.number if ticket is not None else None
    if event.type == "wa.thread_opened" and settings.auto_on("ack"):
        thread = db.session.get(WaThread, (event.data or {}).get("thread_id", 0))
        if thread is None:
            return []
        if thread.ticket_id is not None and number is None:
            number = thread.ticket.number
        return [(thread, "ack", texts.automatic("ack", number))]
    if event.type == "wa.thread_linked" and settings.auto_on("ack"):
        thread = db.session.get(WaThread, (event.data or {}).get("thread_id", 0))
        if thread is None or not _dispatches(ticket):
            return []
        return [(thread, "ticket", texts.automatic("ticket", number))]
    if ticket is None or not _dispatches(ticket):
        return []
    if event.type == "assignment.accepted" and settings.auto_on("en_route"):
        kind = "en_route"
    elif event.type == "ticket.closed" and settings.auto_on("closed"):
        kind = "closed"
    else:
        return []
    text = texts.automatic(kind, number)
    return [(t, kind, text) for t in threads.threads_of_ticket(ticket.id)]


def react(batch: int = 500) -> int:
    """Queue the automatic updates the new events call for; the number queued."""
    cursor = _lock_cursor()
    rows = list(
        db.session.scalars(
            db.select(Event)
            .where(Event.id > cursor.last_event_id, Event.type.in_(TYPES))
            .order_by(Event.id)
            .limit(batch)
        )
    )
    if not rows:
        db.session.rollback()
        return 0
    oldest = clock.now() - MAX_AGE
    queued = []
    for event in rows:
        if event.at < oldest:
            continue
        for thread, kind, text in _updates_for(event):
            message_id = outbox.queue_automatic(thread, kind, text)
            if message_id is not None:
                queued.append(message_id)
    cursor.last_event_id = rows[-1].id
    for message_id in queued:
        outbox.send_after_commit(message_id)
    db.session.commit()
    return len(queued)


def _close_idle(now) -> int:
    hours = float(current_app.config["CALLCENTER_WA_IDLE_CLOSE_H"])
    idle_before = now - timedelta(hours=hours)
    ids = list(
        db.session.scalars(
            db.select(WaThread.id)
            .where(
                WaThread.status == "open",
                WaThread.waiting_since.is_(None),
                WaThread.last_message_at < idle_before,
            )
            .limit(200)
        )
    )
    db.session.rollback()
    return sum(int(threads.close_idle(thread_id, idle_before)) for thread_id in ids)


def sweep() -> dict:
    """The periodic pass (beat): automatic updates, sends and media fetches that are due or
    whose task was lost, threads idle for ``CALLCENTER_WA_IDLE_CLOSE_H``. Safe to run twice."""
    report = {"auto": react(), "send": 0, "media": 0, "idle_closed": 0}
    now = clock.now()
    for message_id in outbox.due_for_sending(now, LOST_AFTER_S):
        outbox.recover_stale(message_id)
        queue.send("wa_send", message_id)
        report["send"] += 1
    db.session.rollback()
    for message_id in media.due_for_fetching(now, LOST_AFTER_S):
        queue.send("wa_fetch_media", message_id)
        report["media"] += 1
    db.session.rollback()
    report["idle_closed"] = _close_idle(now)
    return report
