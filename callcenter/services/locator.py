"""Finding the nearest available unit.

Two backends give the same answer on the same data:

- SQL (embedded default): a bounding-box query on the units table, then great-circle
  distances in Python.
- Redis (with ``REDIS_URL``): a GEO set of available units gives the nearest candidates
  in near-constant time; the database then confirms each candidate (status and position
  freshness) and the distance is computed from the database's position. The index may be
  stale; the database is the judge, and the claim itself is a conditional update.

The GEO set holds only what can be rebuilt: it is rebuilt when a worker starts, whenever
its marker key is missing (Redis restarted), and reconciled by the sweep.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

import redis
from flask import current_app

from ..extensions import db
from ..models import Unit
from . import bus, events, geo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    unit_id: int
    distance_m: float
    kind: str


def _key() -> str:
    return bus.key("geo", "available")


def _built_key() -> str:
    return bus.key("geo", "built")


def backend() -> str:
    return "redis" if current_app.config["REDIS_URL"] else "sql"


def nearest_available(
    lat: float,
    lon: float,
    *,
    radius_m: float,
    fresh_after: datetime,
    exclude: frozenset[int] | set[int] = frozenset(),
    limit: int = 5,
    use: str | None = None,
) -> list[Candidate]:
    """Up to ``limit`` available units with a position newer than ``fresh_after`` within
    ``radius_m`` of the point, nearest first (ties by id), skipping ``exclude``."""
    use = use or backend()
    if use == "redis" and not bus.quiet():
        try:
            return _redis_nearest(lat, lon, radius_m, fresh_after, exclude, limit)
        except redis.RedisError as exc:
            bus.failed()
            log.warning("GEO index unavailable, using SQL: %s", exc)
    return _sql_nearest(lat, lon, radius_m, fresh_after, exclude, limit)


def _rank(rows, lat, lon, radius_m, exclude, limit) -> list[Candidate]:
    found = []
    for unit_id, ulat, ulon, kind in rows:
        if unit_id in exclude:
            continue
        distance = geo.haversine_m(lat, lon, ulat, ulon)
        if distance <= radius_m:
            found.append(Candidate(unit_id, distance, kind))
    found.sort(key=lambda c: (c.distance_m, c.unit_id))
    return found[:limit]


def _available_fresh(fresh_after):
    return (Unit.status == "available", Unit.position_at >= fresh_after, Unit.lat.is_not(None))


def _sql_nearest(lat, lon, radius_m, fresh_after, exclude, limit) -> list[Candidate]:
    min_lat, max_lat, min_lon, max_lon = geo.bounding_box(lat, lon, radius_m)
    rows = db.session.execute(
        db.select(Unit.id, Unit.lat, Unit.lon, Unit.kind).where(
            *_available_fresh(fresh_after),
            Unit.lat.between(min_lat, max_lat),
            Unit.lon.between(min_lon, max_lon),
        )
    ).all()
    return _rank(rows, lat, lon, radius_m, exclude, limit)


# The first ring searched around the point; each further ring is three times wider.
RING_START_M = 2_000.0


def _redis_nearest(lat, lon, radius_m, fresh_after, exclude, limit) -> list[Candidate]:
    """Search rings of growing radius so that the work depends on how many units are near
    the point, not on the size of the fleet. Within a ring, Redis returns candidates nearest
    first; the database confirms them. Once a ring holds ``limit`` confirmed units, nothing
    outside it can be nearer."""
    conn = bus.client()
    if not conn.exists(_built_key()):
        rebuild()
    ring = min(radius_m, RING_START_M)
    while True:
        count = max(16, 2 * (limit + len(exclude)))
        while True:
            # A hair wider than the ring: Redis' own earth radius differs from ours.
            hits = conn.geosearch(
                _key(),
                longitude=lon,
                latitude=lat,
                radius=ring * 1.01,
                unit="m",
                sort="ASC",
                count=count,
            )
            complete = len(hits) < count
            ids = [int(h) for h in hits if int(h) not in exclude]
            if complete and len(ids) < limit and ring < radius_m:
                ranked = []  # too few even before confirming: widen without a query
                break
            rows = _confirm(ids, fresh_after)
            ranked = _rank(rows, lat, lon, ring, exclude, limit)
            if len(ranked) >= limit or complete:
                break
            count *= 4
        if len(ranked) >= limit or ring >= radius_m:
            return ranked
        ring = min(radius_m, ring * 3)


def _confirm(ids: list[int], fresh_after: datetime) -> list:
    """The candidates the database confirms: available, with a fresh position.

    Looked up by primary key only and filtered here: a status condition in the query could
    lead the planner to scan every available unit instead.
    """
    if not ids:
        return []
    rows = db.session.execute(
        db.select(Unit.id, Unit.lat, Unit.lon, Unit.kind, Unit.status, Unit.position_at).where(
            Unit.id.in_(ids)
        )
    ).all()
    return [
        (uid, ulat, ulon, kind)
        for uid, ulat, ulon, kind, status, position_at in rows
        if status == "available"
        and ulat is not None
        and position_at is not None
        and position_at >= fresh_after
    ]


def rebuild() -> int:
    """Rebuild the GEO set from the database; returns the number of units indexed."""
    conn = bus.client()
    if conn is None:
        return 0
    rows = db.session.execute(
        db.select(Unit.id, Unit.lat, Unit.lon).where(
            Unit.status == "available", Unit.lat.is_not(None)
        )
    ).all()
    tmp = _key() + ":tmp"
    pipe = conn.pipeline(transaction=True)
    pipe.delete(tmp)
    for start in range(0, len(rows), 5000):
        chunk = rows[start : start + 5000]
        values = []
        for unit_id, ulat, ulon in chunk:
            values.extend((ulon, ulat, unit_id))
        pipe.geoadd(tmp, values)
    if rows:
        pipe.rename(tmp, _key())
    else:
        pipe.delete(_key())
    pipe.set(_built_key(), str(time.time()))
    pipe.execute()
    return len(rows)


def reconcile() -> int:
    """Make the GEO set's members match the available units; returns entries fixed."""
    conn = bus.client()
    if conn is None:
        return 0
    if not conn.exists(_built_key()):
        rebuild()
        return 0
    rows = db.session.execute(
        db.select(Unit.id, Unit.lat, Unit.lon).where(
            Unit.status == "available", Unit.lat.is_not(None)
        )
    ).all()
    wanted = {r[0]: r for r in rows}
    have = {int(m) for m in conn.zrange(_key(), 0, -1)}
    missing = [wanted[i] for i in wanted.keys() - have]
    extra = list(have - wanted.keys())
    pipe = conn.pipeline(transaction=False)
    if missing:
        values = []
        for unit_id, ulat, ulon in missing:
            values.extend((ulon, ulat, unit_id))
        pipe.geoadd(_key(), values)
    if extra:
        pipe.zrem(_key(), *extra)
    pipe.execute()
    return len(missing) + len(extra)


def unit_changed(unit_id: int, status: str, lat: float | None, lon: float | None) -> None:
    """Keep the GEO set in step with a unit's status or position once this commits."""
    if not current_app.config["REDIS_URL"]:
        return

    def apply():
        conn = bus.client()
        try:
            if status == "available" and lat is not None:
                conn.geoadd(_key(), (lon, lat, unit_id))
            else:
                conn.zrem(_key(), unit_id)
        except redis.RedisError as exc:
            log.warning("GEO index not updated for unit %s: %s", unit_id, exc)

    events.after_commit(apply)


def queue_reason(
    lat: float,
    lon: float,
    *,
    radius_m: float,
    fresh_after: datetime,
    exclude: frozenset[int] | set[int],
) -> str:
    """Why no unit could be offered: ``none_available``, ``all_declined``,
    ``positions_stale`` or ``none_within_radius``."""

    def count(*where) -> int:
        return db.session.scalar(
            db.select(db.func.count()).select_from(Unit).where(Unit.status == "available", *where)
        )

    not_excluded = (Unit.id.not_in(exclude),) if exclude else ()
    if count() == 0:
        return "none_available"
    if exclude and count(*not_excluded) == 0:
        return "all_declined"
    if count(*not_excluded, Unit.position_at >= fresh_after) == 0:
        return "positions_stale"
    return "none_within_radius"
