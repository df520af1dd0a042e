"""EIDO exchange (NENA-STA-021): a ticket as an EIDO document, and an incident taken in
from another center's EIDO document."""

from __future__ import annotations

from functools import wraps

from flask import current_app, jsonify, request
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import tickets
from ..services.eido import export, intake
from . import bp, serialize
from .contract import operation
from .schemas.eido import EidoDocument, EidoReceived


def _larger_body(view):
    """EIDO documents are larger than any other body: this one route reads up to
    ``CALLCENTER_EIDO_MAX_BYTES`` (before the body is parsed)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        request.max_content_length = current_app.config["CALLCENTER_EIDO_MAX_BYTES"]
        return view(*args, **kwargs)

    return wrapped


@bp.get("/tickets/<int:ticket_id>/eido")
@roles_required("dispatcher", "supervisor", "admin")
@operation(tag="eido", ok=EidoDocument)
def ticket_eido(ticket_id: int):
    """The ticket as an EIDO document, checked against NENA's schema.

    The incident (its type through the category's APCO code), each call with its caller,
    the location, each unit's assignment with its status history, the notes and the
    agencies it was handed to."""
    return jsonify(export.document(ticket_id))


@bp.post("/eido")
@roles_required("supervisor", "admin")
@_larger_body
@operation(
    tag="eido",
    json=EidoDocument,
    ok=EidoReceived,
    status=201,
    also={200: EidoReceived},
    errors=(409,),
)
def receive_eido(json: EidoDocument):
    """An EIDO document from another center (a Polsek, the 112 center, a neighbouring
    Polres).

    `201` with the ticket made from it (through intake: routed like a call logged here);
    `200` when it updated that ticket (a newer `lastUpdateTimeStamp`), or when this version
    was received already (then with `Idempotent-Replayed: true`); `409 eido_outdated` for a
    version older than the one received. What does not map is kept in the timeline."""
    ticket, outcome = intake.receive(json.root, actor=current_user)
    response = jsonify(serialize.ticket(ticket, tickets.crew(ticket)) | {"eido": outcome})
    response.status_code = 201 if outcome == "created" else 200
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    if outcome == "replayed":
        response.headers["Idempotent-Replayed"] = "true"
    return response
