"""JSON shapes of the API's resources."""

from __future__ import annotations

from flask import current_app
from flask_babel import get_locale

from ..models import Assignment, Ticket
from ..services import catalog, clock, phones


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


def ticket(t: Ticket, active: Assignment | None = None) -> dict:
    """A ticket with its current unit and flags (possible duplicate, repeat caller, ...)."""
    cfg = current_app.config
    category = catalog.get(t.category)
    now = clock.now()
    age_s = (now - t.created_at).total_seconds()
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
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "dispatched_at": t.dispatched_at,
        "acknowledged_at": t.acknowledged_at,
        "on_scene_at": t.on_scene_at,
        "closed_at": t.closed_at,
        "resolution": t.resolution,
        "resolution_note": t.resolution_note,
        "cancel_reason": t.cancel_reason,
        "unit": unit_brief(active.unit) if active else None,
        "assignment": assignment(active) if active else None,
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
        },
    }


def assignment(a: Assignment) -> dict:
    return a.to_json()


def event(e) -> dict:
    return e.to_json()


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
