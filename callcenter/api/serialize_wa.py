"""JSON shapes of the WhatsApp Center: threads and messages (beside ``serialize``)."""

from __future__ import annotations

from flask import current_app

from ..models import WaMessage, WaThread
from ..services import clock, intake, phones
from ..services.whatsapp import outbox, texts, threads
from . import serialize

FLOOD_FLAG_S = 600  # how long a thread shows the flood flag after the last excess message


def _person(user) -> dict | None:
    return serialize.actor(user)


def message(m: WaMessage) -> dict:
    body = {
        "id": m.id,
        "thread_id": m.thread_id,
        "direction": m.direction,
        "kind": m.kind,
        "raw_type": m.raw_type,
        "text": m.text,
        "created_at": m.created_at,
        "wa_timestamp": m.wa_timestamp,
        "location": (
            {"lat": m.lat, "lon": m.lon, "place": m.place} if m.kind == "location" else None
        ),
        "media": None,
        "throttled": m.throttled,
    }
    if m.media_id is not None:
        body["media"] = {
            "status": m.media_status,
            "mime": m.media_mime,
            "size": m.media_size,
            "filename": m.media_filename,
            "url": f"/api/v1/wa/media/{m.id}" if m.media_status == "stored" else None,
            "error": m.error_message if m.media_status in ("rejected", "failed") else None,
        }
    if m.direction == "out":
        body.update(
            {
                "status": m.status,
                "status_at": m.status_at,
                "error": (
                    {"code": m.error_code, "message": m.error_message}
                    if m.error_code or m.error_message
                    else None
                ),
                "attempts": m.attempts,
                "next_attempt_at": m.next_attempt_at,
                "sent_at": m.sent_at,
                "delivered_at": m.delivered_at,
                "read_at": m.read_at,
                "sender": _person(m.sender),
                "auto": m.auto_kind,
                "quick_reply": m.quick_reply,
            }
        )
    return body


def thread(t: WaThread, *, counts: tuple[int, int] = (0, 0), last: WaMessage | None = None):
    """A thread with its flags; ``counts`` = (calls, pranks) of the number in the history
    window, ``last`` its newest message."""
    cfg = current_app.config
    now = clock.now()
    calls, pranks = counts
    closes_at = t.last_inbound_at + threads.WINDOW if t.last_inbound_at else None
    flooding = t.flooded_at is not None and (now - t.flooded_at).total_seconds() < FLOOD_FLAG_S
    return {
        "id": t.id,
        "status": t.status,
        "phone": t.phone,
        "phone_display": phones.display(t.phone) or t.phone,
        "name": t.profile_name,
        "created_at": t.created_at,
        "last_message_at": t.last_message_at,
        "last_inbound_at": t.last_inbound_at,
        "waiting_since": t.waiting_since,
        "unread": t.unread,
        "message_count": t.message_count,
        "claimed_by": _person(t.claimed_by),
        "claimed_at": t.claimed_at,
        "ticket": (
            {
                "id": t.ticket.id,
                "number": t.ticket.number,
                "status": t.ticket.status,
                "category": t.ticket.category,
            }
            if t.ticket is not None
            else None
        ),
        "linked_at": t.linked_at,
        "window": {
            "open": threads.window_open(t, now),
            "closes_at": closes_at,
            "template": outbox.template_configured(),
        },
        "flags": {
            "flood": flooding,
            "flooded_at": t.flooded_at,
            "repeat_caller": calls > 0,
            "prank_caller": pranks >= cfg["CALLCENTER_PRANK_FLAG_MIN"],
            "calls_30d": calls,
            "pranks_30d": pranks,
        },
        "closed_at": t.closed_at,
        "close_reason": t.close_reason,
        "last_message": message(last) if last is not None else None,
    }


def threads_list(rows: list[WaThread]) -> list[dict]:
    counts = threads.caller_counts([t.phone for t in rows])
    last = threads.last_messages([t.id for t in rows])
    return [thread(t, counts=counts.get(t.phone, (0, 0)), last=last.get(t.id)) for t in rows]


def thread_detail(t: WaThread) -> dict:
    """A thread with the history of its number."""
    history = intake.caller_history(t.phone)
    body = thread(
        t,
        counts=(history["calls"], history["pranks"]),
        last=threads.last_messages([t.id]).get(t.id),
    )
    body["caller_history"] = serialize.caller_history(history)
    return body


def thread_with_messages(t: WaThread) -> dict:
    return thread_detail(t) | {"messages": [message(m) for m in threads.messages([t.id])]}


def ticket_link(t: WaThread, ticket, crew) -> dict:
    """The answer to making or attaching a ticket: the thread and the ticket."""
    return {"thread": thread_detail(t), "ticket": serialize.ticket(ticket, crew)}


def quick_replies() -> list[dict]:
    return [
        {"code": code, "text": text, "label": str(label)}
        for code, (text, label) in texts.QUICK_REPLIES.items()
    ]


def settings(auto: dict[str, bool]) -> dict:
    return {"auto": auto}


def ticket_story(messages: list[WaMessage]) -> list[dict]:
    return [message(m) for m in messages]
