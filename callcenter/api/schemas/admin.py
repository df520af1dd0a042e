"""Administration: user accounts, units with their crews, Polsek sectors and the catalog's
local defaults."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...models.ticket import MAX_UNITS
from ...models.unit import UNIT_KINDS, UNIT_STATUSES
from ...services.credentials import PASSWORD_MAX, PASSWORD_MIN
from ...services.fleet import MAX_OFFICERS, MAX_SHIFT_H
from .auth import Role, User
from .common import Body, Id, Label, Out, Sector, Time, TimeText, omittable
from .units import UnitLocation

UnitKind = Literal[UNIT_KINDS]  # type: ignore[valid-type]


# --- users ---------------------------------------------------------------------------------

Password = Annotated[
    str,
    Field(
        max_length=PASSWORD_MAX,
        # The length is the service's to check, so that a short password hears why.
        json_schema_extra={"minLength": PASSWORD_MIN},
        description=(
            f"At least {PASSWORD_MIN} characters, not a common password and not the username."
        ),
    ),
]
UnitRef = Annotated[
    Id | Annotated[str, Field(max_length=32)],
    Field(description="The unit's id, or its callsign."),
]
FullName = Annotated[str, Field(max_length=120)]


class UserAccount(User):
    """A user account as administration shows it."""

    unit_callsign: str | None = Field(description="The callsign of the user's unit.")
    last_sign_in_at: Time | None
    created_at: Time
    password_changed_at: Time | None = Field(
        description="The last reset; null: the password set when the account was made."
    )
    locked_out: bool = Field(
        description="Locked out of signing in (too many wrong passwords) from some address."
    )


class UserCreate(Body):
    """A new account. Supervisors create `dispatcher` and `unit` accounts only."""

    username: str = Field(
        max_length=64,
        description="2-64 characters: lower-case letters, digits, dot, dash or underscore "
        "(upper case is folded to lower case).",
    )
    password: Password
    role: Role
    unit_id: UnitRef | None = Field(
        None, description="A `unit` user's unit (id or callsign); other roles have none."
    )
    unit: UnitRef | None = Field(None, description="The same as `unit_id` (either may be given).")
    full_name: FullName | None = None


class UserChange(Body):
    """What to change (admin only). A change of role or unit ends the account's sessions;
    nobody changes their own role or deactivates themselves."""

    role: Role = omittable()
    unit_id: UnitRef | None = Field(
        None, description="The unit (id or callsign) of a `unit` user; null: none."
    )
    unit: UnitRef | None = Field(None, description="The same as `unit_id`.")
    full_name: FullName | None = None
    active: bool = omittable(description="false deactivates the account (as DELETE does).")


class PasswordReset(Body):
    password: Password | None = Field(
        None, description="The new password; leave it out to have one generated."
    )


class PasswordResetDone(Out):
    """Empty when the admin chose the password."""

    password: str | None = Field(
        None, description="The generated password: shown only in this answer."
    )


class Unlocked(Out):
    unlocked: int = Field(description="How many client addresses were locked out.")


class SessionsRevoked(Out):
    tokens_revoked: int = Field(description="How many bearer tokens were revoked.")


# --- sectors -------------------------------------------------------------------------------


Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Code = Annotated[
    str, Field(max_length=32, description="2-32 letters, digits and dashes (upper-cased).")
]


class SectorCreate(Body):
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=120)]
    lat: Latitude | None = Field(None, description="The station; inside Indonesia.")
    lon: Longitude | None = None
    phone: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="An Indonesian number in any usual form; stored as E.164."
    )


class SectorChange(Body):
    code: Code = omittable()
    name: Annotated[str, Field(min_length=1, max_length=120)] = omittable()
    lat: Latitude | None = Field(
        None, description="Give `lat` and `lon` together; both null: no position."
    )
    lon: Longitude | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None


# --- units ---------------------------------------------------------------------------------


class Officer(Body):
    name: Annotated[str, Field(min_length=2, max_length=120)]
    nrp: str = Field(description="The officer's NRP: 8 digits (spaces are ignored).")


class OfficerOut(Out):
    name: str
    nrp: str


class Shift(Out):
    """The crew on duty in a unit for one shift."""

    id: int
    unit_id: int
    starts_at: Time
    ends_at: Time
    officers: list[OfficerOut]


class ShiftCreate(Body):
    """A later shift that overlaps takes over from the earlier one."""

    officers: Annotated[list[Officer], Field(min_length=1, max_length=MAX_OFFICERS)]
    starts_at: TimeText | None = Field(None, description="Default: now. At most a day ago.")
    hours: Annotated[int, Field(ge=1, le=MAX_SHIFT_H)] = Field(
        12, description="The shift's length in hours."
    )


class Unit(Out):
    """A patrol unit."""

    id: int
    callsign: str
    name: str
    kind: UnitKind
    sector: Sector | None
    status: Literal[UNIT_STATUSES]  # type: ignore[valid-type]
    status_reason: str | None
    status_changed_at: Time
    location: UnitLocation | None = Field(description="The last applied position.")
    position_at: Time | None = Field(description="When the device measured that position.")
    position_age_s: float | None
    retired: bool


class UnitRecord(Unit):
    """A unit as administration shows it: with its crew on duty."""

    retired_at: Time | None
    crew: Shift | None = Field(description="The shift on duty now.")


SectorRef = Annotated[
    Id | Annotated[str, Field(max_length=120)],
    Field(description="The sector's id, code or name."),
]


class UnitCreate(Body):
    """A new unit; it starts off duty."""

    callsign: Code
    name: Annotated[str, Field(min_length=1, max_length=120)]
    sector: Annotated[str, Field(max_length=120)] | None = Field(
        None, description="The sector's code or name."
    )
    kind: UnitKind = "car"


class UnitChange(Body):
    callsign: Code = omittable()
    name: Annotated[str, Field(min_length=1, max_length=120)] = omittable()
    kind: UnitKind = omittable()
    sector: SectorRef | None = Field(None, description="The sector's id, code or name; null: none.")


# --- the catalog's local defaults ------------------------------------------------------------


class CategoryDefaults(Out):
    """A category of the catalog with the center's own defaults applied."""

    code: str
    label: Label
    apco_code: str
    default_priority: int = Field(description="1 (life at risk) ... 4 (non-urgent).")
    default_units: int
    dispatch: bool = Field(description="false: a disposition that never sends a unit.")
    intake: bool = Field(description="Whether a call may be logged under it.")
    handoff: str | None = Field(None, description="The agency a call is also handed on to.")
    handoff_agency: str | None = Field(None, description="That agency's code.")
    handoff_only: bool
    catalog_priority: int = Field(description="The catalog's own default priority.")
    catalog_units: int = Field(description="The catalog's own default number of units.")


class CategoryChange(Body):
    """Only categories that send units have defaults to tune; null restores the catalog's."""

    default_priority: Annotated[int, Field(ge=1, le=4)] | None = None
    default_units: Annotated[int, Field(ge=1, le=MAX_UNITS)] | None = None
