"""JSON shapes of units: the dispatch board's unit with its job and alarm, a unit's own
device (its job, its jobs, its tickets) and the positions that screens follow."""

from __future__ import annotations

from datetime import datetime

from ..models import Assignment, Emergency, Sector, Unit
from ..services import catalog, clock, units
from . import serialize, serialize_calls


def sector(s: Sector | None) -> dict | None:
    """A Polsek sector."""
    if s is None:
        return None
    return {
        "id": s.id,
        "code": s.code,
        "name": s.name,
        "lat": s.lat,
        "lon": s.lon,
        "phone": s.phone,
    }


def job(a: Assignment | None) -> dict | None:
    """The ticket a unit is on (an open offer or an accepted assignment), in brief."""
    if a is None:
        return None
    return {
        "id": a.ticket_id,
        "number": a.ticket.number,
        "priority": a.ticket.priority,
        "status": a.ticket.status,
        "assignment_id": a.id,
        "assignment_status": a.status,
    }


def alarm(e: Emergency | None) -> dict | None:
    """A unit's open emergency, in brief."""
    if e is None:
        return None
    return {
        "ticket_id": e.ticket_id,
        "raised_at": e.raised_at,
        "acknowledged_at": e.acknowledged_at,
        "alarm_active": e.alarm_active,
    }


def record(u: Unit, now: datetime | None = None) -> dict:
    """A unit's own record: what it is, its status and its last position."""
    now = now or clock.now()
    return {
        "id": u.id,
        "callsign": u.callsign,
        "name": u.name,
        "kind": u.kind,
        "sector": sector(u.sector),
        "status": u.status,
        "status_reason": u.status_reason,
        "status_changed_at": u.status_changed_at,
        "location": (
            {"lat": u.lat, "lon": u.lon, "accuracy_m": u.accuracy_m} if u.lat is not None else None
        ),
        "position_at": u.position_at,
        "position_age_s": (
            round((now - u.position_at).total_seconds(), 1) if u.position_at else None
        ),
        "retired": u.retired_at is not None,
    }


def unit(entry: units.Board, now: datetime | None = None, max_age_s: int | None = None) -> dict:
    """A unit as dispatchers and its own device see it: status, last position (and whether
    it is too old to route on), the ticket it is on and its open emergency."""
    now = now or clock.now()
    max_age_s = units.position_max_age_s() if max_age_s is None else max_age_s
    body = record(entry.unit, now)
    age = body["position_age_s"]
    body["stale"] = age is None or age > max_age_s
    body["ticket"] = job(entry.job)
    body["emergency"] = alarm(entry.alarm)
    return body


def board(entries: list[units.Board]) -> list[dict]:
    now, max_age_s = clock.now(), units.position_max_age_s()
    return [unit(entry, now, max_age_s) for entry in entries]


def position(u) -> dict:
    """Where a unit is (a ``Unit`` or a row with its columns): the map's coalesced feed."""
    return {"id": u.id, "lat": u.lat, "lon": u.lon, "position_at": u.position_at}


def positions(rows: list[Unit], as_of: datetime) -> dict:
    return {"as_of": as_of, "units": [position(u) for u in rows]}


_LEAD = object()


def unit_ticket(ticket, crew, notes, *, own=_LEAD) -> dict:
    """A ticket as its unit reads it (no caller history), with the running notes. Given
    ``own`` (the reading unit's assignment, or None), ``assignment`` is that one instead of
    the most advanced unit's."""
    body = serialize.ticket_for_unit(ticket, crew)
    if own is not _LEAD:
        body["assignment"] = serialize.assignment(own) if own else None
    body["notes"] = [serialize_calls.note(n) for n in notes]
    return body


def job_history(a: Assignment) -> dict:
    """One of a unit's recent assignments with its ticket in brief."""
    t = a.ticket
    category = catalog.get(t.category)
    return serialize.assignment(a) | {
        "ticket": {
            "id": t.id,
            "number": t.number,
            "category": t.category,
            "category_label": category.to_json()["label"] if category else None,
            "status": t.status,
            "resolution": t.resolution,
            "address": t.address,
            "created_at": t.created_at,
        }
    }


def my_assignment(entry: units.Board, active: Assignment | None, ticket_body: dict | None):
    """``GET /units/me/assignment``: the unit, its open offer or job, and that ticket."""
    return {
        "unit": unit(entry),
        "assignment": serialize.assignment(active) if active else None,
        "ticket": ticket_body,
        "server_time": clock.now(),
    }


def decline_reasons() -> list[dict]:
    return [{"code": k, "label": v} for k, v in catalog.DECLINE_REASONS.items()]
