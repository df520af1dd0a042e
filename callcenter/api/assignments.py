"""Answers to an offer and progress on a job. A unit acts on its own assignments only (any
other is 404 to it); a dispatcher may record an answer given over the radio."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import lifecycle, tickets, units
from . import bp, json_body, serialize

ACTORS = ("unit", "dispatcher", "supervisor")


def _scope():
    """The unit whose assignments the caller may touch; None for dispatchers (all)."""
    return units.unit_of(current_user) if current_user.role == "unit" else None


def _body(assignment):
    return jsonify(serialize.assignment(assignment) | {"ticket_status": assignment.ticket.status})


@bp.post("/assignments/<int:assignment_id>/accept")
@roles_required(*ACTORS)
def accept(assignment_id: int):
    return _body(lifecycle.accept(assignment_id, unit=_scope(), actor=current_user))


@bp.post("/assignments/<int:assignment_id>/decline")
@roles_required(*ACTORS)
def decline(assignment_id: int):
    return _body(lifecycle.decline(assignment_id, json_body(), unit=_scope(), actor=current_user))


@bp.post("/assignments/<int:assignment_id>/progress")
@roles_required(*ACTORS)
def progress(assignment_id: int):
    return _body(lifecycle.progress(assignment_id, json_body(), unit=_scope(), actor=current_user))


@bp.post("/assignments/<int:assignment_id>/release")
@roles_required("dispatcher", "supervisor")
def release(assignment_id: int):
    """Take one unit off its ticket: ``{reason, refill?}`` (``refill: false`` also lowers
    the units needed by one instead of offering the slot again)."""
    assignment = lifecycle.release(assignment_id, json_body(), actor=current_user)
    ticket = assignment.ticket
    return jsonify(
        serialize.assignment(assignment)
        | {"ticket_status": ticket.status, "ticket": serialize.ticket(ticket, tickets.crew(ticket))}
    )


@bp.post("/assignments/<int:assignment_id>/backup")
@roles_required(*ACTORS)
def backup(assignment_id: int):
    """The unit on the job (or a dispatcher) asks for more units: ``{count?, reason}``."""
    scope = _scope()
    result = lifecycle.request_backup(assignment_id, json_body(), unit=scope, actor=current_user)
    ticket = result["ticket"]
    shape = serialize.ticket_for_unit if scope is not None else serialize.ticket
    return jsonify(
        serialize.assignment(result["assignment"])
        | {
            "ticket_status": ticket.status,
            "added": result["added"],
            "ticket": shape(ticket, tickets.crew(ticket)),
        }
    )
