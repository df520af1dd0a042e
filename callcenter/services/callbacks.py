"""Call-backs: a silent or dropped call leaves a task to ring the number back within
``CALLCENTER_CALLBACK_DUE_S``. Each try records how it went:

- ``no_answer``: the task stays open, and closes after ``CALLCENTER_CALLBACK_MAX_NO_ANSWER``;
- ``prank``, ``wrong_number``: the task closes;
- ``genuine``: the call is logged as a new ticket (intake with ``callback_id``), linked here.

A number with a prank history (``CALLCENTER_PRANK_FLAG_MIN`` pranks in the caller-history
window) is not called back: its task is closed at once, reason ``repeat_prank``.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Callback, CallbackAttempt, Ticket, User
from ..models.callbacks import OUTCOMES
from . import catalog, clock, events
from .errors import Conflict, NotFound, ValidationError
from .validation import Errors, is_id, optional_text, unknown_fields

NOTE_MAX = 1000
LIST_STATUSES = ("open", "closed", "all")


def at_intake(ticket: Ticket, category: catalog.Category, *, actor) -> Callback | None:
    """A silent or dropped call gets its call-back task (closed at once when there is no
    number to call, or the number is a repeat prank). Part of intake's transaction."""
    if category.code not in catalog.CALLBACK_DISPOSITIONS:
        return None
    now = clock.now()
    callback = Callback(
        ticket_id=ticket.id,
        phone=ticket.caller_phone,
        created_at=now,
        due_at=now + timedelta(seconds=current_app.config["CALLCENTER_CALLBACK_DUE_S"]),
    )
    db.session.add(callback)
    db.session.flush()
    events.record(
        "callback.created",
        ticket=ticket,
        actor=actor,
        data={
            "callback_id": callback.id,
            "number": ticket.number,
            "phone": callback.phone,
            "due_at": callback.due_at.isoformat(),
            "category": ticket.category,
        },
    )
    if callback.phone is None:
        _close(callback, "no_number", ticket=ticket, actor=actor)
    elif _pranks(callback.phone, ticket) >= current_app.config["CALLCENTER_PRANK_FLAG_MIN"]:
        _close(callback, "repeat_prank", ticket=ticket, actor=actor)
    return callback


def _pranks(phone: str, ticket: Ticket) -> int:
    """Pranks from this number in the caller-history window: prank tickets (counted at
    intake) and call-backs that turned out to be pranks."""
    since = clock.now() - timedelta(days=current_app.config["CALLCENTER_CALLER_HISTORY_DAYS"])
    answered_as_prank = db.session.scalar(
        db.select(db.func.count())
        .select_from(Callback)
        .where(
            Callback.phone == phone,
            Callback.close_reason == "prank",
            Callback.closed_at >= since,
        )
    )
    return ticket.caller_pranks_30d + answered_as_prank


def _close(callback: Callback, reason: str, *, ticket, actor) -> None:
    callback.status = "closed"
    callback.close_reason = reason
    callback.closed_at = clock.now()
    callback.closed_by_id = actor if isinstance(actor, int) or actor is None else actor.id
    events.record(
        "callback.closed",
        ticket=ticket,
        actor=actor,
        data={
            "callback_id": callback.id,
            "number": ticket.number if isinstance(ticket, Ticket) else None,
            "reason": reason,
            "result_ticket_id": callback.result_ticket_id,
        },
    )


def _lock(callback_id: int) -> Callback:
    callback = db.session.scalars(
        db.select(Callback)
        .where(Callback.id == callback_id)
        .with_for_update(of=Callback)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if callback is None:
        raise NotFound(_l("No such call-back."))
    return callback


def _record(callback: Callback, outcome: str, note: str | None, *, actor, result=None) -> None:
    """One try on a locked open task, and what follows from its outcome."""
    source = db.session.get(Ticket, callback.ticket_id)
    attempt = CallbackAttempt(
        callback_id=callback.id, outcome=outcome, note=note, at=clock.now(), by_id=actor.id
    )
    db.session.add(attempt)
    callback.attempts += 1
    if outcome == "no_answer":
        callback.no_answers += 1
    if result is not None:
        callback.result_ticket_id = result.id
    db.session.flush()
    events.record(
        "callback.attempted",
        ticket=source,
        actor=actor,
        data={
            "callback_id": callback.id,
            "attempt_id": attempt.id,
            "number": source.number,
            "outcome": outcome,
            "note": note,
            "attempts": callback.attempts,
            "result_ticket_id": result.id if result is not None else None,
            "result_number": result.number if result is not None else None,
        },
    )
    limit = current_app.config["CALLCENTER_CALLBACK_MAX_NO_ANSWER"]
    if outcome != "no_answer" or callback.no_answers >= limit:
        _close(callback, outcome, ticket=source, actor=actor)


def record_attempt(callback_id: int, data: dict, *, actor: User) -> Callback:
    """Record one try ``{outcome, note?, ticket_id?}``; ``genuine`` needs the ``ticket_id``
    the call was logged as (the console logs it through intake with ``callback_id``).
    Refused: an unknown outcome (422), a closed task (409)."""
    errors = Errors()
    unknown_fields(data, {"outcome", "note", "ticket_id"}, errors)
    outcome = data.get("outcome")
    if outcome not in OUTCOMES:
        errors.add("outcome", _l("One of: %(choices)s.", choices=", ".join(OUTCOMES)))
    note = optional_text(data.get("note"), "note", errors, NOTE_MAX)
    result = None
    if outcome == "genuine":
        ref = data.get("ticket_id")
        if is_id(ref):
            result = db.session.get(Ticket, ref)
        if result is None:
            errors.add("ticket_id", _l("A genuine call is logged as a ticket: give its id."))
    elif data.get("ticket_id") is not None:
        errors.add("ticket_id", _l("Only a genuine call is linked to a ticket."))
    if errors:
        raise ValidationError(_l("The call-back was not recorded."), fields=errors)
    callback = _lock(callback_id)
    if callback.status != "open":
        raise Conflict(_l("This call-back is already closed."), code="callback_closed")
    _record(callback, outcome, note, actor=actor, result=result)
    db.session.commit()
    return callback


def link_genuine(callback_id, ticket: Ticket, *, actor) -> Callback:
    """Intake of a call-back that was genuine: the new ticket is linked and the task closes.
    Part of intake's transaction (a closed task refuses the whole intake, changing nothing)."""
    if not is_id(callback_id):
        raise ValidationError(
            _l("The call was not logged. Check the marked fields."),
            fields={"callback_id": _l("No such call-back.")},
        )
    callback = db.session.scalars(
        db.select(Callback).where(Callback.id == callback_id).with_for_update(of=Callback)
    ).one_or_none()
    if callback is None or callback.status != "open":
        raise ValidationError(
            _l("The call was not logged. Check the marked fields."),
            fields={
                "callback_id": _l("No such call-back.")
                if callback is None
                else _l("This call-back is already closed.")
            },
        )
    _record(callback, "genuine", None, actor=actor, result=ticket)
    return callback


def mark_overdue() -> int:
    """Mark open call-backs past their due time (once each, with an event): the console
    shows them in red, the audit trail says when they went late."""
    now = clock.now()
    late = list(
        db.session.scalars(
            db.select(Callback.id)
            .where(
                Callback.status == "open",
                Callback.due_at <= now,
                Callback.overdue_at.is_(None),
            )
            .order_by(Callback.due_at)
            .limit(200)
        )
    )
    db.session.rollback()
    marked = 0
    for callback_id in late:
        callback = _lock(callback_id)
        if callback.status != "open" or callback.overdue_at is not None:
            db.session.rollback()
            continue
        callback.overdue_at = now
        source = db.session.get(Ticket, callback.ticket_id)
        events.record(
            "callback.overdue",
            ticket=source,
            data={
                "callback_id": callback.id,
                "number": source.number,
                "phone": callback.phone,
                "due_at": callback.due_at.isoformat(),
            },
        )
        db.session.commit()
        marked += 1
    return marked


def listing(status: str = "open", limit: int = 200) -> list[Callback]:
    """Open tasks oldest first (the next to call on top); closed ones newest first."""
    query = db.select(Callback).limit(limit)
    if status == "open":
        query = query.where(Callback.status == "open").order_by(Callback.created_at, Callback.id)
    else:
        if status == "closed":
            query = query.where(Callback.status == "closed")
        query = query.order_by(Callback.id.desc())
    return list(db.session.scalars(query))


def get(callback_id: int) -> Callback:
    callback = db.session.get(Callback, callback_id)
    if callback is None:
        raise NotFound(_l("No such call-back."))
    return callback


def of_ticket(ticket_id: int) -> list[Callback]:
    """The call-back left by this ticket, and the one it was logged from (genuine)."""
    return list(
        db.session.scalars(
            db.select(Callback)
            .where(db.or_(Callback.ticket_id == ticket_id, Callback.result_ticket_id == ticket_id))
            .order_by(Callback.id)
        )
    )


def details(rows: list[Callback]) -> tuple[dict, dict]:
    """The tickets (id -> Ticket) and tries (callback id -> list) of these tasks, read in two
    queries for the lot."""
    return tickets_of(rows), attempts_of([c.id for c in rows])


def attempts_of(ids: list[int]) -> dict[int, list[CallbackAttempt]]:
    by: dict[int, list[CallbackAttempt]] = {i: [] for i in ids}
    if ids:
        for row in db.session.scalars(
            db.select(CallbackAttempt)
            .where(CallbackAttempt.callback_id.in_(ids))
            .order_by(CallbackAttempt.id)
        ):
            by[row.callback_id].append(row)
    return by


def tickets_of(rows: list[Callback]) -> dict[int, Ticket]:
    ids = {c.ticket_id for c in rows} | {c.result_ticket_id for c in rows if c.result_ticket_id}
    if not ids:
        return {}
    return {t.id: t for t in db.session.scalars(db.select(Ticket).where(Ticket.id.in_(ids)))}
