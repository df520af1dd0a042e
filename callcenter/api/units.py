"""Units: the list for dispatchers, and the unit's own device (``/units/me/...``)."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.decorators import roles_required
from ..extensions import db
from ..models import Assignment, Emergency
from ..services import catalog, clock, emergency, lifecycle, notes, onview, state, tickets, units
from ..services.errors import ValidationError
from . import bp, json_body, serialize, serialize_calls

STAFF = ("dispatcher", "supervisor", "admin")


def _with_jobs(rows) -> list[dict]:
    now = clock.now()
    query = db.select(Assignment).where(Assignment.status.in_(("offered", "accepted")))
    if len(rows) == 1:  # one unit (its own device asks on every event): its job only
        query = query.where(Assignment.unit_id == rows[0].id)
    jobs = {a.unit_id: a for a in db.session.scalars(query)}
    danger = db.select(Emergency).where(Emergency.ended_at.is_(None))
    if len(rows) == 1:
        danger = danger.where(Emergency.unit_id == rows[0].id)
    emergencies = {e.unit_id: e for e in db.session.scalars(danger)}
    max_age = units.position_max_age_s()
    body = []
    for unit in rows:
        item = unit.to_json(now)
        item["stale"] = item["position_age_s"] is None or item["position_age_s"] > max_age
        job = jobs.get(unit.id)
        item["ticket"] = (
            {
                "id": job.ticket_id,
                "number": job.ticket.number,
                "priority": job.ticket.priority,
                "status": job.ticket.status,
                "assignment_id": job.id,
                "assignment_status": job.status,
            }
            if job
            else None
        )
        alarm = emergencies.get(unit.id)
        item["emergency"] = (
            {
                "ticket_id": alarm.ticket_id,
                "raised_at": alarm.raised_at,
                "acknowledged_at": alarm.acknowledged_at,
                "alarm_active": alarm.alarm_active,
            }
            if alarm
            else None
        )
        body.append(item)
    return body


@bp.get("/units")
@roles_required(*STAFF)
def list_units():
    return jsonify(_with_jobs(units.list_units()))


@bp.get("/units/positions")
@roles_required(*STAFF)
def positions():
    """``?since=<ISO time>``: the units whose position moved since then (coalesced map feed)."""
    since = request.args.get("since")
    moment = None
    if since:
        try:
            moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
            if moment.tzinfo is None:  # a time without its offset names no moment
                raise ValueError(since)
        except ValueError:
            raise ValidationError(
                _l("Invalid query parameters."),
                fields={"since": _l("An ISO 8601 time with its offset.")},
            ) from None
    now = clock.now()
    return jsonify(
        {
            "as_of": now,
            "units": [
                {"id": u.id, "lat": u.lat, "lon": u.lon, "position_at": u.position_at}
                for u in units.positions_since(moment)
            ],
        }
    )


@bp.get("/units/<int:unit_id>")
@roles_required(*STAFF)
def get_unit(unit_id: int):
    return jsonify(_with_jobs([units.get(unit_id)])[0])


@bp.get("/sectors")
@roles_required()
def sectors():
    return jsonify([s.to_json() for s in units.list_sectors()])


# --- the unit's own device ---------------------------------------------------------------


@bp.get("/units/me")
@roles_required("unit")
def my_unit():
    return jsonify(_with_jobs([units.unit_of(current_user)])[0])


@bp.post("/units/me/location")
@roles_required("unit")
def report_location():
    result = units.report_position(units.unit_of(current_user), json_body())
    return jsonify(result), 201 if result["applied"] else 200


@bp.put("/units/me/status")
@roles_required("unit")
def set_status():
    unit = lifecycle.set_own_status(units.unit_of(current_user), json_body(), actor=current_user)
    return jsonify(_with_jobs([unit])[0])


def unit_ticket(ticket) -> dict:
    """A ticket as its unit reads it, with the running notes."""
    return serialize.ticket_for_unit(ticket, tickets.crew(ticket)) | {
        "notes": [serialize_calls.note(n) for n in notes.notes_of(ticket.id)]
    }


@bp.get("/units/me/assignment")
@roles_required("unit")
def my_assignment():
    unit = units.unit_of(current_user)
    active = state.active_assignment(unit.id)
    return jsonify(
        {
            "unit": _with_jobs([unit])[0],
            "assignment": serialize.assignment(active) if active else None,
            "ticket": unit_ticket(active.ticket) if active else None,
            "server_time": clock.now(),
        }
    )


@bp.get("/units/me/jobs")
@roles_required("unit")
def my_jobs():
    unit = units.unit_of(current_user)
    rows = db.session.scalars(
        db.select(Assignment)
        .where(Assignment.unit_id == unit.id)
        .order_by(Assignment.id.desc())
        .limit(20)
    )
    return jsonify(
        [
            {
                **serialize.assignment(a),
                "ticket": {
                    "id": a.ticket.id,
                    "number": a.ticket.number,
                    "category": a.ticket.category,
                    "category_label": catalog.get(a.ticket.category).to_json()["label"]
                    if catalog.get(a.ticket.category)
                    else None,
                    "status": a.ticket.status,
                    "resolution": a.ticket.resolution,
                    "address": a.ticket.address,
                    "created_at": a.ticket.created_at,
                },
            }
            for a in rows
        ]
    )


@bp.get("/units/me/tickets/<int:ticket_id>")
@roles_required("unit")
def my_ticket(ticket_id: int):
    ticket = lifecycle.get_ticket_for_unit(ticket_id, units.unit_of(current_user))
    crew = tickets.crew(ticket)
    own = next((a for a in crew.active if a.unit_id == current_user.unit_id), None)
    return jsonify(
        serialize.ticket_for_unit(ticket, crew)
        | {
            "assignment": serialize.assignment(own) if own else None,
            "notes": [serialize_calls.note(n) for n in notes.notes_of(ticket.id)],
        }
    )


@bp.post("/units/me/tickets")
@roles_required("unit")
def found_on_patrol():
    """An incident the unit found on patrol: ``{category, summary, units_needed?}``."""
    ticket = onview.create(units.unit_of(current_user), json_body(), actor=current_user)
    response = jsonify(unit_ticket(ticket))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/units/me/tickets/{ticket.id}"
    return response


@bp.post("/units/me/emergency")
@roles_required("unit")
def press_emergency():
    """The emergency button: ``{lat?, lon?, recorded_at?}``; 201 with the new emergency
    ticket, or 200 with the one already open. Never refused for its body: a position that
    cannot be used is set aside (``position_ignored``) for the last known one."""
    data = (request.get_json(silent=True) or {}) if request.content_length else {}
    ticket, created, ignored = emergency.press(
        units.unit_of(current_user), data, actor=current_user
    )
    body = unit_ticket(ticket) | {"position_ignored": ignored or None}
    return jsonify(body), 201 if created else 200


@bp.post("/units/me/emergency/end")
@roles_required("unit")
def end_emergency():
    """The officer ends their own emergency: ``{reason}``."""
    ticket = emergency.end(units.unit_of(current_user), json_body(), actor=current_user)
    return jsonify(unit_ticket(ticket))


@bp.get("/decline-reasons")
@roles_required()
def decline_reasons():
    return jsonify([{"code": k, "label": v} for k, v in catalog.DECLINE_REASONS.items()])
