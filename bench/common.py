"""Shared pieces of the benchmarks: throw-away databases, unit fleets, percentiles."""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import statistics
import tempfile
from datetime import timedelta

import psycopg
import redis
from sqlalchemy import insert

PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# Java and Bali: the area the fleets are spread over for the lookup benchmark.
JAVA = (-8.8, -6.0, 105.0, 114.6)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def summary_ms(samples_s: list[float]) -> str:
    ms = [s * 1000 for s in samples_s]
    if not ms:
        return "no samples"
    return (
        f"p50 {statistics.median(ms):8.2f} ms   p99 {percentile(ms, 0.99):8.2f} ms   (n={len(ms)})"
    )


@contextlib.contextmanager
def stack(kind: str):
    """A throw-away configuration: ``embedded`` (SQLite files, no Redis) or ``production``
    (a new PostgreSQL database and a Redis key prefix of its own). Yields the settings."""
    run = secrets.token_hex(4)
    prefix = f"ccbench{run}"
    with tempfile.TemporaryDirectory(prefix="cc110-bench-") as tmp:
        config = {
            "SECRET_KEY": "bench-" + run,
            "CALLCENTER_REDIS_PREFIX": prefix,
            "CALLCENTER_QUEUE": prefix,
            "CALLCENTER_LOGIN_RATE": "100000/minute",
            "CALLCENTER_POSITION_MAX_AGE_S": 3600,
        }
        name = None
        if kind == "production":
            name = f"cc_bench_{run}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            base = PG_ADMIN_URL.rpartition("/")[0]
            config.update(
                DATABASE_URL=f"{base}/{name}",
                REDIS_URL=REDIS_URL,
                CALLCENTER_RESULT_BACKEND=REDIS_URL,
            )
        else:
            config.update(
                DATABASE_URL=f"sqlite:///{tmp}/callcenter.sqlite",
                REDIS_URL="",
                CALLCENTER_BROKER_URL=f"sqla+sqlite:///{tmp}/broker.sqlite",
                CALLCENTER_RESULT_BACKEND=f"db+sqlite:///{tmp}/results.sqlite",
            )
        config["_TMP"] = tmp
        try:
            yield config
        finally:
            if name:
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn = redis.Redis.from_url(REDIS_URL)
                keys = list(conn.scan_iter(prefix + "*", count=5000))
                for start in range(0, len(keys), 5000):
                    conn.delete(*keys[start : start + 5000])


def app_for(config: dict):
    """The app for ``config``, with the schema migrated."""
    from flask_migrate import upgrade

    from callcenter import create_app
    from callcenter.extensions import db

    app = create_app({k: v for k, v in config.items() if not k.startswith("_")})
    with app.app_context():
        upgrade()
        db.session.remove()
    return app


def add_units(app, n: int, area, *, seed: int = 1, available: float = 0.7, start: int = 0) -> None:
    """Insert ``n`` units spread uniformly over ``area`` (min_lat, max_lat, min_lon, max_lon);
    a share of them available with fresh positions, the rest busy, off duty or stale."""
    from callcenter.extensions import db
    from callcenter.models import Unit
    from callcenter.services import clock

    rng = random.Random(seed)
    now = clock.now()
    rows = []
    for i in range(start, start + n):
        status = (
            "available"
            if rng.random() < available
            else rng.choice(["dispatched", "on_scene", "off_duty", "unavailable"])
        )
        age = rng.choice([0, 20, 60, 120]) if rng.random() < 0.95 else 7200
        rows.append(
            {
                "callsign": f"B-{i}",
                "name": f"Bench {i}",
                "kind": rng.choice(["car", "motorcycle"]),
                "status": status,
                "status_changed_at": now,
                "created_at": now,
                "lat": rng.uniform(area[0], area[1]),
                "lon": rng.uniform(area[2], area[3]),
                "position_at": now - timedelta(seconds=age),
                "position_updated_at": now,
            }
        )
    with app.app_context():
        for chunk in range(0, len(rows), 5000):
            db.session.execute(insert(Unit), rows[chunk : chunk + 5000])
        db.session.commit()
        db.session.remove()
