"""Call intake: validate a call, number it, flag it, store it and hand it to routing."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Call, IdempotencyKey, Sector, Ticket, TicketCounter, User
from ..models.ticket import CHANNELS, MAX_UNITS, OPEN_STATUSES
from . import (
    callbacks,
    catalog,
    catalog_settings,
    clock,
    events,
    geo,
    handoffs,
    phones,
    queue,
    sql,
    state,
)
from .errors import ValidationError
from .validation import (
    Errors,
    coordinates,
    integer,
    optional_text,
    parse_time,
    require_object,
    unknown_fields,
)

TICKET_FIELDS = {
    "channel",
    "caller",
    "category",
    "priority",
    "summary",
    "location",
    "units_needed",
    "callback_id",  # a genuine call-back, logged as this ticket (services/callbacks.py)
    "received_at",
    "answered_at",
}
CALLER_FIELDS = {"name", "phone"}
LOCATION_FIELDS = {"lat", "lon", "address"}
log = logging.getLogger(__name__)


def validate(data) -> dict:
    """The cleaned ticket fields, or ``ValidationError`` naming every field that is wrong.

    Unknown fields are refused; the location is required for calls that dispatch a unit,
    and must lie in Indonesia; the phone number is normalised to E.164; ``units_needed``
    (1..10) defaults to the category's. The officer-in-danger category is refused: only a
    unit's emergency button makes one.
    """
    cfg = current_app.config
    errors = Errors()
    if not isinstance(data, dict):
        raise ValidationError(_l("The request body must be a JSON object."))
    unknown_fields(data, TICKET_FIELDS, errors)

    channel = data.get("channel")
    if channel not in CHANNELS:
        errors.add("channel", _l("One of: %(choices)s.", choices=", ".join(CHANNELS)))

    code = data.get("category")
    category = catalog_settings.get(code) if isinstance(code, str) else None  # local defaults
    if category is None:
        errors.add("category", _l("Choose a category from the catalog."))
    elif not category.intake:
        errors.add("category", _l("Only a unit's emergency button raises this category."))

    priority = None
    if data.get("priority") is not None:
        priority = integer(data["priority"], "priority", errors, 1, 4)
    elif category is not None:
        priority = category.default_priority

    units_needed = None
    if data.get("units_needed") is not None:
        units_needed = integer(data["units_needed"], "units_needed", errors, 1, MAX_UNITS)
    elif category is not None:
        units_needed = category.default_units

    summary = optional_text(data.get("summary"), "summary", errors, cfg["CALLCENTER_SUMMARY_MAX"])

    caller = require_object(data.get("caller"), "caller", errors) or {}
    unknown_fields(caller, CALLER_FIELDS, errors, "caller.")
    caller_name = optional_text(caller.get("name"), "caller.name", errors, 120)
    phone = None
    raw_phone = optional_text(caller.get("phone"), "caller.phone", errors, 40)
    if raw_phone:
        phone = phones.normalise(raw_phone)
        if phone is None:
            errors.add("caller.phone", _l("Not a valid phone number."))

    location = require_object(data.get("location"), "location", errors)
    lat = lon = address = None
    if location is not None:
        unknown_fields(location, LOCATION_FIELDS, errors, "location.")
        point = coordinates(location.get("lat"), location.get("lon"), errors, "location.")
        if point:
            lat, lon = point
        address = optional_text(
            location.get("address"), "location.address", errors, cfg["CALLCENTER_ADDRESS_MAX"]
        )
    elif category is not None and category.dispatch and "location" not in errors:
        errors.add("location", _l("Required: a unit cannot be sent without a location."))

    received_at, answered_at = call_times(data, errors)

    if errors:
        raise ValidationError(
            _l("The call was not logged. Check the marked fields."), fields=errors
        )
    return {
        "received_at": received_at,
        "answered_at": answered_at,
        "channel": channel,
        "category": category,
        "priority": priority,
        "units_needed": units_needed,
        "summary": summary or "",
        "caller_name": caller_name,
        "caller_phone": phone,
        "lat": lat,
        "lon": lon,
        "address": address,
    }


def call_times(data: dict, errors: Errors) -> tuple:
    """The optional ``received_at`` (the call rang) and ``answered_at`` (it was picked up).

    Each is an ISO 8601 time with its offset, no later than now (a clock up to
    ``CALLCENTER_CLOCK_SKEW_S`` ahead is taken as now) and no earlier than
    ``CALLCENTER_CALL_MAX_AGE_S`` ago; a call is answered after it rang.
    """
    cfg = current_app.config
    now = clock.now()
    skew = timedelta(seconds=cfg["CALLCENTER_CLOCK_SKEW_S"])
    oldest = now - timedelta(seconds=cfg["CALLCENTER_CALL_MAX_AGE_S"])
    times = {}
    for name in ("received_at", "answered_at"):
        moment = parse_time(data.get(name), name, errors)
        if moment is None:
            continue
        if moment > now + skew:
            errors.add(name, _l("This time is in the future."))
        elif moment < oldest:
            errors.add(
                name,
                _l("At most %(h)s hours ago.", h=cfg["CALLCENTER_CALL_MAX_AGE_S"] // 3600),
            )
        else:
            times[name] = min(moment, now)
    received, answered = times.get("received_at"), times.get("answered_at")
    if received and answered and answered < received:
        errors.add("answered_at", _l("A call is answered after it rang (received_at)."))
    return received, answered


def nearest_sector_id(lat: float | None, lon: float | None) -> int | None:
    """The Polsek whose station is nearest to the point (None without a point or a station)."""
    if lat is None or lon is None:
        return None
    stations = db.session.execute(
        db.select(Sector.id, Sector.lat, Sector.lon).where(
            Sector.lat.is_not(None), Sector.lon.is_not(None)
        )
    ).all()
    if not stations:
        return None
    return min(stations, key=lambda s: (geo.haversine_m(lat, lon, s.lat, s.lon), s.id)).id


def _request_hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def next_number(now) -> str:
    """The next ticket number of the WIB day, e.g. ``110-20241114-00042``.

    The counter row's update lock serialises concurrent intake for the rest of the
    transaction, so numbers are unique and, since a rollback returns them, gap-free.
    """
    day = clock.wib_day(now)
    sql.insert_ignore(TicketCounter, {"day": day, "last": 0})
    seq = db.session.execute(
        db.update(TicketCounter)
        .where(TicketCounter.day == day)
        .values(last=TicketCounter.last + 1)
        .returning(TicketCounter.last)
    ).scalar_one()
    return f"110-{day}-{seq:05d}"


def caller_history(
    phone_e164: str | None, *, exclude_id: int | None = None, limit: int = 10
) -> dict:
    """Calls from this number in the last ``CALLCENTER_CALLER_HISTORY_DAYS`` days: each
    call counts (ten calls about one crash are ten calls), ``recent`` lists their tickets,
    newest call first. ``exclude_id``: leave that ticket's calls out."""
    if not phone_e164:
        return {"phone": None, "calls": 0, "pranks": 0, "recent": []}
    days = current_app.config["CALLCENTER_CALLER_HISTORY_DAYS"]
    since = clock.now() - timedelta(days=days)
    query = (
        db.select(Call.ticket_id, Ticket)
        .join(Ticket, Ticket.id == Call.ticket_id)
        .where(Call.caller_phone == phone_e164, Call.received_at >= since)
    )
    if exclude_id is not None:
        query = query.where(Call.ticket_id != exclude_id)
    rows = db.session.execute(query.order_by(Call.received_at.desc(), Call.id.desc())).all()
    recent: dict[int, Ticket] = {}
    for ticket_id, ticket in rows:
        recent.setdefault(ticket_id, ticket)
    return {
        "phone": phone_e164,
        "days": days,
        "calls": len(rows),
        "pranks": sum(1 for _, t in rows if t.category == "prank"),
        "recent": list(recent.values())[:limit],
    }


def caller_lookup(raw: str) -> dict:
    """``caller_history`` of a number as typed at intake (any Indonesian form), or
    ``ValidationError`` on ``phone`` when it is not a phone number."""
    e164 = phones.normalise(raw)
    if e164 is None:
        raise ValidationError(
            _l("Not a valid phone number."), fields={"phone": _l("Not a valid phone number.")}
        )
    return caller_history(e164)


def find_duplicate(category: str, lat: float, lon: float, now) -> Ticket | None:
    """The nearest open ticket of the same category within the duplicate radius and window."""
    cfg = current_app.config
    radius = cfg["CALLCENTER_DUPLICATE_RADIUS_M"]
    min_lat, max_lat, min_lon, max_lon = geo.bounding_box(lat, lon, radius)
    candidates = db.session.scalars(
        db.select(Ticket).where(
            Ticket.category == category,
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.created_at >= now - timedelta(seconds=cfg["CALLCENTER_DUPLICATE_WINDOW_S"]),
            Ticket.lat.between(min_lat, max_lat),
            Ticket.lon.between(min_lon, max_lon),
        )
    )
    best = None
    for ticket in candidates:
        distance = geo.haversine_m(lat, lon, ticket.lat, ticket.lon)
        if distance <= radius and (best is None or distance < best[0]):
            best = (distance, ticket)
    return best[1] if best else None


def create_ticket(data, *, actor: User, idempotency_key: str | None = None) -> tuple[Ticket, bool]:
    """Log a call; returns ``(ticket, created)``.

    With an ``idempotency_key``, a repeat of the same request by the same user returns the
    first ticket (``created`` False) and a different request under that key is refused;
    two concurrent repeats still make one ticket (the key's unique index decides).
    A non-dispatch disposition is closed at once and never routed; any other ticket is
    handed to routing after the commit.
    """
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not 1 <= len(idempotency_key) <= 200:
            raise ValidationError(
                _l("The Idempotency-Key must be 1 to 200 characters."),
                fields={"Idempotency-Key": _l("1 to 200 characters.")},
            )
        request_hash = _request_hash(data)
        existing = _replay(actor, idempotency_key, request_hash)
        if existing is not None:
            return existing, False

    clean = validate(data)
    category: catalog.Category = clean.pop("category")
    ticket = open_ticket(clean, category, actor=actor)
    if idempotency_key is not None:
        existing = claim_key(actor, idempotency_key, request_hash, ticket)
        if existing is not None:
            return existing, False
    announce(ticket, category, actor=actor, callback_id=data.get("callback_id"))
    db.session.commit()
    log.info(
        "ticket %s created (%s)",
        ticket.id,
        ticket.number,
        extra={"ticket_id": ticket.id, "category": ticket.category},
    )
    return ticket, True


def open_ticket(
    clean: dict, category: catalog.Category, *, actor: User, opening_call: dict | None = None
) -> Ticket:
    """Add a ticket from checked fields (``validate``'s, less ``category``): numbered,
    flagged (repeat caller, possible duplicate), placed in its sector, with its opening
    call (``opening_call`` overrides that call's fields: a call another center took).
    Flushed, not committed: the caller goes on with ``announce`` in the same transaction."""
    now = clock.now()
    history = caller_history(clean["caller_phone"])
    # Read before the number is taken: its counter row's lock serialises intake until the
    # commit, so the less done while holding it, the more calls a second get through.
    duplicate = (
        find_duplicate(category.code, clean["lat"], clean["lon"], now)
        if category.dispatch and clean["lat"] is not None
        else None
    )
    sector_id = nearest_sector_id(clean["lat"], clean["lon"])
    ticket = Ticket(
        number=next_number(now),
        category=category.code,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        caller_calls_30d=history["calls"],
        caller_pranks_30d=history["pranks"],
        sector_id=sector_id,
        **clean,
    )
    if category.dispatch:
        ticket.duplicate_of = duplicate
        if not category.handoff_only:
            ticket.waiting_since = now
    else:
        ticket.resolution = category.code
    db.session.add(ticket)
    db.session.flush()
    call = Call.opening(ticket, actor.id)
    for name, value in (opening_call or {}).items():
        setattr(call, name, value)
    db.session.add(call)
    return ticket


def announce(
    ticket: Ticket,
    category: catalog.Category,
    *,
    actor: User,
    callback_id=None,
    origin: dict | None = None,
) -> None:
    """The rest of a new ticket's intake, in its transaction (no commit): ``ticket.created``
    (with ``origin``'s fields), the hand-off of its category, and then routing after the
    commit, or, for a non-dispatch disposition, closing it at once."""
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
            "duplicate_of": ticket.duplicate_of_id,
            **(origin or {}),
        },
    )
    if callback_id is not None:
        callbacks.link_genuine(callback_id, ticket, actor=actor)
    handoffs.at_intake(ticket, category, actor=actor)
    if category.dispatch and not category.handoff_only:
        queue.route_ticket_after_commit(ticket.id)
    elif not category.dispatch:
        state.finish_ticket(
            ticket,
            "closed",
            actor=actor,
            data={"resolution": ticket.resolution, "disposition": True},
        )
        callbacks.at_intake(ticket, category, actor=actor)


def _replay(actor: User, key: str, request_hash: str) -> Ticket | None:
    row = db.session.scalars(
        db.select(IdempotencyKey).where(
            IdempotencyKey.user_id == actor.id, IdempotencyKey.key == key
        )
    ).one_or_none()
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise ValidationError(
            _l("This Idempotency-Key was already used for a different request."),
            fields={"Idempotency-Key": _l("Already used for a different request.")},
            code="idempotency_key_reused",
        )
    return db.session.get(Ticket, row.ticket_id)


# Intake's other path, a call attached to a ticket (services/calls.py), keys requests alike.
request_digest = _request_hash
replay = _replay


def claim_key(actor: User, key: str, request_hash: str, ticket: Ticket) -> Ticket | None:
    """Record ``key`` as this request's, for ``ticket``. None when it is ours; when a
    concurrent request with the same key won the race, this transaction is rolled back
    and its ticket returned."""
    db.session.add(
        IdempotencyKey(user_id=actor.id, key=key, request_hash=request_hash, ticket_id=ticket.id)
    )
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        existing = _replay(actor, key, request_hash)
        if existing is None:
            raise
        return existing
    return None
