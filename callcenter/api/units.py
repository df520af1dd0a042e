"""Units: the list for dispatchers, and the unit's own device (``/units/me/...``)."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import clock, emergency, lifecycle, notes, onview, state, tickets, units
from . import bp, serialize_units
from .contract import operation
from .schemas.common import Sector
from .schemas.units import (
    BoardUnit,
    DeclineReason,
    DeviceTicket,
    EmergencyEnd,
    EmergencyPress,
    EmergencyTicket,
    FoundOnPatrol,
    Job,
    MyAssignment,
    PositionReport,
    PositionResult,
    Positions,
    PositionsQuery,
    StatusChange,
)

STAFF = ("dispatcher", "supervisor", "admin")


@bp.get("/units")
@roles_required(*STAFF)
@operation(tag="units", ok=list[BoardUnit])
def list_units():
    """The units in service, by callsign, each with its job and open emergency."""
    return jsonify(serialize_units.board(units.with_jobs(units.list_units())))


@bp.get("/units/positions")
@roles_required(*STAFF)
@operation(tag="units", query=PositionsQuery, ok=Positions)
def positions(query: PositionsQuery):
    """The units whose position moved since `since` (the map's coalesced feed)."""
    now = clock.now()
    return jsonify(serialize_units.positions(units.positions_since(query.since), now))


@bp.get("/units/<int:unit_id>")
@roles_required(*STAFF)
@operation(tag="units", ok=BoardUnit)
def get_unit(unit_id: int):
    """One unit with its job and open emergency."""
    return jsonify(serialize_units.unit(units.board_of(units.get(unit_id))))


@bp.get("/sectors")
@roles_required()
@operation(tag="units", ok=list[Sector])
def sectors():
    """The Polsek sectors, by name."""
    return jsonify([serialize_units.sector(s) for s in units.list_sectors()])


@bp.get("/decline-reasons")
@roles_required()
@operation(tag="units", ok=list[DeclineReason])
def decline_reasons():
    """The reasons a unit may give for declining an offer."""
    return jsonify(serialize_units.decline_reasons())


# --- the unit's own device ---------------------------------------------------------------


@bp.get("/units/me")
@roles_required("unit")
@operation(tag="unit device", ok=BoardUnit, errors=(404,))
def my_unit():
    """The signed-in unit, with its job and open emergency."""
    return jsonify(serialize_units.unit(units.board_of(units.unit_of(current_user))))


@bp.post("/units/me/location")
@roles_required("unit")
@operation(
    tag="unit device",
    json=PositionReport,
    ok=PositionResult,
    status=201,
    also={200: PositionResult},
    errors=(404,),
)
def report_location(json: PositionReport):
    """Report the unit's position: 201 when it moved the unit, 200 for an older fix or a
    repeat (kept in the history, or already there)."""
    result = units.report_position(units.unit_of(current_user), json.data())
    return jsonify(result), 201 if result["applied"] else 200


@bp.put("/units/me/status")
@roles_required("unit")
@operation(tag="unit device", json=StatusChange, ok=BoardUnit, errors=(404, 409))
def set_status(json: StatusChange):
    """Sign on (`available`), take a break (`unavailable`) or sign off (`off_duty`); 409
    while the unit has an offer or a job."""
    unit = lifecycle.set_own_status(units.unit_of(current_user), json.data(), actor=current_user)
    return jsonify(serialize_units.unit(units.board_of(unit)))


def _unit_ticket(ticket) -> dict:
    return serialize_units.unit_ticket(ticket, tickets.crew(ticket), notes.notes_of(ticket.id))


@bp.get("/units/me/assignment")
@roles_required("unit")
@operation(tag="unit device", ok=MyAssignment, errors=(404,))
def my_assignment():
    """The unit, its open offer or job and that ticket (both null when idle)."""
    unit = units.unit_of(current_user)
    active = state.active_assignment(unit.id)
    ticket = _unit_ticket(active.ticket) if active else None
    return jsonify(serialize_units.my_assignment(units.board_of(unit), active, ticket))


@bp.get("/units/me/jobs")
@roles_required("unit")
@operation(tag="unit device", ok=list[Job], errors=(404,))
def my_jobs():
    """The unit's last 20 assignments, newest first, each with its ticket in brief."""
    rows = units.recent_jobs(units.unit_of(current_user))
    return jsonify([serialize_units.job_history(a) for a in rows])


@bp.get("/units/me/tickets/<int:ticket_id>")
@roles_required("unit")
@operation(tag="unit device", ok=DeviceTicket)
def my_ticket(ticket_id: int):
    """A ticket the unit is on (or cleared a moment ago, or its own emergency), with the
    unit's own assignment on it; any other ticket is 404."""
    ticket = lifecycle.get_ticket_for_unit(ticket_id, units.unit_of(current_user))
    crew = tickets.crew(ticket)
    own = next((a for a in crew.active if a.unit_id == current_user.unit_id), None)
    return jsonify(serialize_units.unit_ticket(ticket, crew, notes.notes_of(ticket.id), own=own))


@bp.post("/units/me/tickets")
@roles_required("unit")
@operation(tag="unit device", json=FoundOnPatrol, ok=DeviceTicket, status=201, errors=(404, 409))
def found_on_patrol(json: FoundOnPatrol):
    """Log an incident the unit found on patrol (channel `on_view`), at its own position
    with the unit on it; 409 without a fresh position, or with an offer or a job."""
    ticket = onview.create(units.unit_of(current_user), json.data(), actor=current_user)
    response = jsonify(_unit_ticket(ticket))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/units/me/tickets/{ticket.id}"
    return response


@bp.post("/units/me/emergency")
@roles_required("unit")
@operation(
    tag="unit device",
    ok=EmergencyTicket,
    status=201,
    also={200: EmergencyTicket},
    errors=(404,),
    described_body=EmergencyPress,
)
def press_emergency():
    """The emergency button: 201 with the new emergency ticket, or 200 with the one already
    open (a press after the alarm was acknowledged raises it again).

    The body is optional: `{"lat": number, "lon": number, "recorded_at": "ISO 8601"}`, the
    device's position. It is never refused for its body, whatever it is: a position that
    cannot be used is set aside (named in `position_ignored`) and the unit's last known
    position is used instead."""
    data = request.get_json(silent=True) if request.content_length else None
    if not isinstance(data, dict):  # no body, not JSON, or not an object: no position
        data = {}
    ticket, created, ignored = emergency.press(
        units.unit_of(current_user), data, actor=current_user
    )
    body = _unit_ticket(ticket) | {"position_ignored": ignored or None}
    return jsonify(body), 201 if created else 200


@bp.post("/units/me/emergency/end")
@roles_required("unit")
@operation(tag="unit device", json=EmergencyEnd, ok=DeviceTicket, errors=(404, 409))
def end_emergency(json: EmergencyEnd):
    """The officer ends their own emergency with a reason: its ticket is closed and every
    unit on it freed; 409 without an open emergency."""
    ticket = emergency.end(units.unit_of(current_user), json.data(), actor=current_user)
    return jsonify(_unit_ticket(ticket))
