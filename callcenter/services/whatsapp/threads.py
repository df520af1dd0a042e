"""Conversations: one open thread per reporter number, claimed by one dispatcher at a time.

A dispatcher claims a thread before answering it (any action on it claims it when nobody
has); the claim is a conditional update on the locked row, so of two dispatchers clicking
at once exactly one gets it. Every change records a ``wa.*`` event; once the thread is
linked to a ticket its events carry the ticket's id, so they are part of the ticket's story.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from ...extensions import db
from ...models import IdempotencyKey, Ticket, User, WaMessage, WaThread
from ...models.ticket import OPEN_STATUSES
from .. import catalog, clock, events, incidents, intake, sql
from ..errors import Conflict, Forbidden, NotFound, ValidationError
from ..validation import Errors, is_id, optional_text, unknown_fields

WINDOW = timedelta(hours=24)  # WhatsApp's customer-service window


def window_open(thread: WaThread, now: datetime | None = None) -> bool:
    """True while the reporter's last message is less than 24 hours old."""
    if thread.last_inbound_at is None:
        return False
    return (now or clock.now()) < thread.last_inbound_at + WINDOW


def record(type_: str, thread: WaThread, *, actor=None, data: dict | None = None) -> None:
    """A ``wa.*`` event about ``thread``, on its ticket's timeline when it has one."""
    if thread.ticket_id is not None and sql.is_postgresql():
        # The event row's foreign key share-locks the ticket when it is written, which is
        # after the commit-order lock (services/events.py). A routing transaction holding
        # the ticket and waiting for that lock would deadlock with us: take the share lock
        # now, before it.
        db.session.execute(
            db.select(Ticket.id)
            .where(Ticket.id == thread.ticket_id)
            .with_for_update(key_share=True)
        )
    events.record(
        type_,
        ticket=thread.ticket_id,
        actor=actor,
        data={"thread_id": thread.id, "phone": thread.phone, **(data or {})},
    )


def lock(thread_id: int) -> WaThread:
    thread = db.session.scalars(
        db.select(WaThread)
        .where(WaThread.id == thread_id)
        .with_for_update(of=WaThread)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if thread is None:
        raise NotFound(_l("No such WhatsApp conversation."))
    return thread


def open_thread_for(phone: str, wa_id: str, name: str | None, now: datetime):
    """The reporter's open thread, locked, or a new one: ``(thread, created)``.

    Two deliveries from a new number racing each other make one thread: the partial unique
    index refuses the second insert, which then takes the first one's row.
    """
    for _attempt in range(3):
        thread = db.session.scalars(
            db.select(WaThread)
            .where(WaThread.phone == phone, WaThread.status == "open")
            .with_for_update(of=WaThread)
            .execution_options(populate_existing=True)
        ).one_or_none()
        if thread is not None:
            if name and thread.profile_name != name:
                thread.profile_name = name[:120]
            return thread, False
        thread = WaThread(
            phone=phone,
            wa_id=wa_id,
            profile_name=name[:120] if name else None,
            created_at=now,
            last_message_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(thread)
        except IntegrityError:
            continue
        return thread, True
    raise Conflict(_l("The conversation could not be opened; try again."))


def _time(moment: datetime) -> str:
    return clock.to_wib(moment).strftime("%H:%M")


def _claimed_conflict(thread: WaThread) -> Conflict:
    holder = thread.claimed_by
    name = (holder.full_name or holder.username) if holder else "?"
    return Conflict(
        _l(
            "%(name)s is answering this reporter (since %(time)s WIB).",
            name=name,
            time=_time(thread.claimed_at or clock.now()),
        ),
        code="thread_claimed",
    )


def _closed_conflict() -> Conflict:
    return Conflict(_l("This conversation is closed."), code="thread_closed")


def _take(thread: WaThread, actor: User, *, take_over: bool = False) -> bool:
    """Claim the locked ``thread`` for ``actor``; False if it already was theirs."""
    if thread.claimed_by_id == actor.id:
        return False
    previous = thread.claimed_by_id
    query = db.update(WaThread).where(WaThread.id == thread.id, WaThread.status == "open")
    if not take_over:
        query = query.where(WaThread.claimed_by_id.is_(None))
    now = clock.now()
    result = db.session.execute(
        query.values(claimed_by_id=actor.id, claimed_at=now).execution_options(
            synchronize_session=False
        )
    )
    if result.rowcount != 1:
        db.session.refresh(thread)
        raise _closed_conflict() if not thread.is_open else _claimed_conflict(thread)
    db.session.refresh(thread)
    record(
        "wa.thread_claimed",
        thread,
        actor=actor,
        data={"by": actor.username, "taken_from": previous},
    )
    return True


def hold(thread_id: int, actor: User) -> WaThread:
    """The open thread, locked and claimed by ``actor`` (claimed now if nobody had it)."""
    thread = lock(thread_id)
    if not thread.is_open:
        raise _closed_conflict()
    if thread.claimed_by_id not in (None, actor.id):
        raise _claimed_conflict(thread)
    _take(thread, actor)
    return thread


def claim(thread_id: int, data: dict, *, actor: User) -> WaThread:
    """Claim a thread; ``take_over`` (supervisors) takes it from whoever holds it."""
    errors = Errors()
    unknown_fields(data, {"take_over"}, errors)
    take_over = data.get("take_over", False)
    if not isinstance(take_over, bool):
        errors.add("take_over", _l("Must be true or false."))
    if errors:
        raise ValidationError(_l("The conversation was not claimed."), fields=errors)
    if take_over and actor.role != "supervisor":
        raise Forbidden(_l("Only a supervisor may take over a conversation."))
    thread = lock(thread_id)
    if not thread.is_open:
        raise _closed_conflict()
    if thread.claimed_by_id not in (None, actor.id) and not take_over:
        raise _claimed_conflict(thread)
    if not _take(thread, actor, take_over=take_over):
        db.session.rollback()
        return db.session.get(WaThread, thread_id)
    db.session.commit()
    return thread


def release(thread_id: int, *, actor: User) -> WaThread:
    """Give the thread back (its holder, or a supervisor)."""
    thread = lock(thread_id)
    if thread.claimed_by_id is None:
        db.session.rollback()
        return thread
    if thread.claimed_by_id != actor.id and actor.role != "supervisor":
        raise _claimed_conflict(thread)
    previous = thread.claimed_by_id
    thread.claimed_by_id = None
    thread.claimed_at = None
    record("wa.thread_released", thread, actor=actor, data={"from": previous})
    db.session.commit()
    return thread


def mark_read(thread_id: int, *, actor: User) -> WaThread:
    """The dispatcher has seen the thread: its unread count goes to zero."""
    thread = lock(thread_id)
    if thread.unread == 0:
        db.session.rollback()
        return thread
    thread.unread = 0
    record("wa.thread_read", thread, actor=actor)
    db.session.commit()
    return thread


def _texts(thread_id: int) -> str:
    """The reporter's words so far (texts and captions), oldest first."""
    rows = db.session.scalars(
        db.select(WaMessage.text)
        .where(
            WaMessage.thread_id == thread_id,
            WaMessage.direction == "in",
            WaMessage.text.is_not(None),
        )
        .order_by(WaMessage.id)
    )
    text = "\n".join(t.strip() for t in rows if t and t.strip())
    return text[: current_app.config["CALLCENTER_SUMMARY_MAX"]]


def latest_pin(thread_id: int) -> WaMessage | None:
    return db.session.scalars(
        db.select(WaMessage)
        .where(
            WaMessage.thread_id == thread_id,
            WaMessage.direction == "in",
            WaMessage.kind == "location",
        )
        .order_by(WaMessage.id.desc())
        .limit(1)
    ).first()


def _pin_location(pin: WaMessage) -> dict:
    location = {"lat": pin.lat, "lon": pin.lon}
    if pin.place:
        location["address"] = pin.place[: current_app.config["CALLCENTER_ADDRESS_MAX"]]
    return location


def _idempotency_key(thread: WaThread) -> str:
    return f"wa-thread-{thread.id}"


def _earlier_ticket(thread: WaThread, actor: User) -> Ticket | None:
    """The ticket an interrupted earlier attempt of ``actor`` made from this thread."""
    row = db.session.scalars(
        db.select(IdempotencyKey).where(
            IdempotencyKey.user_id == actor.id, IdempotencyKey.key == _idempotency_key(thread)
        )
    ).one_or_none()
    return db.session.get(Ticket, row.ticket_id) if row else None


def _intake_payload(thread: WaThread, data: dict, category: str | None = None) -> dict:
    """An intake request from the thread: channel whatsapp, the reporter's number and name,
    their words and their latest pin, under whatever the dispatcher typed."""
    payload = {k: v for k, v in data.items() if k != "ticket_id"}
    caller = payload.get("caller") if isinstance(payload.get("caller"), dict) else {}
    payload["channel"] = "whatsapp"
    payload["caller"] = {
        "name": caller.get("name") or thread.profile_name,
        "phone": thread.phone,
    }
    if category is not None:
        payload["category"] = category
    if not payload.get("summary"):
        payload["summary"] = _texts(thread.id)
    code = payload.get("category")
    wanted = catalog.get(code) if isinstance(code, str) else None
    if "location" not in payload and (wanted is None or wanted.dispatch):
        pin = latest_pin(thread.id)
        if pin is not None:
            payload["location"] = _pin_location(pin)
    return payload


def _link(thread_id: int, ticket: Ticket, *, actor: User, mode: str) -> WaThread:
    """Record (in a new transaction) that ``thread_id`` belongs to ``ticket``."""
    thread = lock(thread_id)
    if thread.ticket_id == ticket.id:
        db.session.rollback()
        return thread
    if thread.ticket_id is not None:
        raise Conflict(
            _l("This conversation already belongs to another ticket."), code="thread_linked"
        )
    thread.ticket_id = ticket.id
    thread.linked_at = clock.now()
    record(
        "wa.thread_linked",
        thread,
        actor=actor,
        data={"number": ticket.number, "mode": mode, "category": ticket.category},
    )
    db.session.commit()
    return thread


def link_ticket(thread_id: int, data: dict, *, actor: User) -> tuple[WaThread, Ticket, bool]:
    """Attach the thread to an open ticket (``{ticket_id}``), or make a new ticket from it
    through intake (the body as for ``POST /tickets``; channel, number, name, text and pin
    come from the thread unless given). Returns ``(thread, ticket, created)``.

    Making the ticket and linking it are two commits (intake commits its own); the ticket
    is made under an idempotency key of the thread, so a retry after an interruption
    links the first ticket instead of making a second one.
    """
    if not isinstance(data, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    thread = hold(thread_id, actor)
    if thread.ticket_id is not None:
        raise Conflict(
            _l(
                "This conversation already belongs to ticket %(number)s.",
                number=thread.ticket.number,
            ),
            code="thread_linked",
        )
    if "ticket_id" in data:
        errors = Errors()
        unknown_fields(data, {"ticket_id"}, errors)
        ticket_id = data["ticket_id"]
        if not is_id(ticket_id):
            errors.add("ticket_id", _l("Must be a whole number."))
        if errors:
            raise ValidationError(_l("The conversation was not attached."), fields=errors)
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound(_l("No such ticket."))
        if ticket.status not in OPEN_STATUSES:
            raise Conflict(
                _l(
                    "Ticket %(number)s is already %(status)s.",
                    number=ticket.number,
                    status=ticket.status,
                ),
                code="ticket_not_open",
            )
        db.session.commit()  # the claim
        return _link(thread_id, ticket, actor=actor, mode="attached"), ticket, False

    payload = _intake_payload(thread, data)
    earlier = _earlier_ticket(thread, actor)
    db.session.commit()  # the claim
    if earlier is None:
        ticket, _created = intake.create_ticket(
            payload, actor=actor, idempotency_key=_idempotency_key(thread)
        )
    else:
        ticket = earlier
    return _link(thread_id, ticket, actor=actor, mode="created"), ticket, True


def close(thread_id: int, data: dict, *, actor: User) -> WaThread:
    """Close the thread; ``{prank: true}`` logs it as a prank call (iseng) through intake,
    so the number counts as a prank caller exactly as for phone calls."""
    errors = Errors()
    unknown_fields(data, {"prank", "note"}, errors)
    prank = data.get("prank", False)
    if not isinstance(prank, bool):
        errors.add("prank", _l("Must be true or false."))
    note = optional_text(data.get("note"), "note", errors, 300)
    if errors:
        raise ValidationError(_l("The conversation was not closed."), fields=errors)
    thread = hold(thread_id, actor)
    ticket = None
    if prank:
        if thread.ticket_id is not None:
            raise Conflict(
                _l(
                    "This conversation belongs to ticket %(number)s; close it without iseng.",
                    number=thread.ticket.number,
                ),
                code="thread_linked",
            )
        payload = _intake_payload(thread, {}, category="prank")
        earlier = _earlier_ticket(thread, actor)
        db.session.commit()  # the claim
        ticket = (
            earlier
            or intake.create_ticket(payload, actor=actor, idempotency_key=_idempotency_key(thread))[
                0
            ]
        )
        thread = lock(thread_id)
        if not thread.is_open:
            db.session.rollback()
            return thread
        thread.ticket_id = ticket.id
        thread.linked_at = clock.now()
    now = clock.now()
    thread.status = "closed"
    thread.closed_at = now
    thread.closed_by_id = actor.id
    thread.close_reason = "prank" if prank else "closed"
    thread.waiting_since = None
    thread.unread = 0
    record(
        "wa.thread_closed",
        thread,
        actor=actor,
        data={
            "reason": thread.close_reason,
            "note": note,
            "number": ticket.number if ticket else None,
        },
    )
    db.session.commit()
    return thread


def close_idle(thread_id: int, idle_before: datetime) -> bool:
    """Close a thread nobody wrote in since ``idle_before`` and with nothing waiting."""
    thread = lock(thread_id)
    if not thread.is_open or thread.waiting_since is not None:
        db.session.rollback()
        return False
    if thread.last_message_at >= idle_before:
        db.session.rollback()
        return False
    thread.status = "closed"
    thread.closed_at = clock.now()
    thread.close_reason = "idle"
    record("wa.thread_closed", thread, data={"reason": "idle"})
    db.session.commit()
    return True


def apply_location(thread_id: int, data: dict, *, actor: User) -> Ticket:
    """Move the linked ticket's point to a pin the reporter shared (``{message_id}``);
    the ticket's own edit records it (``ticket.updated``) and routes a waiting ticket again."""
    errors = Errors()
    unknown_fields(data, {"message_id"}, errors)
    message_id = data.get("message_id")
    if not is_id(message_id):
        errors.add("message_id", _l("Must be a whole number."))
    if errors:
        raise ValidationError(_l("The ticket's location was not changed."), fields=errors)
    thread = db.session.get(WaThread, thread_id)
    if thread is None:
        raise NotFound(_l("No such WhatsApp conversation."))
    if thread.ticket_id is None:
        raise Conflict(_l("Make a ticket from this conversation first."), code="thread_not_linked")
    pin = db.session.get(WaMessage, message_id)
    if pin is None or pin.thread_id != thread.id or pin.kind != "location":
        raise ValidationError(
            _l("The ticket's location was not changed."),
            fields={"message_id": _l("Not a location shared in this conversation.")},
        )
    ticket_id = thread.ticket_id
    db.session.rollback()
    return incidents.edit(ticket_id, {"location": _pin_location(pin)}, actor=actor)


# --- reading -------------------------------------------------------------------------------


def get(thread_id: int) -> WaThread:
    thread = db.session.get(WaThread, thread_id)
    if thread is None:
        raise NotFound(_l("No such WhatsApp conversation."))
    return thread


def parse_status(raw: str | None) -> str:
    if raw in (None, "", "open"):
        return "open"
    if raw in ("closed", "all"):
        return raw
    choices = _l("One of: %(choices)s.", choices="open, closed, all")
    raise ValidationError(_l("Unknown status."), fields={"status": choices})


def list_threads(status: str = "open", limit: int = 100) -> list[WaThread]:
    """Open threads: the oldest unanswered first, then the most recently active.
    Closed ones: the most recently closed first."""
    query = db.select(WaThread).limit(limit)
    if status == "open":
        query = query.where(WaThread.status == "open").order_by(
            WaThread.waiting_since.is_(None),
            WaThread.waiting_since,
            WaThread.last_message_at.desc(),
        )
    elif status == "closed":
        query = query.where(WaThread.status == "closed").order_by(WaThread.closed_at.desc())
    else:
        query = query.order_by(WaThread.last_message_at.desc())
    return list(db.session.scalars(query))


def messages(thread_ids: list[int], limit: int = 500) -> list[WaMessage]:
    """The messages of these threads, oldest first."""
    if not thread_ids:
        return []
    return list(
        db.session.scalars(
            db.select(WaMessage)
            .where(WaMessage.thread_id.in_(thread_ids))
            .options(lazyload(WaMessage.thread))  # not joined again for every message
            .order_by(WaMessage.id)
            .limit(limit)
        )
    )


def last_messages(thread_ids: list[int]) -> dict[int, WaMessage]:
    if not thread_ids:
        return {}
    newest = (
        db.select(db.func.max(WaMessage.id))
        .where(WaMessage.thread_id.in_(thread_ids))
        .group_by(WaMessage.thread_id)
    )
    rows = db.session.scalars(
        db.select(WaMessage).where(WaMessage.id.in_(newest)).options(lazyload(WaMessage.thread))
    )
    return {m.thread_id: m for m in rows}


def caller_counts(phones: list[str]) -> dict[str, tuple[int, int]]:
    """``phone -> (calls, pranks)`` in the caller-history window, for many numbers at once."""
    if not phones:
        return {}
    since = clock.now() - timedelta(days=current_app.config["CALLCENTER_CALLER_HISTORY_DAYS"])
    rows = db.session.execute(
        db.select(
            Ticket.caller_phone,
            db.func.count(),
            db.func.sum(db.case((Ticket.category == "prank", 1), else_=0)),
        )
        .where(Ticket.caller_phone.in_(set(phones)), Ticket.created_at >= since)
        .group_by(Ticket.caller_phone)
    )
    return {phone: (int(calls), int(pranks or 0)) for phone, calls, pranks in rows}


def threads_of_ticket(ticket_id: int) -> list[WaThread]:
    return list(
        db.session.scalars(
            db.select(WaThread).where(WaThread.ticket_id == ticket_id).order_by(WaThread.id)
        )
    )


def ticket_story(ticket_id: int) -> list[WaMessage]:
    """Every WhatsApp message of the threads linked to a ticket, oldest first: what the
    ticket's detail (and later its timeline) shows of the chat."""
    return messages([t.id for t in threads_of_ticket(ticket_id)])
