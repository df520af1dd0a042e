"""Account administration: users and their roles and units, activation, password resets,
sign-in lockouts lifted, and the language each person reads in."""

from __future__ import annotations

import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import SignInThrottle, Unit, User
from ..models.user import ROLES
from . import clock, events, sql
from .credentials import USERNAME_RE, hash_password, normalise_username, password_problem
from .errors import Forbidden, NotFound, ValidationError
from .sessions import end_sessions, revoke_tokens
from .validation import is_id


def set_active(user: User, active: bool, *, actor: User | None = None) -> User:
    """Activate or deactivate an account; commits with its audit event. A deactivated user
    cannot sign in, every token and page session of theirs ends at once (revoked, so that
    reactivating the account does not revive them), and their live streams end."""
    if user.is_active_flag == active:
        return user
    if not active and actor is not None and actor.id == user.id:
        raise ValidationError(_l("You cannot deactivate your own account."))
    if active:
        user.is_active_flag = True
        events.record(
            "user.activated",
            actor=actor,
            unit=user.unit_id,
            data={"user_id": user.id, "username": user.username},
        )
    else:
        deactivate(user, actor=actor)
    db.session.commit()
    return user


def deactivate(user: User, *, actor: User | None = None) -> None:
    """Deactivate ``user`` within the caller's transaction (no commit): tokens revoked,
    sessions ended, the ``user.deactivated`` event (which ends the live streams) queued."""
    user.is_active_flag = False
    revoked = revoke_tokens(user)
    end_sessions(user)
    events.record(
        "user.deactivated",
        actor=actor,
        unit=user.unit_id,
        data={"user_id": user.id, "username": user.username, "tokens_revoked": revoked},
    )


def revoke_sessions(user: User, *, actor: User | None = None) -> int:
    """Sign an account out everywhere (a lost phone): every token and page session ends,
    and its live streams; commits with its audit event. Returns the tokens revoked."""
    revoked = revoke_tokens(user)
    end_sessions(user)
    events.record(
        "user.sessions_revoked",
        actor=actor,
        unit=user.unit_id,
        data={"user_id": user.id, "username": user.username, "tokens_revoked": revoked},
    )
    db.session.commit()
    return revoked


def reset_password(user: User, password: str | None = None, *, actor: User | None = None):
    """Give ``user`` a new password: ``password`` when the admin sets one, otherwise a
    generated one (returned, to be shown once). Every token and session of the account
    ends, its streams too, and its sign-in lockouts are lifted; commits with its audit
    event (which never holds the password)."""
    generated = password is None
    if generated:
        password = secrets.token_urlsafe(12)
    problem = password_problem(password, user.username)
    if problem:
        raise ValidationError(_l("The password was not changed."), fields={"password": problem})
    user.password_hash = hash_password(password)
    user.password_changed_at = clock.now()
    revoked = revoke_tokens(user)
    end_sessions(user)
    db.session.execute(db.delete(SignInThrottle).where(SignInThrottle.username == user.username))
    events.record(
        "user.password_reset",
        actor=actor,
        unit=user.unit_id,
        data={
            "user_id": user.id,
            "username": user.username,
            "generated": generated,
            "tokens_revoked": revoked,
        },
    )
    db.session.commit()
    return password if generated else None


def lockouts(username: str) -> list[SignInThrottle]:
    """The addresses from which ``username`` is locked out now."""
    return list(
        db.session.scalars(
            db.select(SignInThrottle).where(
                SignInThrottle.username == normalise_username(username),
                SignInThrottle.locked_until > clock.now(),
            )
        )
    )


def unlock(user: User, *, actor: User | None = None) -> int:
    """Lift every sign-in lockout of ``user`` (from any address); commits with its audit
    event. Returns how many addresses were locked out."""
    locked = len(lockouts(user.username))
    db.session.execute(db.delete(SignInThrottle).where(SignInThrottle.username == user.username))
    events.record(
        "user.unlocked",
        actor=actor,
        unit=user.unit_id,
        data={"user_id": user.id, "username": user.username, "addresses": locked},
    )
    db.session.commit()
    return locked


def create_user(data: dict, *, actor: User | None = None) -> User:
    """Create a user from ``{username, password, role, unit_id?|unit?, full_name?}``.

    A ``unit`` user must be bound to a unit (by id or callsign); other roles must not be.
    """
    errors = {}
    allowed = {"username", "password", "role", "unit_id", "unit", "full_name"}
    for name in sorted(set(data) - allowed):
        errors[name] = _l("Unknown field.")
    username = normalise_username(data.get("username") or "")
    if not USERNAME_RE.match(username):
        errors["username"] = _l(
            "2-64 characters: lower-case letters, digits, dot, dash or underscore."
        )
    password = data.get("password")
    problem = password_problem(password, username)
    if problem:
        errors["password"] = problem
    role = data.get("role")
    if role not in ROLES:
        errors["role"] = _l("One of: %(choices)s.", choices=", ".join(ROLES))
    full_name = data.get("full_name")
    if full_name is not None and (not isinstance(full_name, str) or len(full_name) > 120):
        errors["full_name"] = _l("At most %(n)s characters.", n=120)

    unit = None
    unit_ref = data.get("unit_id", data.get("unit"))
    if unit_ref not in (None, ""):
        unit = _unit_ref(unit_ref, errors)
    if role == "unit" and unit is None and "unit_id" not in errors:
        errors["unit_id"] = _l("A unit user needs a unit.")
    if role in ROLES and role != "unit" and unit is not None:
        errors["unit_id"] = _l("Only unit users belong to a unit.")
    if errors:
        raise ValidationError(_l("The user was not created."), fields=errors)
    if actor is not None and actor.role != "admin" and role in ("admin", "supervisor"):
        raise Forbidden(_l("Only an admin may create admin or supervisor accounts."))

    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        unit_id=unit.id if unit else None,
        full_name=full_name,
    )
    db.session.add(user)
    sql.flush_unique(_l("The user was not created."), {"username": _l("This username is taken.")})
    events.record(
        "user.created",
        actor=actor,
        unit=unit,
        data={"user_id": user.id, "username": username, "role": role},
    )
    db.session.commit()
    return user


def _unit_ref(ref, errors: dict) -> Unit | None:
    unit = None
    if is_id(ref):
        unit = db.session.get(Unit, ref)
    elif isinstance(ref, str):
        unit = db.session.scalars(
            db.select(Unit).where(Unit.callsign == ref.strip().upper())
        ).one_or_none()
    if unit is None or unit.retired_at is not None:
        errors["unit_id"] = _l("No such unit.")
        return None
    return unit


def update_user(user: User, data: dict, *, actor: User) -> User:
    """Change a user's ``role``, ``unit_id`` (or ``unit`` callsign), ``full_name`` or
    ``active``; commits with one ``user.updated`` event naming what changed (and
    ``user.deactivated``/``user.activated``). A unit user needs a unit, others have none;
    nobody changes their own role or deactivates themselves. A role change ends the
    account's sessions and tokens, so that no screen keeps the old role's powers."""
    errors = {}
    for name in sorted(set(data) - {"role", "unit_id", "unit", "full_name", "active"}):
        errors[name] = _l("Unknown field.")
    role = data.get("role", user.role)
    if role not in ROLES:
        errors["role"] = _l("One of: %(choices)s.", choices=", ".join(ROLES))
    unit_id = user.unit_id
    if "unit_id" in data or "unit" in data:
        ref = data.get("unit_id", data.get("unit"))
        unit_id = None if ref in (None, "") else getattr(_unit_ref(ref, errors), "id", None)
    elif role != "unit":
        unit_id = None  # a user leaving the unit role leaves its unit
    if role == "unit" and unit_id is None and "unit_id" not in errors:
        errors["unit_id"] = _l("A unit user needs a unit.")
    if role in ROLES and role != "unit" and unit_id is not None:
        errors["unit_id"] = _l("Only unit users belong to a unit.")
    full_name = data.get("full_name", user.full_name)
    if full_name is not None and (not isinstance(full_name, str) or len(full_name) > 120):
        errors["full_name"] = _l("At most %(n)s characters.", n=120)
    active = data.get("active", user.is_active_flag)
    if not isinstance(active, bool):
        errors["active"] = _l("true or false.")
    if errors:
        raise ValidationError(_l("The user was not changed."), fields=errors)
    if actor.id == user.id and (role != user.role or not active):
        raise ValidationError(_l("You cannot change your own role or deactivate yourself."))
    if actor.role != "admin":
        raise Forbidden(_l("Only an admin may change accounts."))

    changes = {}
    for name, before, after in (
        ("role", user.role, role),
        ("unit_id", user.unit_id, unit_id),
        ("full_name", user.full_name, (full_name or "").strip() or None),
    ):
        if before != after:
            changes[name] = {"from": before, "to": after}
            setattr(user, name, after)
    if changes:
        if "role" in changes or "unit_id" in changes:
            revoke_tokens(user)
            end_sessions(user)
        events.record(
            "user.updated",
            actor=actor,
            unit=user.unit_id,
            data={"user_id": user.id, "username": user.username, "changes": changes},
        )
    if active != user.is_active_flag:
        return set_active(user, active, actor=actor)  # commits
    db.session.commit()
    return user


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise ValidationError(_l("Unknown language."), fields={"locale": _l("Unknown language.")})
    user.locale = locale
    events.record("user.locale_changed", actor=user, data={"locale": locale})
    db.session.commit()


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(db.select(User).order_by(User.username)))


def locked_usernames() -> set[str]:
    """The usernames locked out now from at least one address."""
    return set(
        db.session.scalars(
            db.select(SignInThrottle.username)
            .where(SignInThrottle.locked_until > clock.now())
            .distinct()
        )
    )


def users_by_id(ids) -> dict[int, User]:
    """The users with these ids (unknown ids are left out): names for an audit trail."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(wanted)))}
