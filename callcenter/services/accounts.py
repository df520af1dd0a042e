"""Users, passwords, sign-in with lockout, and API tokens."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import secrets
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db, reading
from ..models import ApiToken, SignInThrottle, Unit, User
from ..models.user import ROLES
from . import clock, events, sql
from .errors import Forbidden, Locked, NotFound, Unauthorized, ValidationError
from .validation import is_id

# CALLCENTER_ARGON2_PROFILE's values (config.ARGON2_PROFILES): argon2id parameter sets.
_PROFILES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106-high-memory": profiles.RFC_9106_HIGH_MEMORY,
    "cheapest": profiles.CHEAPEST,
}
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
PASSWORD_MIN = 10
PASSWORD_MAX = 256
COMMON_PASSWORDS = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "data", "common-passwords.txt.gz"
)
BAD_CREDENTIALS = _l("Wrong username or password.")


@cache
def _hasher_for(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(_PROFILES[profile])


def _hasher() -> PasswordHasher:
    """The hasher of the configured profile (the default one outside an app)."""
    profile = (
        current_app.config["CALLCENTER_ARGON2_PROFILE"]
        if has_app_context()
        else "rfc9106-low-memory"
    )
    return _hasher_for(profile)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


@cache
def _dummy_hash(profile: str) -> str:
    """Verified against when the username does not exist, so both paths cost the same."""
    return _hasher_for(profile).hash(secrets.token_urlsafe(16))


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _locked(throttle: SignInThrottle | None, now) -> bool:
    return bool(throttle and throttle.locked_until and throttle.locked_until > now)


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


@cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


def password_problem(password, username: str | None = None):
    """Why ``password`` may not be used (a message), or None when it may.

    At least ``PASSWORD_MIN`` characters, not a common password (a bundled list of 20,000),
    and not the username.
    """
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        return _l("At least %(n)s characters.", n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        return _l("At most %(n)s characters.", n=PASSWORD_MAX)
    folded = password.strip().lower()
    if folded in _common_passwords() or (username and folded == normalise_username(username)):
        return _l("This password is too common. Choose another.")
    return None


def _lock_delay(failures: int) -> timedelta:
    """The delay after ``failures`` consecutive failures: none before the threshold, then
    ``CALLCENTER_LOCKOUT_S``, doubling with every further failure up to the maximum."""
    cfg = current_app.config
    over = failures - cfg["CALLCENTER_LOCKOUT_FAILURES"]
    if over < 0:
        return timedelta(0)
    seconds = cfg["CALLCENTER_LOCKOUT_S"] * 2 ** min(over, 20)
    return timedelta(seconds=min(seconds, cfg["CALLCENTER_LOCKOUT_MAX_S"]))


def _locked_message(until, now):
    minutes = max(1, int((until - now).total_seconds() // 60) + 1)
    return _l("Too many failed attempts. Try again in %(n)s minutes.", n=minutes)


def authenticate(
    username: str, password: str, *, remote_addr: str | None = None, via: str = "page"
) -> User:
    """Check a password, with lockout; commit the outcome and its audit event.

    Failures count per username *and* client address: after ``CALLCENTER_LOCKOUT_FAILURES``
    wrong passwords for one name from one address, that name is refused from that address
    for ``CALLCENTER_LOCKOUT_S`` seconds, twice as long after each further failure (up to
    ``CALLCENTER_LOCKOUT_MAX_S``). A stranger elsewhere therefore cannot lock anyone out.
    Failures older than the maximum delay are forgotten. Raises ``Unauthorized`` with one
    message for every wrong name or password, ``Locked`` while locked (for existing and
    unknown names alike), and returns the user otherwise.
    """
    cfg = current_app.config
    name = normalise_username(username)[:64]
    address = (remote_addr or "unknown")[:64]
    audit = {"username": name, "ip": remote_addr, "via": via}

    # The password is checked outside any write transaction: argon2 takes tens of
    # milliseconds, and on SQLite a write transaction holds the one write lock.
    db.session.rollback()
    with reading():
        user = db.session.scalars(db.select(User).where(User.username == name)).one_or_none()
        stored_hash = user.password_hash if user else None
        throttle = db.session.scalars(
            db.select(SignInThrottle).where(
                SignInThrottle.username == name, SignInThrottle.address == address
            )
        ).one_or_none()
        locked_before = _locked(throttle, clock.now())
        db.session.rollback()
    ok = not locked_before and _verify(
        stored_hash or _dummy_hash(cfg["CALLCENTER_ARGON2_PROFILE"]),
        password or "",
    )
    rehashed = hash_password(password) if ok and _hasher().check_needs_rehash(stored_hash) else None

    now = clock.now()
    sql.insert_ignore(SignInThrottle, {"username": name, "address": address, "failures": 0})
    throttle = db.session.scalars(
        db.select(SignInThrottle)
        .where(SignInThrottle.username == name, SignInThrottle.address == address)
        .with_for_update()
    ).one()
    user = db.session.scalars(db.select(User).where(User.username == name)).one_or_none()
    if user is not None and user.password_hash != stored_hash:
        ok = False  # the password changed while it was being checked: check again later

    if _locked(throttle, now):
        events.record("auth.sign_in_failed", actor=user, data={**audit, "reason": "locked"})
        db.session.commit()
        raise Locked(_locked_message(throttle.locked_until, now))
    forget = timedelta(seconds=cfg["CALLCENTER_LOCKOUT_MAX_S"])
    if throttle.last_failure_at and now - throttle.last_failure_at > forget:
        throttle.failures = 0

    if not ok or user is None or not user.is_active:
        throttle.failures += 1
        throttle.last_failure_at = now
        events.record("auth.sign_in_failed", actor=user, data={**audit, "reason": "credentials"})
        delay = _lock_delay(throttle.failures)
        if delay:
            throttle.locked_until = now + delay
            events.record(
                "auth.locked_out",
                actor=user,
                data={**audit, "until": throttle.locked_until.isoformat()},
            )
        db.session.commit()
        if delay:
            raise Locked(_locked_message(now + delay, now))
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
    """Sign a person out: every page session of the account ends (a copied cookie too),
    and the live streams of ``session_id`` end; commits with its audit event. Bearer
    tokens (a unit's device) are not touched."""
    data = {"username": user.username}
    if session_id:
        data["session"] = session_id
    _end_sessions(user)
    events.record("auth.signed_out", actor=user, data=data)
    db.session.commit()


def session_valid(user: User, version, started_at, now_ts: float) -> bool:
    """Whether a page session that began at ``started_at`` (epoch seconds) under session
    ``version`` may still act for ``user``: the version is current and the session is
    younger than ``CALLCENTER_SESSION_MAX_H``, whatever its idle time."""
    if not user.is_active or version != user.session_version:
        return False
    if not isinstance(started_at, int | float):
        return False
    return now_ts - started_at < current_app.config["CALLCENTER_SESSION_MAX_H"] * 3600


def _end_sessions(user: User) -> None:
    # A conditional increment: two sign-outs at once both take effect.
    db.session.execute(
        db.update(User)
        .where(User.id == user.id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user, ["session_version"])


def _revoke_tokens(user: User) -> int:
    now = clock.now()
    result = db.session.execute(
        db.update(ApiToken)
        .where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


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
    revoked = _revoke_tokens(user)
    _end_sessions(user)
    events.record(
        "user.deactivated",
        actor=actor,
        unit=user.unit_id,
        data={"user_id": user.id, "username": user.username, "tokens_revoked": revoked},
    )


def revoke_sessions(user: User, *, actor: User | None = None) -> int:
    """Sign an account out everywhere (a lost phone): every token and page session ends,
    and its live streams; commits with its audit event. Returns the tokens revoked."""
    revoked = _revoke_tokens(user)
    _end_sessions(user)
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
    revoked = _revoke_tokens(user)
    _end_sessions(user)
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
            _revoke_tokens(user)
            _end_sessions(user)
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
