"""EIDO exchange (NENA-STA-021): a ticket as an EIDO document, and an incident taken in
from another center's EIDO document."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import tickets
from ..services.eido import export, intake
from . import bp, json_body, serialize


@bp.get("/tickets/<int:ticket_id>/eido")
@roles_required("dispatcher", "supervisor", "admin")
def ticket_eido(ticket_id: int):
    """The ticket as an EIDO document, checked against NENA's schema."""
    return jsonify(export.document(ticket_id))


@bp.post("/eido")
@roles_required("supervisor", "admin")
def receive_eido():
    """An EIDO document from another center: ``201`` with the ticket made from it, ``200``
    when it updated that ticket, or when this version was received already (then with
    ``Idempotent-Replayed: true``); ``409`` for a version older than the one received."""
    request.max_content_length = current_app.config["CALLCENTER_EIDO_MAX_BYTES"]
    ticket, outcome = intake.receive(json_body(), actor=current_user)
    response = jsonify(serialize.ticket(ticket, tickets.crew(ticket)) | {"eido": outcome})
    response.status_code = 201 if outcome == "created" else 200
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    if outcome == "replayed":
        response.headers["Idempotent-Replayed"] = "true"
    return response
