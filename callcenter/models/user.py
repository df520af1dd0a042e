"""People who sign in, their API tokens, and the sign-in throttle."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

ROLES = ("dispatcher", "supervisor", "unit", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    locale: Mapped[str | None] = mapped_column(String(8))
    is_active_flag: Mapped[bool] = mapped_column("is_active", default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every page session carries the version it began under; raising it (sign-out,
    # deactivation, a password reset) ends them all on their next request.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit = relationship("Unit", lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_flag

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class SignInThrottle(db.Model):
    """Failed sign-ins per username and client address, kept whether or not the user exists.

    Keying on the name typed, not on the account, makes a lockout look the same for a
    real and an invented username, so the lockout cannot reveal who exists. Keying on the
    address too means a stranger elsewhere cannot lock a dispatcher out of their own desk.
    """

    __tablename__ = "sign_in_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


Index("ix_api_tokens_expires", ApiToken.expires_at)
