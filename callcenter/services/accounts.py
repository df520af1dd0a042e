"""Users, passwords, sign-in with lockout, and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db, reading
from ..models import ApiToken, SignInThrottle, Unit, User
from ..models.user import ROLES
from . import clock, events, sql
from .errors import Forbidden, Locked, NotFound, Unauthorized, ValidationError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
PASSWORD_MIN = 8
BAD_CREDENTIALS = _l("Wrong username or password.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    """Verified against when the username does not exist, so both paths cost the same."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _locked(throttle: SignInThrottle | None, now) -> bool:
    return bool(throttle and throttle.locked_until and throttle.locked_until > now)


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def authenticate(
    username: str, password: str, *, remote_addr: str | None = None, via: str = "page"
) -> User:
    """Check a password, with lockout; commit the outcome and its audit event.

    After ``CALLCENTER_LOCKOUT_FAILURES`` wrong passwords for one username, that username
    is refused for ``CALLCENTER_LOCKOUT_S`` seconds. Raises ``Unauthorized`` with one message
    for every wrong name or password, ``Locked`` while locked (for existing and unknown
    names alike), and returns the user otherwise.
    """
    cfg = current_app.config
    name = normalise_username(username)[:64]
    audit = {"username": name, "ip": remote_addr, "via": via}

    # The password is checked outside any write transaction: argon2 takes tens of
    # milliseconds, and on SQLite a write transaction holds the one write lock.
    db.session.rollback()
    with reading():
        user = db.session.scalars(db.select(User).where(User.username == name)).one_or_none()
        stored_hash = user.password_hash if user else None
        throttle = db.session.get(SignInThrottle, name)
        locked_before = _locked(throttle, clock.now())
        db.session.rollback()
    ok = not locked_before and _verify(stored_hash or _dummy_hash(), password or "")
    rehashed = hash_password(password) if ok and _hasher.check_needs_rehash(stored_hash) else None

    now = clock.now()
    sql.insert_ignore(SignInThrottle, {"username": name, "failures": 0})
    throttle = db.session.scalars(
        db.select(SignInThrottle).where(SignInThrottle.username == name).with_for_update()
    ).one()
    user = db.session.scalars(db.select(User).where(User.username == name)).one_or_none()
    if user is not None and user.password_hash != stored_hash:
        ok = False  # the password changed while it was being checked: check again later

    if _locked(throttle, now):
        events.record("auth.sign_in_failed", actor=user, data={**audit, "reason": "locked"})
        db.session.commit()
        minutes = max(1, int((throttle.locked_until - now).total_seconds() // 60) + 1)
        raise Locked(_l("Too many failed attempts. Try again in %(n)s minutes.", n=minutes))

    if not ok or user is None or not user.is_active:
        throttle.failures += 1
        throttle.last_failure_at = now
        events.record("auth.sign_in_failed", actor=user, data={**audit, "reason": "credentials"})
        locked = throttle.failures >= cfg["CALLCENTER_LOCKOUT_FAILURES"]
        if locked:
            throttle.locked_until = now + timedelta(seconds=cfg["CALLCENTER_LOCKOUT_S"])
            throttle.failures = 0
            events.record(
                "auth.locked_out",
                actor=user,
                data={**audit, "until": throttle.locked_until.isoformat()},
            )
        db.session.commit()
        if locked:
            minutes = max(1, cfg["CALLCENTER_LOCKOUT_S"] // 60)
            raise Locked(_l("Too many failed attempts. Try again in %(n)s minutes.", n=minutes))
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")

    throttle.failures = 0
    throttle.locked_until = None
    if rehashed:
        user.password_hash = rehashed
    user.last_sign_in_at = now
    events.record("auth.signed_in", actor=user, data=audit)
    db.session.commit()
    return user


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, ApiToken]:
    """A new bearer token for a signed-in user; only its digest is stored."""
    raw = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        token_hash=_digest(raw),
        expires_at=clock.now() + timedelta(seconds=current_app.config["CALLCENTER_TOKEN_TTL_S"]),
    )
    db.session.add(token)
    db.session.commit()
    return raw, token


def user_for_token(raw: str) -> tuple[User, ApiToken] | None:
    """The active user behind an unexpired, unrevoked token, or None."""
    token = db.session.scalars(
        db.select(ApiToken).where(ApiToken.token_hash == _digest(raw))
    ).one_or_none()
    if token is None or token.revoked_at is not None or token.expires_at <= clock.now():
        return None
    if not token.user.is_active:
        return None
    return token.user, token


def revoke_token(raw: str) -> None:
    """Revoke a token at once; commits with its audit event."""
    found = user_for_token(raw)
    if found is None:
        raise Unauthorized(_l("This token is not valid."), code="invalid_token")
    user, token = found
    token.revoked_at = clock.now()
    events.record("auth.token_revoked", actor=user, data={"token_id": token.id})
    db.session.commit()


def record_sign_out(user: User, *, session_id: str | None = None) -> None:
    """Audit a page sign-out; ``session_id`` names the session whose live streams end."""
    data = {"username": user.username}
    if session_id:
        data["session"] = session_id
    events.record("auth.signed_out", actor=user, data=data)
    db.session.commit()


def set_active(user: User, active: bool, *, actor: User | None = None) -> User:
    """Activate or deactivate an account; commits with its audit event. A deactivated user
    cannot sign in, every token of theirs stops working, and their live streams end."""
    if user.is_active_flag == active:
        return user
    user.is_active_flag = active
    events.record(
        "user.activated" if active else "user.deactivated",
        actor=actor,
        unit=user.unit_id,
        data={"user_id": user.id, "username": user.username},
    )
    db.session.commit()
    return user


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
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        errors["password"] = _l("At least %(n)s characters.", n=PASSWORD_MIN)
    elif len(password) > 256:
        errors["password"] = _l("At most %(n)s characters.", n=256)
    role = data.get("role")
    if role not in ROLES:
        errors["role"] = _l("One of: %(choices)s.", choices=", ".join(ROLES))
    full_name = data.get("full_name")
    if full_name is not None and (not isinstance(full_name, str) or len(full_name) > 120):
        errors["full_name"] = _l("At most %(n)s characters.", n=120)

    unit = None
    unit_ref = data.get("unit_id", data.get("unit"))
    if unit_ref not in (None, ""):
        if isinstance(unit_ref, int) and not isinstance(unit_ref, bool):
            unit = db.session.get(Unit, unit_ref)
        elif isinstance(unit_ref, str):
            unit = db.session.scalars(
                db.select(Unit).where(Unit.callsign == unit_ref.strip().upper())
            ).one_or_none()
        if unit is None:
            errors["unit_id"] = _l("No such unit.")
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
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ValidationError(
            _l("The user was not created."), fields={"username": _l("This username is taken.")}
        ) from None
    events.record(
        "user.created",
        actor=actor,
        unit=unit,
        data={"user_id": user.id, "username": username, "role": role},
    )
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


def users_by_id(ids) -> dict[int, User]:
    """The users with these ids (unknown ids are left out): names for an audit trail."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(wanted)))}
