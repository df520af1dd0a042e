"""JSON shapes of the administration API."""

from __future__ import annotations

from ..models import Sector, Unit, UnitShift, User
from ..services import catalog
from . import serialize, serialize_units


def account(u: User) -> dict:
    """A user account, as the API shows it to the user and to administrators."""
    return {
        "id": u.id,
        "username": u.username,
        "full_name": u.full_name,
        "role": u.role,
        "unit_id": u.unit_id,
        "locale": u.locale,
        "active": u.is_active_flag,
    }


def user(u: User, *, locked: bool = False) -> dict:
    return account(u) | {
        "unit_callsign": u.unit.callsign if u.unit else None,
        "last_sign_in_at": u.last_sign_in_at,
        "created_at": u.created_at,
        "password_changed_at": u.password_changed_at,
        "locked_out": locked,
    }


def users(rows: list[User], locked: set[str]) -> list[dict]:
    """``locked``: the usernames locked out of signing in now."""
    return [user(u, locked=u.username in locked) for u in rows]


def unlocked(addresses: int) -> dict:
    return {"unlocked": addresses}


def password_reset(generated: str | None) -> dict:
    """The generated password, shown once; nothing when the admin chose it."""
    return {"password": generated} if generated else {}


def sessions_revoked(tokens: int) -> dict:
    return {"tokens_revoked": tokens}


def shift(s: UnitShift | None) -> dict | None:
    """The crew on duty in a unit for one shift."""
    if s is None:
        return None
    return {
        "id": s.id,
        "unit_id": s.unit_id,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "officers": list(s.officers or []),
    }


def unit(u: Unit, *, crew: UnitShift | None = None, now=None) -> dict:
    """A patrol unit as administration sees it: its record, and its crew on duty."""
    return serialize_units.record(u, now) | {"retired_at": u.retired_at, "crew": shift(crew)}


def sector(s: Sector) -> dict:
    return serialize_units.sector(s)


def category(c: catalog.Category, base: catalog.Category) -> dict:
    return c.to_json() | {
        "catalog_priority": base.default_priority,
        "catalog_units": base.default_units,
    }


def audit_event(e, names: dict) -> dict:
    """An event of the audit view, with the names of what it refers to."""
    return serialize.event(e) | {
        "ticket_number": names["tickets"].get(e.ticket_id),
        "unit_callsign": names["units"].get(e.unit_id),
        "actor": names["users"].get(e.actor_id),
    }


AUDIT_CSV_COLUMNS = (
    "id",
    "at_wib",
    "type",
    "ticket_id",
    "ticket_number",
    "unit_id",
    "unit_callsign",
    "actor_id",
    "actor",
    "data",
)


def audit_csv_row(e, names: dict) -> list:
    import json

    from ..services.clock import to_wib

    return [
        e.id,
        to_wib(e.at).isoformat(timespec="seconds"),
        e.type,
        e.ticket_id or "",
        names["tickets"].get(e.ticket_id, ""),
        e.unit_id or "",
        names["units"].get(e.unit_id, ""),
        e.actor_id or "",
        names["users"].get(e.actor_id, ""),
        json.dumps(e.data or {}, ensure_ascii=False, sort_keys=True, default=str),
    ]
