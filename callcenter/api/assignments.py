"""Answers to an offer and progress on a job. A unit acts on its own assignments only (any
other is 404 to it); a dispatcher may record an answer given over the radio."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import lifecycle, tickets, units
from . import bp, serialize
from .contract import operation
from .schemas.assignments import (
    AssignmentState,
    BackupIn,
    BackupSent,
    DeclineIn,
    ProgressIn,
    Released,
    ReleaseIn,
)

ACTORS = ("unit", "dispatcher", "supervisor")


def _scope():
    """The unit whose assignments the caller may touch; None for dispatchers (all)."""
    return units.unit_of(current_user) if current_user.role == "unit" else None


def _body(assignment):
    return jsonify(serialize.assignment_state(assignment))


@bp.post("/assignments/<int:assignment_id>/accept")
@roles_required(*ACTORS)
@operation(tag="assignments", ok=AssignmentState, errors=(404, 409))
def accept(assignment_id: int):
    """Accept an offer (409 when it is no longer open: expired, cancelled, ...)."""
    return _body(lifecycle.accept(assignment_id, unit=_scope(), actor=current_user))


@bp.post("/assignments/<int:assignment_id>/decline")
@roles_required(*ACTORS)
@operation(tag="assignments", json=DeclineIn, ok=AssignmentState, errors=(404, 409))
def decline(assignment_id: int, json: DeclineIn):
    """Decline an offer, with a reason: the slot goes to the next nearest unit."""
    return _body(lifecycle.decline(assignment_id, json.data(), unit=_scope(), actor=current_user))


@bp.post("/assignments/<int:assignment_id>/progress")
@roles_required(*ACTORS)
@operation(tag="assignments", json=ProgressIn, ok=AssignmentState, errors=(404, 409))
def progress(assignment_id: int, json: ProgressIn):
    """Report progress on an accepted job: `en_route`, `on_scene`, or `cleared` with a
    resolution.

    Repeating the step just taken changes nothing; anything out of order is 409."""
    return _body(lifecycle.progress(assignment_id, json.data(), unit=_scope(), actor=current_user))


@bp.post("/assignments/<int:assignment_id>/release")
@roles_required("dispatcher", "supervisor")
@operation(tag="assignments", json=ReleaseIn, ok=Released, errors=(404, 409))
def release(assignment_id: int, json: ReleaseIn):
    """Take one unit off its ticket, with a reason.

    Its slot is offered again, or with `refill: false` the ticket needs one unit fewer."""
    assignment = lifecycle.release(assignment_id, json.data(), actor=current_user)
    ticket = assignment.ticket
    return jsonify(
        serialize.assignment_state(assignment)
        | {"ticket": serialize.ticket(ticket, tickets.crew(ticket))}
    )


@bp.post("/assignments/<int:assignment_id>/backup")
@roles_required(*ACTORS)
@operation(tag="assignments", json=BackupIn, ok=BackupSent, errors=(404, 409))
def backup(assignment_id: int, json: BackupIn):
    """Ask for more units on the job (the unit on it, or a dispatcher); the new slots are
    routed at once."""
    scope = _scope()
    result = lifecycle.request_backup(assignment_id, json.data(), unit=scope, actor=current_user)
    ticket = result["ticket"]
    shape = serialize.ticket_for_unit if scope is not None else serialize.ticket
    return jsonify(
        serialize.assignment_state(result["assignment"])
        | {"added": result["added"], "ticket": shape(ticket, tickets.crew(ticket))}
    )
