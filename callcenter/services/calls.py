"""Calls about an incident: attach a call to its ticket, move one there, split one off.

Ten people calling about one crash make one ticket with ten calls, and one dispatch. A call
is attached at intake (``attach_to``) or afterwards; a call attached by mistake is split off
into a ticket of its own, which is routed like any new ticket. Each function is one unit of
work (number, lock the tickets in id order, check, change, audit, commit).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Call, Ticket, User
from ..models.ticket import CHANNELS, MAX_UNITS
from . import catalog, clock, events, incidents, intake, phones, queue, state
from .errors import Conflict, NotFound, ValidationError
from .validation import (
    Errors,
    coordinates,
    integer,
    is_id,
    optional_text,
    parse_time,
    require_object,
    unknown_fields,
)

CALL_FIELDS = {"channel", "caller", "text", "received_at"}
# A call's time may run ahead of the server's clock by this much (a client's clock).
CLOCK_SKEW = timedelta(seconds=60)
SPLIT_FIELDS = {"category", "priority", "summary", "location", "units_needed"}


def calls_of(ticket_id: int) -> list[Call]:
    """A ticket's calls, the one that opened it first."""
    return list(
        db.session.scalars(db.select(Call).where(Call.ticket_id == ticket_id).order_by(Call.id))
    )


def possible_duplicate(args) -> Ticket | None:
    """The open ticket a call being typed may be about (same category, near, recent),
    asked by the intake form before the call is logged: ``?category=&lat=&lon=``."""
    errors = Errors()
    category = catalog.get(args.get("category") or "")
    if category is None:
        errors.add("category", _l("Choose a category from the catalog."))
    point = None
    try:
        lat, lon = float(args.get("lat", "")), float(args.get("lon", ""))
    except ValueError:
        errors.add("lat", _l("Must be a number from -%(n)s to %(n)s.", n=90))
    else:
        point = coordinates(lat, lon, errors)
    if errors:
        raise ValidationError(_l("Invalid query parameters."), fields=errors)
    if not category.dispatch:
        return None
    return intake.find_duplicate(category.code, point[0], point[1], clock.now())


def _opening_id(ticket_id: int) -> int | None:
    return db.session.scalar(db.select(db.func.min(Call.id)).where(Call.ticket_id == ticket_id))


def _call_fields(data: dict, errors: Errors, text_field: str = "text") -> dict:
    """The call's own fields (channel, caller, what was said in ``text_field``, when it was
    received), checked like intake's."""
    channel = data.get("channel")
    if channel not in CHANNELS:
        errors.add("channel", _l("One of: %(choices)s.", choices=", ".join(CHANNELS)))
    said = optional_text(
        data.get(text_field), text_field, errors, current_app.config["CALLCENTER_SUMMARY_MAX"]
    )
    received_at = parse_time(data.get("received_at"), "received_at", errors)
    if received_at is not None and received_at > clock.now() + CLOCK_SKEW:
        errors.add("received_at", _l("This time is in the future."))
    caller = require_object(data.get("caller"), "caller", errors) or {}
    unknown_fields(caller, intake.CALLER_FIELDS, errors, "caller.")
    name = optional_text(caller.get("name"), "caller.name", errors, 120)
    phone = None
    raw = optional_text(caller.get("phone"), "caller.phone", errors, 40)
    if raw:
        phone = phones.normalise(raw)
        if phone is None:
            errors.add("caller.phone", _l("Not a valid phone number."))
    return {
        "channel": channel,
        "caller_name": name,
        "caller_phone": phone,
        "text": said or "",
        "received_at": received_at or clock.now(),
    }


def _attachable(ticket: Ticket | None) -> Ticket:
    """The target of an attach: an open ticket, or one closed within the last 24 hours."""
    if ticket is None:
        raise NotFound(_l("No such ticket."))
    if not ticket.is_open:
        limit_s = current_app.config["CALLCENTER_ATTACH_CLOSED_S"]
        ended = ticket.closed_at or ticket.status_changed_at
        if ended < clock.now() - timedelta(seconds=limit_s):
            raise Conflict(
                _l(
                    "Ticket %(number)s was closed more than %(hours)s hours ago: log the call "
                    "as a new ticket.",
                    number=ticket.number,
                    hours=limit_s // 3600,
                ),
                code="ticket_closed_too_long",
            )
    return ticket


def _call_json(call: Call) -> dict:
    return {
        "call_id": call.id,
        "channel": call.channel,
        "caller_name": call.caller_name,
        "caller_phone": call.caller_phone,
        "text": call.text,
    }


def _record_attached(ticket: Ticket, call: Call, *, actor: User, **extra) -> None:
    events.record(
        "ticket.call_attached",
        ticket=ticket,
        actor=actor,
        data={"number": ticket.number, **_call_json(call), **extra},
    )


def attach_new(ticket_id: int, data, *, actor: User) -> tuple[Ticket, Call]:
    """A new call about ``ticket_id``'s incident: stored on it, and nothing is dispatched."""
    if not isinstance(data, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    errors = Errors()
    unknown_fields(data, CALL_FIELDS, errors)
    fields = _call_fields(data, errors)
    if errors:
        raise ValidationError(
            _l("The call was not logged. Check the marked fields."), fields=errors
        )
    ticket = _attachable(state.lock_ticket(ticket_id))
    call = _add(ticket, fields, actor)
    db.session.commit()
    return ticket, call


def _add(ticket: Ticket, fields: dict, actor: User) -> Call:
    call = Call(ticket_id=ticket.id, taken_by_id=actor.id, **fields)
    db.session.add(call)
    db.session.flush()
    _record_attached(ticket, call, actor=actor)
    return call


def attach_at_intake(
    data, *, actor: User, idempotency_key: str | None = None
) -> tuple[Ticket, Call | None, bool]:
    """Intake with ``attach_to``: the intake form's call, stored on that ticket (its other
    fields, such as category and location, are the ticket's already and are not used).
    Returns ``(ticket, call, created)``; a repeat under the same ``Idempotency-Key``
    returns the ticket and adds nothing (``call`` None, ``created`` False)."""
    errors = Errors()
    unknown_fields(data, intake.TICKET_FIELDS | {"attach_to", "received_at"}, errors)
    target = data.get("attach_to")
    if not is_id(target):
        errors.add("attach_to", _l("The id of the ticket this call is about."))
    fields = _call_fields(data, errors, "summary")  # the intake form names it so
    if errors:
        raise ValidationError(
            _l("The call was not logged. Check the marked fields."), fields=errors
        )
    request_hash = None
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not 1 <= len(idempotency_key) <= 200:
            raise ValidationError(
                _l("The Idempotency-Key must be 1 to 200 characters."),
                fields={"Idempotency-Key": _l("1 to 200 characters.")},
            )
        request_hash = intake.request_digest(data)
        existing = intake.replay(actor, idempotency_key, request_hash)
        if existing is not None:
            return existing, None, False
    ticket = _attachable(state.lock_ticket(target))
    call = _add(ticket, fields, actor)
    if idempotency_key is not None:
        # The same request, sent twice at once: the first one counts.
        existing = intake.claim_key(actor, idempotency_key, request_hash, ticket)
        if existing is not None:
            return existing, None, False
    db.session.commit()
    return ticket, call, True


def _lock_call(call_id) -> Call:
    if not is_id(call_id):
        raise ValidationError(
            _l("The call was not moved."), fields={"call_id": _l("The id of a call.")}
        )
    call = db.session.get(Call, call_id)
    if call is None:
        raise NotFound(_l("No such call."))
    return call


def move(ticket_id: int, data, *, actor: User) -> tuple[Ticket, Call]:
    """Attach an existing call (``{call_id}``) of another ticket to this one.

    A call that was the only one of its ticket takes that ticket with it: the ticket, a
    duplicate logged before anyone saw the first, is cancelled as merged and its units are
    freed. The call that opened a ticket with other calls stays with it (split those off
    first); a call already on this ticket is refused."""
    if not isinstance(data, dict) or set(data) - {"call_id"}:
        raise ValidationError(
            _l("Send the call's id, or the new call."),
            fields={k: _l("Unknown field.") for k in (data if isinstance(data, dict) else {})},
        )
    call = _lock_call(data.get("call_id"))
    if call.ticket_id == ticket_id:
        raise ValidationError(
            _l("This call is already on this ticket: a call cannot be attached to itself."),
            fields={"call_id": _l("Already on this ticket.")},
            code="attach_to_itself",
        )
    source_id = call.ticket_id
    locked = {t: state.lock_ticket(t) for t in sorted((ticket_id, source_id))}
    target = _attachable(locked[ticket_id])
    source = locked[source_id]
    call = db.session.scalars(
        db.select(Call)
        .where(Call.id == call.id)
        .with_for_update(of=Call)
        .execution_options(populate_existing=True)
    ).one()
    if call.ticket_id != source_id:
        raise Conflict(_l("This call was moved meanwhile. Look again."), code="call_moved")
    others = db.session.scalar(
        db.select(db.func.count()).where(Call.ticket_id == source_id, Call.id != call.id)
    )
    merged = False
    if others == 0:
        if not source.is_open:
            raise Conflict(
                _l(
                    "This is the only call of ticket %(number)s, which is closed: it stays there.",
                    number=source.number,
                ),
                code="only_call_of_closed_ticket",
            )
        merged = True
    elif call.id == _opening_id(source_id):
        raise Conflict(
            _l(
                "This call opened ticket %(number)s: it stays with it. Move its other calls "
                "instead.",
                number=source.number,
            ),
            code="opening_call",
        )
    call.ticket_id = target.id
    db.session.flush()
    if merged:
        units = incidents.end_all(source, reason="ticket_cancelled", actor=actor)
        source.cancel_reason = str(_l("Merged into %(number)s.", number=target.number))[:300]
        unit, body = incidents.finish_data(
            units, {"reason": source.cancel_reason, "merged_into": target.number}
        )
        state.finish_ticket(source, "cancelled", actor=actor, unit=unit, data=body)
    events.record(
        "ticket.call_detached",
        ticket=source,
        actor=actor,
        data={"number": source.number, "to": target.number, "to_id": target.id, **_call_json(call)},
    )
    _record_attached(target, call, actor=actor, moved_from=source.number, merged=merged)
    db.session.commit()
    return target, call


def _split_fields(data, source: Ticket) -> dict:
    """The new ticket's fields: those given, else the ticket the call is leaving."""
    if not isinstance(data, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    errors = Errors()
    unknown_fields(data, SPLIT_FIELDS, errors)
    category = incidents.dispatch_category(data.get("category", source.category), errors)
    out: dict = {}
    if "priority" in data:
        out["priority"] = integer(data["priority"], "priority", errors, 1, 4)
    elif category is not None:
        out["priority"] = category.default_priority
    if "units_needed" in data:
        out["units_needed"] = integer(data["units_needed"], "units_needed", errors, 1, MAX_UNITS)
    elif category is not None:
        out["units_needed"] = category.default_units
    if "summary" in data:
        out["summary"] = optional_text(
            data["summary"], "summary", errors, current_app.config["CALLCENTER_SUMMARY_MAX"]
        )
    lat, lon, address = source.lat, source.lon, source.address
    location = require_object(data.get("location"), "location", errors)
    if location is not None:
        unknown_fields(location, intake.LOCATION_FIELDS, errors, "location.")
        point = coordinates(location.get("lat"), location.get("lon"), errors, "location.")
        lat, lon = point if point else (None, None)
        address = optional_text(location.get("address"), "location.address", errors, 300)
    if lat is None and "location.lat" not in errors:
        errors.add("location", _l("Required: a unit cannot be sent without a location."))
    if errors:
        raise ValidationError(
            _l("The call was not split off. Check the marked fields."), fields=errors
        )
    return {"category": category.code, "lat": lat, "lon": lon, "address": address, **out}


def split(call_id: int, data, *, actor: User) -> tuple[Ticket, Ticket]:
    """Split a call attached by mistake off into a new ticket of its own, routed as usual.
    The call that opened its ticket stays. Returns ``(old ticket, new ticket)``."""
    call = db.session.get(Call, call_id)
    if call is None:
        raise NotFound(_l("No such call."))
    ticket_id = call.ticket_id
    source = db.session.get(Ticket, ticket_id)
    fields = _split_fields(data, source)
    now = clock.now()
    number = intake.next_number(now)  # the counter first, then the ticket: as intake does
    source = state.lock_ticket(ticket_id)
    call = db.session.scalars(
        db.select(Call)
        .where(Call.id == call_id)
        .with_for_update(of=Call)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if call is None or call.ticket_id != ticket_id:
        raise Conflict(_l("This call was moved meanwhile. Look again."), code="call_moved")
    if call.id == _opening_id(ticket_id):
        raise Conflict(_l("This call opened the ticket: it stays with it."), code="opening_call")
    history = intake.caller_history(call.caller_phone, exclude_id=ticket_id)
    summary = fields.pop("summary", None) or call.text
    ticket = Ticket(
        number=number,
        channel=call.channel,
        caller_name=call.caller_name,
        caller_phone=call.caller_phone,
        summary=summary,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        waiting_since=now,
        caller_calls_30d=history["calls"],
        caller_pranks_30d=history["pranks"],
        **fields,
    )
    db.session.add(ticket)
    db.session.flush()
    call.ticket_id = ticket.id
    events.record(
        "ticket.created",
        ticket=ticket,
        actor=actor,
        data={
            "number": ticket.number,
            "category": ticket.category,
            "priority": ticket.priority,
            "channel": ticket.channel,
            "units_needed": ticket.units_needed,
            "duplicate_of": None,
            "split_from": source.number,
            "call_id": call.id,
        },
    )
    events.record(
        "ticket.call_split",
        ticket=source,
        actor=actor,
        data={"number": source.number, "to": ticket.number, "to_id": ticket.id, **_call_json(call)},
    )
    queue.route_ticket_after_commit(ticket.id)
    db.session.commit()
    return source, ticket
