"""Hand-offs to other agencies and call-backs of silent or dropped calls."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import callbacks, handoffs
from . import bp, json_body, serialize_followups

STAFF = ("dispatcher", "supervisor", "admin")
DESK = ("dispatcher", "supervisor")


@bp.get("/agencies")
@roles_required(*STAFF)
def agencies():
    return jsonify([serialize_followups.agency(a) for a in handoffs.agencies()])


@bp.get("/tickets/<int:ticket_id>/handoffs")
@roles_required(*STAFF)
def ticket_handoffs(ticket_id: int):
    return jsonify([serialize_followups.handoff(h) for h in handoffs.of_ticket(ticket_id)])


@bp.post("/tickets/<int:ticket_id>/handoffs")
@roles_required(*DESK)
def hand_off(ticket_id: int):
    handoff = handoffs.hand_off(ticket_id, json_body(), actor=current_user)
    response = jsonify(serialize_followups.handoff(handoff))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/tickets/{ticket_id}/handoffs"
    return response


@bp.post("/handoffs/<int:handoff_id>/acknowledge")
@roles_required(*DESK)
def acknowledge_handoff(handoff_id: int):
    handoff = handoffs.acknowledge(handoff_id, json_body(), actor=current_user)
    return jsonify(serialize_followups.handoff(handoff))


def _callback_body(rows):
    return serialize_followups.callbacks(rows, callbacks.details(rows))


@bp.get("/callbacks")
@roles_required(*STAFF)
def list_callbacks():
    """``?status=open`` (default, oldest first) | ``closed`` | ``all`` (newest first)."""
    rows = callbacks.listing(callbacks.parse_status(request.args.get("status")))
    return jsonify(_callback_body(rows))


@bp.get("/callbacks/<int:callback_id>")
@roles_required(*STAFF)
def get_callback(callback_id: int):
    return jsonify(_callback_body([callbacks.get(callback_id)])[0])


@bp.post("/callbacks/<int:callback_id>/attempts")
@roles_required(*DESK)
def callback_attempt(callback_id: int):
    callback = callbacks.record_attempt(callback_id, json_body(), actor=current_user)
    return jsonify(_callback_body([callback])[0]), 201
