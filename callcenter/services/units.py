"""Patrol units: the lists of them, and the positions their devices report (their
administration is in ``fleet``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Assignment, Emergency, Sector, Ticket, Unit, UnitPosition, User
from ..ops import metrics
from . import bus, clock, emergency, locator, queue, sql
from .errors import NotFound, ValidationError
from .validation import (
    Errors,
    coordinates,
    is_number,
    parse_time,
    unknown_fields,
)

# A device clock may run a little ahead; further ahead is a broken clock.
MAX_CLOCK_SKEW = timedelta(seconds=60)


def list_units() -> list[Unit]:
    """The units in service (retired ones are left out), by callsign."""
    return list(
        db.session.scalars(db.select(Unit).where(Unit.retired_at.is_(None)).order_by(Unit.callsign))
    )


def list_sectors() -> list[Sector]:
    return list(db.session.scalars(db.select(Sector).order_by(Sector.name)))


def get(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_l("No such unit."))
    return unit


@dataclass(frozen=True)
class Board:
    """A unit with the ticket it is on (an open offer or an accepted assignment) and its
    open emergency, as the dispatch board and the unit's own device show it."""

    unit: Unit
    job: Assignment | None = None
    alarm: Emergency | None = None


def with_jobs(rows: list[Unit]) -> list[Board]:
    """Each unit with its job and emergency (for one unit, only its own are read: its
    device asks on every event)."""
    jobs = db.select(Assignment).where(Assignment.status.in_(("offered", "accepted")))
    danger = db.select(Emergency).where(Emergency.ended_at.is_(None))
    if len(rows) == 1:
        jobs = jobs.where(Assignment.unit_id == rows[0].id)
        danger = danger.where(Emergency.unit_id == rows[0].id)
    by_unit = {a.unit_id: a for a in db.session.scalars(jobs)}
    alarms = {e.unit_id: e for e in db.session.scalars(danger)}
    return [Board(u, by_unit.get(u.id), alarms.get(u.id)) for u in rows]


def board_of(unit: Unit) -> Board:
    return with_jobs([unit])[0]


def recent_jobs(unit: Unit, limit: int = 20) -> list[Assignment]:
    """The unit's latest assignments, newest first (offers it declined or let expire too)."""
    return list(
        db.session.scalars(
            db.select(Assignment)
            .where(Assignment.unit_id == unit.id)
            .order_by(Assignment.id.desc())
            .limit(limit)
        )
    )


def unit_of(user: User) -> Unit:
    """The unit a ``unit`` user belongs to."""
    if user.unit_id is None:
        raise NotFound(_l("Your account is not bound to a unit."))
    return get(user.unit_id)


def report_position(unit: Unit, data: dict) -> dict:
    """Store a position report and move the unit, unless a newer report is already applied.

    Every report is kept in the breadcrumb history; a repeat of one already stored (same
    ``recorded_at``) changes nothing. While the unit has an open emergency, the report also
    moves the emergency's ticket. Returns ``{applied, duplicate, recorded_at}``.
    """
    errors = Errors()
    unknown_fields(
        data, {"lat", "lon", "accuracy_m", "recorded_at", "speed_kmh", "heading"}, errors
    )
    point = coordinates(data.get("lat"), data.get("lon"), errors)
    accuracy = data.get("accuracy_m")
    if accuracy is not None and (not is_number(accuracy) or not 0 <= accuracy <= 100_000):
        errors.add("accuracy_m", _l("Must be a number from 0 to 100000."))
    now = clock.now()
    recorded_at = parse_time(data.get("recorded_at"), "recorded_at", errors)
    if recorded_at is not None and recorded_at > now + MAX_CLOCK_SKEW:
        errors.add("recorded_at", _l("This time is in the future. Check the device clock."))
    if errors:
        metrics.POSITION_REPORTS.labels("refused").inc()
        raise ValidationError(_l("The position was not saved."), fields=errors)
    recorded_at = recorded_at or now
    lat, lon = point

    emergency.follow_position(unit.id, lat, lon, recorded_at)  # locks its ticket first
    # Two statements: move the unit if this report is newer (returning its status), then
    # keep the report; a report already stored (same recorded_at) inserts nothing and is
    # answered as a duplicate, changing nothing. Hundreds of units report every few seconds.
    status = db.session.execute(
        db.update(Unit)
        .where(
            Unit.id == unit.id,
            db.or_(Unit.position_at.is_(None), Unit.position_at < recorded_at),
        )
        .values(
            lat=lat,
            lon=lon,
            accuracy_m=accuracy,
            position_at=recorded_at,
            position_updated_at=now,
        )
        .returning(Unit.status)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    moved = status is not None
    stored = sql.insert_ignore_returning(
        UnitPosition,
        {
            "unit_id": unit.id,
            "lat": lat,
            "lon": lon,
            "accuracy_m": accuracy,
            "recorded_at": recorded_at,
            "received_at": now,
            "applied": moved,
        },
        UnitPosition.id,
    )
    if stored is None:
        db.session.rollback()
        metrics.POSITION_REPORTS.labels("duplicate").inc()
        return {"applied": False, "duplicate": True, "recorded_at": recorded_at}
    if moved:
        locator.unit_changed(unit.id, status, lat, lon)
        if status == "available" and _tickets_waiting():
            _route_queued_soon()
    db.session.commit()
    metrics.POSITION_REPORTS.labels("applied" if moved else "older").inc()
    return {"applied": moved, "duplicate": False, "recorded_at": recorded_at}


# Whether tickets wait in the queue, as last seen by this process: (monotonic time, answer).
_waiting_seen: tuple[float, bool] = (-1e9, False)
WAITING_TTL_S = 0.5


def _tickets_waiting() -> bool:
    """Whether a ticket has a slot routing could not fill yet, asked at most every
    ``WAITING_TTL_S`` per process (a unit that became free is routed by the sweep anyway;
    this only makes it sooner)."""
    global _waiting_seen
    seen_at, answer = _waiting_seen
    if time.monotonic() - seen_at < WAITING_TTL_S:
        return answer
    answer = db.session.scalar(
        db.select(db.exists().where(Ticket.waiting_since.is_not(None), Ticket.status != "new"))
    )
    _waiting_seen = (time.monotonic(), answer)
    return answer


def _route_queued_soon() -> None:
    """Routing of queued tickets after a position report, at most once a second with Redis
    (hundreds of units report every few seconds)."""
    conn = bus.client()
    if conn is not None:
        try:
            if not conn.set(bus.key("route_queued", "pending"), "1", nx=True, px=1000):
                return
        except redis.RedisError:
            pass  # cannot coalesce: send anyway
    queue.route_queued_after_commit()


def positions_since(moment: datetime | None) -> list[Unit]:
    """Units whose position the server applied after ``moment`` (all with one, if None)."""
    query = db.select(Unit).where(Unit.lat.is_not(None))
    if moment is not None:
        query = query.where(Unit.position_updated_at > moment)
    return list(db.session.scalars(query))


def breadcrumbs(unit_id: int, limit: int = 200) -> list[UnitPosition]:
    return list(
        db.session.scalars(
            db.select(UnitPosition)
            .where(UnitPosition.unit_id == unit_id)
            .order_by(UnitPosition.recorded_at.desc())
            .limit(limit)
        )
    )


def position_max_age_s() -> int:
    return current_app.config["CALLCENTER_POSITION_MAX_AGE_S"]
