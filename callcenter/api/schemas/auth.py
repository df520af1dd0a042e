"""Signing in with a password for a bearer token, and who the caller is."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .common import Body, Out, Time

Role = Literal["dispatcher", "supervisor", "admin", "unit"]


class User(Out):
    """A user account as the API shows it."""

    id: int
    username: str
    full_name: str | None
    role: Role
    unit_id: int | None = Field(description="The unit a `unit` user signs in as.")
    locale: str | None = Field(description="`id` or `en`; null: the center's default.")
    active: bool


class TokenRequest(Body):
    username: Annotated[str, Field(min_length=1, max_length=200)]
    password: Annotated[str, Field(min_length=1, max_length=1000)]


class Token(Out):
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: Time
    user: User
