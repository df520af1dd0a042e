"""Administration: users and units (admin and supervisor)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import accounts, units
from . import bp, json_body

ADMINS = ("admin", "supervisor")


@bp.post("/users")
@roles_required(*ADMINS)
def create_user():
    user = accounts.create_user(json_body(), actor=current_user)
    return jsonify(user.to_json()), 201


@bp.get("/users")
@roles_required(*ADMINS)
def list_users():
    return jsonify([u.to_json() for u in accounts.list_users()])


@bp.post("/units")
@roles_required(*ADMINS)
def create_unit():
    unit = units.create_unit(json_body(), actor=current_user)
    return jsonify(unit.to_json()), 201
