"""Administration: users, units, their crews, Polsek sectors and the catalog's local
defaults. Admins change everything; supervisors read, create dispatcher and unit accounts
and units, set crews on duty and unlock accounts."""

from __future__ import annotations

from flask import jsonify
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import accounts, catalog, catalog_settings, fleet, units
from ..services.errors import ValidationError
from ..services.validation import Errors, unknown_fields
from . import bp, json_body
from . import serialize_admin as serialize

ADMINS = ("admin", "supervisor")


@bp.post("/users")
@roles_required(*ADMINS)
def create_user():
    user = accounts.create_user(json_body(), actor=current_user)
    return jsonify(serialize.user(user)), 201


@bp.get("/users")
@roles_required(*ADMINS)
def list_users():
    locked = accounts.locked_usernames()
    return jsonify([serialize.user(u, locked=u.username in locked) for u in accounts.list_users()])


@bp.get("/users/<int:user_id>")
@roles_required(*ADMINS)
def get_user(user_id: int):
    user = accounts.get_user(user_id)
    return jsonify(serialize.user(user, locked=bool(accounts.lockouts(user.username))))


@bp.patch("/users/<int:user_id>")
@roles_required("admin")
def update_user(user_id: int):
    user = accounts.update_user(accounts.get_user(user_id), json_body(), actor=current_user)
    return jsonify(serialize.user(user))


@bp.delete("/users/<int:user_id>")
@roles_required("admin")
def deactivate_user(user_id: int):
    """Deactivate (accounts are never deleted: the audit trail names them)."""
    user = accounts.set_active(accounts.get_user(user_id), False, actor=current_user)
    return jsonify(serialize.user(user))


@bp.post("/users/<int:user_id>/unlock")
@roles_required(*ADMINS)
def unlock_user(user_id: int):
    addresses = accounts.unlock(accounts.get_user(user_id), actor=current_user)
    return jsonify({"unlocked": addresses})


@bp.post("/users/<int:user_id>/reset-password")
@roles_required("admin")
def reset_password(user_id: int):
    """``{password?}``: set it, or leave it out to get a generated one, shown only here."""
    data = json_body()
    errors = Errors()
    unknown_fields(data, {"password"}, errors)
    if errors:
        raise ValidationError(_l("The password was not changed."), fields=errors)
    generated = accounts.reset_password(
        accounts.get_user(user_id), data.get("password"), actor=current_user
    )
    return jsonify({"password": generated} if generated else {})


@bp.post("/users/<int:user_id>/revoke-sessions")
@roles_required("admin")
def revoke_sessions(user_id: int):
    revoked = accounts.revoke_sessions(accounts.get_user(user_id), actor=current_user)
    return jsonify({"tokens_revoked": revoked})


@bp.post("/units")
@roles_required(*ADMINS)
def create_unit():
    unit = units.create_unit(json_body(), actor=current_user)
    return jsonify(unit.to_json()), 201


@bp.patch("/units/<int:unit_id>")
@roles_required("admin")
def update_unit(unit_id: int):
    unit = fleet.update_unit(units.get(unit_id), json_body(), actor=current_user)
    return jsonify(serialize.unit(unit, crew=fleet.current_crews([unit.id]).get(unit.id)))


@bp.delete("/units/<int:unit_id>")
@roles_required("admin")
def retire_unit(unit_id: int):
    """Retire (units are never deleted: their history stays)."""
    unit = fleet.retire_unit(unit_id, actor=current_user)
    return jsonify(serialize.unit(unit))


@bp.get("/units/<int:unit_id>/shifts")
@roles_required(*ADMINS)
def unit_shifts(unit_id: int):
    units.get(unit_id)
    return jsonify([serialize.shift(s) for s in fleet.shifts(unit_id)])


@bp.post("/units/<int:unit_id>/shifts")
@roles_required(*ADMINS)
def set_crew(unit_id: int):
    shift = fleet.set_crew(units.get(unit_id), json_body(), actor=current_user)
    return jsonify(serialize.shift(shift)), 201


@bp.post("/sectors")
@roles_required("admin")
def create_sector():
    return jsonify(serialize.sector(fleet.create_sector(json_body(), actor=current_user))), 201


@bp.patch("/sectors/<int:sector_id>")
@roles_required("admin")
def update_sector(sector_id: int):
    sector = fleet.update_sector(sector_id, json_body(), actor=current_user)
    return jsonify(serialize.sector(sector))


@bp.patch("/categories/<code>")
@roles_required("admin")
def update_category(code: str):
    category = catalog_settings.update(code, json_body(), actor=current_user)
    return jsonify(serialize.category(category, catalog.get(code)))
