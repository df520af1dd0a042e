"""JSON shapes of the administration API."""

from __future__ import annotations

from ..models import Sector, Unit, UnitShift, User
from ..services import catalog


def user(u: User, *, locked: bool = False) -> dict:
    return u.to_json() | {
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
    return s.to_json() if s is not None else None


def unit(u: Unit, *, crew: UnitShift | None = None, now=None) -> dict:
    return u.to_json(now) | {
        "retired_at": u.retired_at,
        "crew": shift(crew),
    }


def sector(s: Sector) -> dict:
    return s.to_json()


def category(c: catalog.Category, base: catalog.Category) -> dict:
    return c.to_json() | {
        "catalog_priority": base.default_priority,
        "catalog_units": base.default_units,
    }


def audit_event(e, names: dict) -> dict:
    """An event of the audit view, with the names of what it refers to."""
    return e.to_json() | {
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
