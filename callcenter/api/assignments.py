"""Answers to an offer and progress on a job. A unit acts on its own assignments only (any
other is 404 to it); a dispatcher may record an answer given over the radio."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import lifecycle, units
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
