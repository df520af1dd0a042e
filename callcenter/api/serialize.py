"""JSON shapes of the API's resources."""

from __future__ import annotations

from flask import current_app
from flask_babel import get_locale

from ..models import Assignment, Emergency, Event, Ticket
from ..services import catalog, clock, phones
from ..services.slots import Crew


def _locale() -> str:
    return str(get_locale() or "id")


def unit_brief(unit) -> dict | None:
    if unit is None:
        return None
    return {
        "id": unit.id,
        "callsign": unit.callsign,
        "name": unit.name,
        "kind": unit.kind,
        "status": unit.status,
    }


def crew_member(a: Assignment) -> dict:
    """One unit on a ticket: its assignment, how far it is and its milestones."""
    return {
        "assignment_id": a.id,
        "slot": a.slot,
        "status": a.status,
        "step": a.step,
        "unit": unit_brief(a.unit),
        "manual": a.manual,
        **_progress(a),
    }


def _progress(a: Assignment) -> dict:
    """An assignment's milestones and how far its unit was when offered (both shapes of an
    assignment carry them)."""
    return {
        "offered_at": a.offered_at,
        "deadline_at": a.deadline_at,
        "responded_at": a.responded_at,
        "en_route_at": a.en_route_at,
        "on_scene_at": a.on_scene_at,
        "distance_m": round(a.distance_m) if a.distance_m is not None else None,
        "eta_s": a.eta_s,
    }


def emergency(e: Emergency | None) -> dict | None:
    """An officer's emergency on a ticket: who is in danger, and the alarm."""
    if e is None:
        return None
    return {
        "id": e.id,
        "unit": unit_brief(e.unit),
        "raised_at": e.raised_at,
        "located_at": e.located_at,
        "alarm_active": e.alarm_active,
        "acknowledged_at": e.acknowledged_at,
        "acknowledged_by": actor(e.acknowledged_by),
        "ended_at": e.ended_at,
        "end_reason": e.end_reason,
    }


def ticket(t: Ticket, crew: Crew) -> dict:
    """A ticket with its units and flags (possible duplicate, repeat caller, short, ...).

    ``units`` lists its active assignments by slot; ``unit`` and ``assignment`` are its most
    advanced unit (kept for clients of one unit per ticket)."""
    cfg = current_app.config
    category = catalog.get(t.category)
    now = clock.now()
    age_s = (now - t.created_at).total_seconds()
    lead = crew.lead()
    return {
        "id": t.id,
        "number": t.number,
        "status": t.status,
        "status_reason": t.status_reason,
        "priority": t.priority,
        "category": t.category,
        "category_label": category.to_json()["label"] if category else None,
        "dispatch": category.dispatch if category else True,
        "channel": t.channel,
        "caller": {
            "name": t.caller_name,
            "phone": t.caller_phone,
            "phone_display": phones.display(t.caller_phone) or None,
        },
        "summary": t.summary,
        "location": (
            {"lat": t.lat, "lon": t.lon, "address": t.address}
            if t.lat is not None
            else ({"lat": None, "lon": None, "address": t.address} if t.address else None)
        ),
        "received_at": t.received_at,
        "answered_at": t.answered_at,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "dispatched_at": t.dispatched_at,
        "accepted_offer_at": t.accepted_offer_at,
        "acknowledged_at": t.acknowledged_at,
        "on_scene_at": t.on_scene_at,
        "closed_at": t.closed_at,
        "resolution": t.resolution,
        "resolution_note": t.resolution_note,
        "cancel_reason": t.cancel_reason,
        "sector_id": t.sector_id,
        "units_needed": t.units_needed,
        "units": [crew_member(a) for a in crew.active],
        "units_offered": len(crew.offered),
        "units_accepted": len(crew.accepted),
        "units_cleared": crew.completed,
        "slots_open": crew.to_fill if t.is_open else 0,
        "waiting_since": t.waiting_since,
        "backup_requested_at": t.backup_requested_at,
        "unit": unit_brief(lead.unit) if lead else None,
        "assignment": assignment(lead) if lead else None,
        "emergency": emergency(t.emergency),
        "flags": {
            "possible_duplicate": (
                {"id": t.duplicate_of.id, "number": t.duplicate_of.number}
                if t.duplicate_of is not None
                else None
            ),
            "repeat_caller": t.caller_calls_30d > 0,
            "prank_caller": t.caller_pranks_30d >= cfg["CALLCENTER_PRANK_FLAG_MIN"],
            "caller_calls_30d": t.caller_calls_30d,
            "caller_pranks_30d": t.caller_pranks_30d,
            "escalated": t.escalated_at is not None,
            "escalation_reason": t.escalation_reason,
            "escalated_at": t.escalated_at,
            "over_target": t.is_open
            and t.on_scene_at is None
            and age_s > cfg["CALLCENTER_ONSCENE_TARGET_S"],
            "short": crew.short,
            "backup_requested": t.is_open and t.backup_requested_at is not None,
            "alarm": t.emergency is not None and t.emergency.alarm_active,
        },
    }


def category(c) -> dict:
    """A category of the catalog: its labels, defaults and whether it dispatches."""
    return c.to_json()


def resolutions() -> list[dict]:
    """How a job may end: ``[{code, label: {id, en}}]``."""
    return [{"code": k, "label": v} for k, v in catalog.RESOLUTIONS.items()]


def assignment_state(a: Assignment) -> dict:
    """An assignment after a change, with its ticket's status."""
    return assignment(a) | {"ticket_status": a.ticket.status}


def ticket_for_unit(t: Ticket, crew: Crew) -> dict:
    """What a unit is told about a ticket: enough to get there, work with the other units
    on it and call the caller back (not the caller's history)."""
    body = ticket(t, crew)
    body.pop("flags", None)
    return body


def assignment(a: Assignment) -> dict:
    """A unit's part in a ticket: the offer, its answer and the unit's progress."""
    return {
        "id": a.id,
        "ticket_id": a.ticket_id,
        "unit_id": a.unit_id,
        "unit_callsign": a.unit.callsign if a.unit else None,
        "slot": a.slot,
        "status": a.status,
        "step": a.step,
        "manual": a.manual,
        **_progress(a),
        "ended_at": a.ended_at,
        "decline_reason": a.decline_reason,
        "end_reason": a.end_reason,
        "resolution": a.resolution,
        "note": a.note,
    }


def event(e: Event) -> dict:
    """One event of the audit trail and the live feed (an SSE message's ``data``)."""
    return {
        "id": e.id,
        "type": e.type,
        "at": e.at,
        "ticket_id": e.ticket_id,
        "unit_id": e.unit_id,
        "actor_id": e.actor_id,
        "data": e.data or {},
    }


def actor(user) -> dict | None:
    """Who did something, as the audit trail names them."""
    if user is None:
        return None
    return {
        "id": user.id,
        "username": user.username,
        "name": user.full_name or user.username,
        "role": user.role,
    }


def timeline(rows, users: dict) -> list[dict]:
    """A ticket's events, each with its actor (``users``: id -> User)."""
    return [event(e) | {"actor": actor(users.get(e.actor_id))} for e in rows]


def caller_history(history: dict) -> dict:
    return {
        "phone": history["phone"],
        "phone_display": phones.display(history["phone"]) or None,
        "days": history.get("days"),
        "calls": history["calls"],
        "pranks": history["pranks"],
        "prank_caller": history["pranks"] >= current_app.config["CALLCENTER_PRANK_FLAG_MIN"],
        "recent": [
            {
                "id": t.id,
                "number": t.number,
                "category": t.category,
                "category_label": catalog.label(t.category, _locale()),
                "status": t.status,
                "created_at": t.created_at,
                "summary": t.summary,
            }
            for t in history["recent"]
        ],
    }
