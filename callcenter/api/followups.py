"""Hand-offs to other agencies and call-backs of silent or dropped calls."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import agencies as agency_catalog
from ..services import callbacks, handoffs
from . import bp, serialize_followups
from .contract import operation
from .schemas.followups import (
    AgenciesQuery,
    Agency,
    Callback,
    CallbackAttemptIn,
    CallbacksQuery,
    Handoff,
    HandoffAcknowledgement,
    HandoffIn,
)

STAFF = ("dispatcher", "supervisor", "admin")
DESK = ("dispatcher", "supervisor")


@bp.get("/agencies")
@roles_required(*STAFF)
@operation(tag="follow-ups", query=AgenciesQuery, ok=list[Agency])
def agencies(query: AgenciesQuery):
    """The agencies tickets can be handed to (with `all=true`, those out of service too)."""
    rows = agency_catalog.all_agencies() if query.all else handoffs.agencies()
    return jsonify([serialize_followups.agency(a) for a in rows])


@bp.get("/tickets/<int:ticket_id>/handoffs")
@roles_required(*STAFF)
@operation(tag="follow-ups", ok=list[Handoff])
def ticket_handoffs(ticket_id: int):
    """A ticket's hand-offs."""
    return jsonify([serialize_followups.handoff(h) for h in handoffs.of_ticket(ticket_id)])


@bp.post("/tickets/<int:ticket_id>/handoffs")
@roles_required(*DESK)
@operation(tag="follow-ups", json=HandoffIn, ok=Handoff, status=201, errors=(409,))
def hand_off(ticket_id: int, json: HandoffIn):
    """Hand an open ticket to an agency; 409 on a closed ticket or one already waiting for
    that agency's acknowledgement."""
    handoff = handoffs.hand_off(ticket_id, json.data(), actor=current_user)
    response = jsonify(serialize_followups.handoff(handoff))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/tickets/{ticket_id}/handoffs"
    return response


@bp.post("/handoffs/<int:handoff_id>/acknowledge")
@roles_required(*DESK)
@operation(tag="follow-ups", json=HandoffAcknowledgement, ok=Handoff, errors=(409,))
def acknowledge_handoff(handoff_id: int, json: HandoffAcknowledgement):
    """Record the agency's acknowledgement (a hand-off-only ticket with nothing else
    waiting closes); 409 when it was already acknowledged."""
    handoff = handoffs.acknowledge(handoff_id, json.data(), actor=current_user)
    return jsonify(serialize_followups.handoff(handoff))


@bp.get("/callbacks")
@roles_required(*STAFF)
@operation(tag="follow-ups", query=CallbacksQuery, ok=list[Callback])
def list_callbacks(query: CallbacksQuery):
    """Call-back tasks (at most 200): open ones oldest first, closed ones newest first."""
    rows = callbacks.listing(query.status)
    return jsonify(serialize_followups.callbacks(rows, callbacks.details(rows)))


@bp.get("/callbacks/<int:callback_id>")
@roles_required(*STAFF)
@operation(tag="follow-ups", ok=Callback)
def get_callback(callback_id: int):
    """One call-back task with its tries."""
    rows = [callbacks.get(callback_id)]
    return jsonify(serialize_followups.callbacks(rows, callbacks.details(rows))[0])


@bp.post("/callbacks/<int:callback_id>/attempts")
@roles_required(*DESK)
@operation(tag="follow-ups", json=CallbackAttemptIn, ok=Callback, status=201, errors=(409,))
def callback_attempt(callback_id: int, json: CallbackAttemptIn):
    """Record one try at calling back; 409 when the task is closed already."""
    callback = callbacks.record_attempt(callback_id, json.data(), actor=current_user)
    rows = [callback]
    return jsonify(serialize_followups.callbacks(rows, callbacks.details(rows))[0]), 201
