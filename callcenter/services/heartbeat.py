"""The worker's heartbeat: each sweep run by a worker (scheduled by beat, carried by the
broker) writes it, so a fresh heartbeat proves all three work."""

from __future__ import annotations

import socket

from flask import current_app

from ..extensions import db
from ..models import Heartbeat
from . import clock, sql

WORKER = "worker"


def beat(name: str = WORKER) -> None:
    """Record that ``name`` works now; commits."""
    now = clock.now()
    sql.upsert(Heartbeat, {"name": name, "at": now, "host": socket.gethostname()}, ["at", "host"])
    db.session.commit()


def age_s(name: str = WORKER) -> float | None:
    """Seconds since ``name`` last beat, or None when it never did. Reads only."""
    at = db.session.scalar(db.select(Heartbeat.at).where(Heartbeat.name == name))
    return None if at is None else max(0.0, (clock.now() - at).total_seconds())


def worker_check() -> dict:
    """``{ok, age_s, max_age_s}`` for the worker's heartbeat; ``ok`` is always true when
    ``CALLCENTER_HEARTBEAT_MAX_AGE_S`` is 0 (no worker expected)."""
    max_age = float(current_app.config["CALLCENTER_HEARTBEAT_MAX_AGE_S"])
    age = age_s()
    ok = max_age <= 0 or (age is not None and age <= max_age)
    return {"ok": ok, "age_s": None if age is None else round(age, 1), "max_age_s": max_age}
