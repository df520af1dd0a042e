"""Users: list with last sign-in, create, change role and unit, deactivate, reset the
password, unlock, sign out everywhere."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import roles_required
from ..models.user import ROLES
from ..services import accounts, fleet
from ..services.errors import ServiceError
from . import bp
from .common import READERS, attempt, flash_error, number, text


@bp.route("/")
@roles_required(*READERS)
def index():
    return redirect(url_for("admin.users"))


@bp.get("/users")
@roles_required(*READERS)
def users():
    return render_template(
        "admin/users.html",
        users=accounts.list_users(),
        locked=accounts.locked_usernames(),
        units=fleet.list_units(include_retired=False),
        roles=ROLES if current_user.role == "admin" else ("dispatcher", "unit"),
    )


@bp.post("/users")
@roles_required(*READERS)
def create_user():
    form = request.form
    data = {
        "username": text(form, "username") or "",
        "password": form.get("password") or "",
        "role": text(form, "role"),
        "full_name": text(form, "full_name"),
    }
    if text(form, "unit_id"):
        data["unit_id"] = number(form, "unit_id")
    try:
        user = accounts.create_user(data, actor=current_user)
    except ServiceError as exc:
        flash_error(exc)
        return redirect(url_for("admin.users"))
    flash(_("User %(name)s created.", name=user.username))
    return redirect(url_for("admin.user", user_id=user.id))


@bp.get("/users/<int:user_id>")
@roles_required(*READERS)
def user(user_id: int):
    target = accounts.get_user(user_id)
    return render_template(
        "admin/user.html",
        user=target,
        lockouts=accounts.lockouts(target.username),
        units=fleet.list_units(include_retired=False),
        roles=ROLES,
        new_password=None,
    )


def _back(user_id: int) -> str:
    return url_for("admin.user", user_id=user_id)


@bp.post("/users/<int:user_id>/edit")
@roles_required("admin")
def edit_user(user_id: int):
    form = request.form
    data = {"role": text(form, "role"), "full_name": text(form, "full_name")}
    data["unit_id"] = number(form, "unit_id")
    target = accounts.get_user(user_id)
    return attempt(
        lambda: accounts.update_user(target, data, actor=current_user),
        _("Saved."),
        _back(user_id),
    )


@bp.post("/users/<int:user_id>/active")
@roles_required("admin")
def set_active(user_id: int):
    active = request.form.get("active") == "1"
    target = accounts.get_user(user_id)
    return attempt(
        lambda: accounts.set_active(target, active, actor=current_user),
        _("The account is active.")
        if active
        else _("The account is deactivated: signed out everywhere."),
        _back(user_id),
    )


@bp.post("/users/<int:user_id>/reset-password")
@roles_required("admin")
def reset_password(user_id: int):
    """The generated password is shown on this answer only (never stored in a cookie)."""
    target = accounts.get_user(user_id)
    chosen = request.form.get("password") or None
    try:
        generated = accounts.reset_password(target, chosen, actor=current_user)
    except ServiceError as exc:
        flash_error(exc)
        return redirect(_back(user_id))
    if generated is None:
        flash(_("The password is changed; the account is signed out everywhere."))
        return redirect(_back(user_id))
    return render_template(
        "admin/user.html",
        user=target,
        lockouts=[],
        units=fleet.list_units(include_retired=False),
        roles=ROLES,
        new_password=generated,
    )


@bp.post("/users/<int:user_id>/unlock")
@roles_required(*READERS)
def unlock(user_id: int):
    target = accounts.get_user(user_id)
    return attempt(
        lambda: accounts.unlock(target, actor=current_user),
        _("The account is unlocked."),
        _back(user_id),
    )


@bp.post("/users/<int:user_id>/revoke-sessions")
@roles_required("admin")
def revoke_sessions(user_id: int):
    target = accounts.get_user(user_id)
    return attempt(
        lambda: accounts.revoke_sessions(target, actor=current_user),
        _("Signed out everywhere."),
        _back(user_id),
    )
