"""Usernames and passwords: how a name is written, which passwords may be used, and their
argon2id hashes."""

from __future__ import annotations

import gzip
import os
import re
import secrets
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from ..config import Defaults

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
PASSWORD_MIN = 10
PASSWORD_MAX = 256
COMMON_PASSWORDS = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "data", "common-passwords.txt.gz"
)
# CALLCENTER_ARGON2_PROFILE's values (config.ARGON2_PROFILES): argon2id parameter sets.
_PROFILES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106-high-memory": profiles.RFC_9106_HIGH_MEMORY,
    "cheapest": profiles.CHEAPEST,
}


@cache
def _hasher_for(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(_PROFILES[profile])


def _hasher() -> PasswordHasher:
    """The hasher of the configured profile (the default one outside an app)."""
    if has_app_context():
        return _hasher_for(current_app.config["CALLCENTER_ARGON2_PROFILE"])
    return _hasher_for(Defaults.CALLCENTER_ARGON2_PROFILE)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def needs_rehash(stored_hash: str) -> bool:
    """Whether a hash was made with other parameters than the configured ones."""
    return _hasher().check_needs_rehash(stored_hash)


@cache
def _dummy_hash(profile: str) -> str:
    """Verified against when the username does not exist, so both paths cost the same."""
    return _hasher_for(profile).hash(secrets.token_urlsafe(16))


def verify(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; with no hash (no such user), a check
    against a dummy one, so that an unknown name costs as long as a wrong password."""
    if stored_hash is None:
        stored_hash = _dummy_hash(current_app.config["CALLCENTER_ARGON2_PROFILE"])
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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
