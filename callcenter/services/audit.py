"""The audit view: the full event history of a ticket, a unit or a user, filtered by type,
actor and time range, newest first, paged by event id (keyset: stable while new events
arrive). Read-only; for supervisors and admins, who may read every event type."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Event, Ticket, Unit, User
from .clock import WIB
from .errors import ValidationError
from .validation import Errors, parse_time

MAX_LIMIT = 500
# The events that name an account in ``data.user_id``.
ACCOUNT_EVENTS = (
    "user.created",
    "user.updated",
    "user.activated",
    "user.deactivated",
    "user.password_reset",
    "user.sessions_revoked",
    "user.unlocked",
    "user.locale_changed",
)
TYPE_RE = re.compile(r"^[a-z_]+(\.[a-z_]+)*\.?\*?$")


@dataclass
class Filters:
    ticket_id: int | None = None
    unit_id: int | None = None
    user_id: int | None = None
    types: list[str] = field(default_factory=list)
    actor_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    before: int | None = None
    limit: int = 100

    def query_args(self) -> dict:
        """The filters as query-string arguments (for links to other pages and the CSV)."""
        args = {
            "ticket": self.ticket_id,
            "unit": self.unit_id,
            "user": self.user_id,
            "type": ",".join(self.types) or None,
            "actor": self.actor_id,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }
        return {k: v for k, v in args.items() if v not in (None, "")}


def _id(value: str, name: str, errors: Errors, lookup=None):
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    if lookup is not None:
        found = lookup(value)
        if found is not None:
            return found
    errors.add(name, _l("Not found."))
    return None


def _ticket_by_number(value: str):
    return db.session.scalar(db.select(Ticket.id).where(Ticket.number == value))


def _unit_by_callsign(value: str):
    return db.session.scalar(db.select(Unit.id).where(Unit.callsign == value.upper()))


def _user_by_name(value: str):
    return db.session.scalar(db.select(User.id).where(User.username == value.lower()))


def _moment(value: str, name: str, errors: Errors, *, end: bool) -> datetime | None:
    """An ISO time with its offset, or a WIB day (``YYYY-MM-DD``: its start, or for the end
    of a range the start of the next day) or a ``datetime-local`` (WIB)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time(0), WIB)
            return moment + timedelta(days=1) if end else moment
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", value):
            return datetime.fromisoformat(value).replace(tzinfo=WIB)
    except ValueError:
        errors.add(name, _l("Not a valid date or time."))
        return None
    return parse_time(value, name, errors)


def parse(args) -> Filters:
    """Filters from query arguments ``ticket`` (id or number), ``unit`` (id or callsign),
    ``user`` (id or username), ``type`` (comma-separated; ``auth.`` or ``auth.*`` match a
    prefix), ``actor`` (id or username), ``from``/``to`` (ISO time or WIB day, ``to``
    exclusive for a time and inclusive for a day), ``before`` (an event id) and ``limit``."""
    errors = Errors()
    f = Filters()
    f.ticket_id = _id(args.get("ticket"), "ticket", errors, _ticket_by_number)
    f.unit_id = _id(args.get("unit"), "unit", errors, _unit_by_callsign)
    f.user_id = _id(args.get("user"), "user", errors, _user_by_name)
    f.actor_id = _id(args.get("actor"), "actor", errors, _user_by_name)
    for raw in (args.get("type") or "").split(","):
        raw = raw.strip().lower()
        if not raw:
            continue
        if not TYPE_RE.match(raw):
            errors.add("type", _l("An event type such as ticket.created, or a prefix: ticket."))
        else:
            f.types.append(raw)
    f.start = _moment(args.get("from"), "from", errors, end=False)
    f.end = _moment(args.get("to"), "to", errors, end=True)
    if f.start and f.end and f.end <= f.start:
        errors.add("to", _l("Must be after the start."))
    before = (args.get("before") or "").strip()
    if before:
        if before.isdigit():
            f.before = int(before)
        else:
            errors.add("before", _l("Must be a whole number."))
    limit = (args.get("limit") or "").strip()
    if limit:
        if limit.isdigit() and 1 <= int(limit) <= MAX_LIMIT:
            f.limit = int(limit)
        else:
            errors.add(
                "limit",
                _l("Must be a whole number from %(low)s to %(high)s.", low=1, high=MAX_LIMIT),
            )
    if errors:
        raise ValidationError(_l("Invalid filters."), fields=errors)
    return f


def _query(f: Filters):
    query = db.select(Event)
    if f.ticket_id is not None:
        query = query.where(Event.ticket_id == f.ticket_id)
    if f.unit_id is not None:
        query = query.where(Event.unit_id == f.unit_id)
    if f.user_id is not None:
        # What the user did, and what was done to the account (by type first, so that both
        # halves use an index).
        query = query.where(
            db.or_(
                Event.actor_id == f.user_id,
                db.and_(
                    Event.type.in_(ACCOUNT_EVENTS),
                    Event.data["user_id"].as_integer() == f.user_id,
                ),
            )
        )
    if f.types:
        clauses = []
        for t in f.types:
            if t.endswith("*") or t.endswith("."):
                clauses.append(Event.type.startswith(t.rstrip("*")))
            else:
                clauses.append(Event.type == t)
        query = query.where(db.or_(*clauses))
    if f.actor_id is not None:
        query = query.where(Event.actor_id == f.actor_id)
    if f.start is not None:
        query = query.where(Event.at >= f.start)
    if f.end is not None:
        query = query.where(Event.at < f.end)
    return query


def page(f: Filters) -> tuple[list[Event], int | None]:
    """One page, newest first, and the cursor of the next (older) page, or None."""
    query = _query(f)
    if f.before is not None:
        query = query.where(Event.id < f.before)
    rows = list(db.session.scalars(query.order_by(Event.id.desc()).limit(f.limit + 1)))
    more = len(rows) > f.limit
    rows = rows[: f.limit]
    return rows, (rows[-1].id if more and rows else None)


def iterate(f: Filters, batch: int = 1000):
    """Every matching event, newest first, read in batches (for the CSV export)."""
    before = f.before
    while True:
        query = _query(f)
        if before is not None:
            query = query.where(Event.id < before)
        rows = list(db.session.scalars(query.order_by(Event.id.desc()).limit(batch)))
        if not rows:
            return
        yield from rows
        before = rows[-1].id
        if len(rows) < batch:
            return


def names(rows: list[Event]) -> dict:
    """Ticket numbers, unit callsigns and usernames the rows refer to, by id."""
    ticket_ids = {r.ticket_id for r in rows if r.ticket_id}
    unit_ids = {r.unit_id for r in rows if r.unit_id}
    user_ids = {r.actor_id for r in rows if r.actor_id}
    out = {"tickets": {}, "units": {}, "users": {}}
    if ticket_ids:
        out["tickets"] = dict(
            db.session.execute(
                db.select(Ticket.id, Ticket.number).where(Ticket.id.in_(ticket_ids))
            ).all()
        )
    if unit_ids:
        out["units"] = dict(
            db.session.execute(db.select(Unit.id, Unit.callsign).where(Unit.id.in_(unit_ids))).all()
        )
    if user_ids:
        out["users"] = dict(
            db.session.execute(db.select(User.id, User.username).where(User.id.in_(user_ids))).all()
        )
    return out


def subject(f: Filters) -> dict | None:
    """What the history is of: ``{kind, id, label}`` for a ticket, a unit or a user."""
    if f.ticket_id is not None:
        ticket = db.session.get(Ticket, f.ticket_id)
        return {"kind": "ticket", "id": f.ticket_id, "label": ticket.number if ticket else "?"}
    if f.unit_id is not None:
        unit = db.session.get(Unit, f.unit_id)
        return {"kind": "unit", "id": f.unit_id, "label": unit.callsign if unit else "?"}
    if f.user_id is not None:
        user = db.session.get(User, f.user_id)
        return {"kind": "user", "id": f.user_id, "label": user.username if user else "?"}
    return None
