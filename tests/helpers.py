"""Factories and small helpers for the tests."""

from __future__ import annotations

import itertools
from datetime import timedelta

from callcenter.extensions import db
from callcenter.models import Assignment, Event, Ticket, Unit
from callcenter.services import accounts, clock, locator, sessions

PASSWORD = "correct-horse-110"
# Kepanjen, Kabupaten Malang: the centre of the test world.
KEPANJEN = (-8.1306, 112.5722)
_seq = itertools.count(1)


def offset(point, north_m: float = 0.0, east_m: float = 0.0):
    """A point ``north_m`` metres north and ``east_m`` metres east of ``point``."""
    import math

    lat, lon = point
    dlat = north_m / 111_320.0
    dlon = east_m / (111_320.0 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def ticket_payload(**overrides) -> dict:
    body = {
        "channel": "phone",
        "caller": {"name": "Budi Santoso", "phone": "0811-48-2000"},
        "category": "theft",
        "priority": 3,
        "summary": "Dompet dicopet di pasar",
        "location": {"lat": KEPANJEN[0], "lon": KEPANJEN[1], "address": "Pasar Kepanjen"},
    }
    body.update(overrides)
    return body


class Factory:
    """Creates rows through the services (so events are written as in production)."""

    def __init__(self, app):
        self.app = app

    def user(
        self,
        role: str = "dispatcher",
        *,
        username: str | None = None,
        unit_id: int | None = None,
        password: str = PASSWORD,
    ) -> dict:
        with self.app.app_context():
            user = accounts.create_user(
                {
                    "username": username or f"{role}{next(_seq)}",
                    "password": password,
                    "role": role,
                    "unit_id": unit_id,
                }
            )
            body = {"id": user.id, "username": user.username, "role": role, "unit_id": unit_id}
            db.session.remove()
            return body

    def token(self, user: dict) -> str:
        with self.app.app_context():
            from callcenter.models import User

            raw, _ = sessions.issue_token(db.session.get(User, user["id"]))
            db.session.remove()
            return raw

    def headers(self, role: str = "dispatcher", **kwargs) -> dict:
        user = self.user(role, **kwargs)
        return {"Authorization": f"Bearer {self.token(user)}"}

    def unit(
        self,
        *,
        callsign: str | None = None,
        point=KEPANJEN,
        status: str = "available",
        kind: str = "car",
        age_s: float = 0.0,
    ) -> int:
        """A unit at ``point`` whose last position is ``age_s`` seconds old."""
        with self.app.app_context():
            now = clock.now()
            unit = Unit(
                callsign=callsign or f"U-{next(_seq)}",
                name="Unit test",
                kind=kind,
                status=status,
                lat=point[0] if point else None,
                lon=point[1] if point else None,
                position_at=now - timedelta(seconds=age_s) if point else None,
                position_updated_at=now,
            )
            db.session.add(unit)
            db.session.flush()
            locator.unit_changed(unit.id, status, unit.lat, unit.lon)
            db.session.commit()
            unit_id = unit.id
            db.session.remove()
            return unit_id

    def unit_user(self, unit_id: int) -> dict:
        user = self.user("unit", unit_id=unit_id)
        return {"Authorization": f"Bearer {self.token(user)}"}

    # --- reading state back ---------------------------------------------------------------

    def ticket(self, ticket_id: int) -> Ticket:
        with self.app.app_context():
            ticket = db.session.get(Ticket, ticket_id)
            db.session.expunge_all()
            db.session.remove()
            return ticket

    def unit_row(self, unit_id: int) -> Unit:
        with self.app.app_context():
            unit = db.session.get(Unit, unit_id)
            db.session.expunge_all()
            db.session.remove()
            return unit

    def assignments(self, ticket_id: int | None = None) -> list[Assignment]:
        with self.app.app_context():
            query = db.select(Assignment).order_by(Assignment.id)
            if ticket_id is not None:
                query = query.where(Assignment.ticket_id == ticket_id)
            rows = list(db.session.scalars(query))
            db.session.expunge_all()
            db.session.remove()
            return rows

    def events(self, type_: str | None = None) -> list[Event]:
        with self.app.app_context():
            query = db.select(Event).order_by(Event.id)
            if type_ is not None:
                query = query.where(Event.type == type_)
            rows = list(db.session.scalars(query))
            db.session.expunge_all()
            db.session.remove()
            return rows

    def count(self, model) -> int:
        with self.app.app_context():
            n = db.session.scalar(db.select(db.func.count()).select_from(model))
            db.session.remove()
            return n

    def run(self, fn, *args, **kwargs):
        """Call a service function inside an app context."""
        with self.app.app_context():
            try:
                return fn(*args, **kwargs)
            finally:
                db.session.remove()


# Values of every wrong kind, and out of range, for any field of a JSON body.
ODD_VALUES = [None, True, 1.5, 10**30, -1, "", "x" * 5000, [], {}, {"a": [1]}]


def assert_odd_values_answered(client, headers: dict, bodies) -> None:
    """For each ``(method, path, body)``, each field given each odd value: taken, or a 4xx in
    the API's error shape (a 422 names its fields), never a 500."""
    for method, path, body in bodies:
        for field in body:
            for value in ODD_VALUES:
                sent = {**body, field: value}
                response = client.open(path, method=method, json=sent, headers=headers)
                assert response.status_code < 500, (path, sent)
                if response.status_code >= 400:
                    error = response.get_json()["error"]
                    assert error["code"] and error["message"], (path, sent)
                    if response.status_code == 422:
                        assert error["fields"], (path, sent)
