"""Administration: users, units, their crews, Polsek sectors and the catalogs' local
settings (category defaults, agencies' numbers). Admins change everything; supervisors
read, create dispatcher and unit accounts and units, set crews on duty and unlock accounts."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import accounts, agencies, catalog, catalog_settings, fleet, units
from . import bp, serialize_followups
from . import serialize_admin as serialize
from .contract import operation
from .schemas.admin import (
    CategoryChange,
    CategoryDefaults,
    PasswordReset,
    PasswordResetDone,
    Sector,
    SectorChange,
    SectorCreate,
    SessionsRevoked,
    Shift,
    ShiftCreate,
    UnitChange,
    UnitCreate,
    UnitRecord,
    Unlocked,
    UserAccount,
    UserChange,
    UserCreate,
)
from .schemas.followups import Agency, AgencyChange

ADMINS = ("admin", "supervisor")


@bp.post("/users")
@roles_required(*ADMINS)
@operation(tag="admin", json=UserCreate, ok=UserAccount, status=201)
def create_user(json: UserCreate):
    """Create a user account.

    A `unit` user is bound to a unit; other roles are not. Only an admin creates `admin`
    and `supervisor` accounts (403 for a supervisor). A taken username is a 422 on
    `username`."""
    user = accounts.create_user(json.data(), actor=current_user)
    return jsonify(serialize.user(user)), 201


@bp.get("/users")
@roles_required(*ADMINS)
@operation(tag="admin", ok=list[UserAccount])
def list_users():
    """Every user account, with whether it is locked out of signing in."""
    return jsonify(serialize.users(accounts.list_users(), accounts.locked_usernames()))


@bp.get("/users/<int:user_id>")
@roles_required(*ADMINS)
@operation(tag="admin", ok=UserAccount)
def get_user(user_id: int):
    """One user account."""
    user = accounts.get_user(user_id)
    return jsonify(serialize.user(user, locked=bool(accounts.lockouts(user.username))))


@bp.patch("/users/<int:user_id>")
@roles_required("admin")
@operation(tag="admin", json=UserChange, ok=UserAccount)
def update_user(user_id: int, json: UserChange):
    """Change a user's role, unit, name, or whether the account is active (audited)."""
    user = accounts.update_user(accounts.get_user(user_id), json.data(), actor=current_user)
    return jsonify(serialize.user(user))


@bp.delete("/users/<int:user_id>")
@roles_required("admin")
@operation(tag="admin", ok=UserAccount)
def deactivate_user(user_id: int):
    """Deactivate a user account.

    Accounts are never deleted: the audit trail names them. Its tokens, sessions and open
    streams end at once."""
    user = accounts.set_active(accounts.get_user(user_id), False, actor=current_user)
    return jsonify(serialize.user(user))


@bp.post("/users/<int:user_id>/unlock")
@roles_required(*ADMINS)
@operation(tag="admin", ok=Unlocked)
def unlock_user(user_id: int):
    """Lift the account's sign-in lockouts, from every address (audited)."""
    addresses = accounts.unlock(accounts.get_user(user_id), actor=current_user)
    return jsonify(serialize.unlocked(addresses))


@bp.post("/users/<int:user_id>/reset-password")
@roles_required("admin")
@operation(tag="admin", json=PasswordReset, ok=PasswordResetDone)
def reset_password(user_id: int, json: PasswordReset):
    """Set a new password, or have one generated (shown only in this answer).

    Every token and session of the account ends, and its lockouts are lifted."""
    generated = accounts.reset_password(
        accounts.get_user(user_id), json.password, actor=current_user
    )
    return jsonify(serialize.password_reset(generated))


@bp.post("/users/<int:user_id>/revoke-sessions")
@roles_required("admin")
@operation(tag="admin", ok=SessionsRevoked)
def revoke_sessions(user_id: int):
    """End every token and session of the account (a lost phone); it can sign in again."""
    revoked = accounts.revoke_sessions(accounts.get_user(user_id), actor=current_user)
    return jsonify(serialize.sessions_revoked(revoked))


@bp.post("/units")
@roles_required(*ADMINS)
@operation(tag="admin", json=UnitCreate, ok=UnitRecord, status=201)
def create_unit(json: UnitCreate):
    """Register a unit; it starts off duty. A taken callsign is a 422 on `callsign`."""
    unit = fleet.create_unit(json.data(), actor=current_user)
    return jsonify(serialize.unit(unit)), 201


@bp.patch("/units/<int:unit_id>")
@roles_required("admin")
@operation(tag="admin", json=UnitChange, ok=UnitRecord, errors=(409,))
def update_unit(unit_id: int, json: UnitChange):
    """Change a unit's callsign, name, kind or sector (audited); 409 once it is retired."""
    unit = fleet.update_unit(units.get(unit_id), json.data(), actor=current_user)
    return jsonify(serialize.unit(unit, crew=fleet.current_crews([unit.id]).get(unit.id)))


@bp.delete("/units/<int:unit_id>")
@roles_required("admin")
@operation(tag="admin", ok=UnitRecord, errors=(409,))
def retire_unit(unit_id: int):
    """Retire a unit.

    Units are never deleted: their history stays. A retired unit is never routed again and
    its users are deactivated. 409 while it is on a job."""
    unit = fleet.retire_unit(unit_id, actor=current_user)
    return jsonify(serialize.unit(unit))


@bp.get("/units/<int:unit_id>/shifts")
@roles_required(*ADMINS)
@operation(tag="admin", ok=list[Shift])
def unit_shifts(unit_id: int):
    """The unit's latest shifts, newest first."""
    units.get(unit_id)
    return jsonify([serialize.shift(s) for s in fleet.shifts(unit_id)])


@bp.post("/units/<int:unit_id>/shifts")
@roles_required(*ADMINS)
@operation(tag="admin", json=ShiftCreate, ok=Shift, status=201, errors=(409,))
def set_crew(unit_id: int, json: ShiftCreate):
    """Set the crew on duty in the unit for a shift (from now, 12 hours, by default)."""
    shift = fleet.set_crew(units.get(unit_id), json.data(), actor=current_user)
    return jsonify(serialize.shift(shift)), 201


@bp.post("/sectors")
@roles_required("admin")
@operation(tag="admin", json=SectorCreate, ok=Sector, status=201)
def create_sector(json: SectorCreate):
    """Add a Polsek sector. A taken code is a 422 on `code`."""
    return jsonify(serialize.sector(fleet.create_sector(json.data(), actor=current_user))), 201


@bp.patch("/sectors/<int:sector_id>")
@roles_required("admin")
@operation(tag="admin", json=SectorChange, ok=Sector)
def update_sector(sector_id: int, json: SectorChange):
    """Change a sector's code, name, station position or phone (audited)."""
    sector = fleet.update_sector(sector_id, json.data(), actor=current_user)
    return jsonify(serialize.sector(sector))


@bp.patch("/agencies/<code>")
@roles_required("admin")
@operation(tag="admin", json=AgencyChange, ok=Agency, errors=(404,))
def update_agency(code: str, json: AgencyChange):
    """Set an agency's number (a short number or any Indonesian number) or take it out of
    the hand-off list (audited: `agency.updated`)."""
    agency = agencies.update(code, json.data(), actor=current_user)
    return jsonify(serialize_followups.agency(agency))


@bp.patch("/categories/<code>")
@roles_required("admin")
@operation(tag="admin", json=CategoryChange, ok=CategoryDefaults, errors=(404,))
def update_category(code: str, json: CategoryChange):
    """Set the center's default priority and number of units of a category.

    New tickets of the category get them unless the dispatcher chooses otherwise."""
    category = catalog_settings.update(code, json.data(), actor=current_user)
    return jsonify(serialize.category(category, catalog.get(code)))
