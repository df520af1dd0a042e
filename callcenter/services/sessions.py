"""Signing in and out: the password check with lockout, API tokens, and page sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db, reading
from ..models import ApiToken, SignInThrottle, User
from . import clock, events, sql
from .credentials import hash_password, needs_rehash, normalise_username, verify
from .errors import Locked, Unauthorized

BAD_CREDENTIALS = _l("Wrong username or password.")


def _locked(throttle: SignInThrottle | None, now) -> bool:
    return bool(throttle and throttle.locked_until and throttle.locked_until > now)


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
    ok = not locked_before and verify(stored_hash, password or "")
    rehashed = hash_password(password) if ok and needs_rehash(stored_hash) else None

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
    end_sessions(user)
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


def end_sessions(user: User) -> None:
    """End every page session of ``user`` (within the caller's transaction)."""
    # A conditional increment: two sign-outs at once both take effect.
    db.session.execute(
        db.update(User)
        .where(User.id == user.id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user, ["session_version"])


def revoke_tokens(user: User) -> int:
    """Revoke every live API token of ``user`` (within the caller's transaction); returns
    how many."""
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
