"""The nearest-unit lookup: the Redis GEO index and the SQL bounding box agree."""

import random
from datetime import timedelta

import pytest
import redis

from callcenter.extensions import db
from callcenter.models import Unit
from callcenter.services import bus, clock, locator
from tests.helpers import KEPANJEN, offset


@pytest.fixture
def redis_app(app):
    if not app.config["REDIS_URL"]:
        pytest.skip("the GEO index exists on the Redis stack only (the SQLite stack has no Redis)")
    return app


def populate(app, n, seed, spread_m=30_000):
    rng = random.Random(seed)
    now = clock.now()
    statuses = ["available"] * 6 + ["dispatched", "off_duty", "unavailable", "on_scene"]
    with app.app_context():
        for i in range(n):
            lat, lon = offset(
                KEPANJEN, rng.uniform(-spread_m, spread_m), rng.uniform(-spread_m, spread_m)
            )
            status = rng.choice(statuses)
            age = rng.choice([0, 30, 100, 400, 4000])
            unit = Unit(
                callsign=f"L-{seed}-{i}",
                name="x",
                kind="car",
                status=status,
                lat=lat,
                lon=lon,
                position_at=now - timedelta(seconds=age),
            )
            db.session.add(unit)
        db.session.commit()
        locator.rebuild()
        db.session.remove()


def test_redis_and_sql_give_the_same_answer(redis_app):
    populate(redis_app, 600, seed=7)
    rng = random.Random(99)
    with redis_app.app_context():
        fresh_after = clock.now() - timedelta(seconds=180)
        checked = 0
        for _ in range(60):
            lat, lon = offset(KEPANJEN, rng.uniform(-25_000, 25_000), rng.uniform(-25_000, 25_000))
            radius = rng.choice([2_000, 5_000, 15_000])
            exclude = set(rng.sample(range(1, 600), 5))
            args = dict(radius_m=radius, fresh_after=fresh_after, exclude=exclude, limit=5)
            via_redis = locator.nearest_available(lat, lon, use="redis", **args)
            via_sql = locator.nearest_available(lat, lon, use="sql", **args)
            assert [c.unit_id for c in via_redis] == [c.unit_id for c in via_sql]
            assert [round(c.distance_m, 3) for c in via_redis] == [
                round(c.distance_m, 3) for c in via_sql
            ]
            checked += len(via_sql)
        db.session.remove()
    assert checked > 50  # the comparison was not between empty answers


def test_a_stale_index_cannot_send_a_busy_unit(redis_app, factory):
    unit_id = factory.unit(point=KEPANJEN)
    with redis_app.app_context():
        # The database says dispatched; the index still lists the unit as available.
        db.session.get(Unit, unit_id).status = "dispatched"
        db.session.commit()
        conn = bus.client()
        assert conn.zscore(bus.key("geo", "available"), unit_id) is not None
        found = locator.nearest_available(
            *KEPANJEN, radius_m=5000, fresh_after=clock.now() - timedelta(seconds=60), use="redis"
        )
        db.session.remove()
    assert found == []


def test_the_index_is_rebuilt_when_redis_lost_it(redis_app, factory):
    unit_id = factory.unit(point=KEPANJEN)
    with redis_app.app_context():
        conn = bus.client()
        # As after a Redis restart: every key is gone.
        conn.delete(bus.key("geo", "available"), bus.key("geo", "built"))
        found = locator.nearest_available(
            *KEPANJEN, radius_m=5000, fresh_after=clock.now() - timedelta(seconds=60), use="redis"
        )
        db.session.remove()
    assert [c.unit_id for c in found] == [unit_id]


def test_reconcile_repairs_missing_and_extra_members(redis_app, factory):
    a = factory.unit(point=KEPANJEN)
    b = factory.unit(point=offset(KEPANJEN, 500, 0), status="on_scene")
    with redis_app.app_context():
        locator.rebuild()
        conn = bus.client()
        key = bus.key("geo", "available")
        conn.zrem(key, a)
        conn.geoadd(key, (KEPANJEN[1], KEPANJEN[0], b))
        assert locator.reconcile() == 2
        members = {int(m) for m in conn.zrange(key, 0, -1)}
        db.session.remove()
    assert members == {a}


def test_redis_down_falls_back_to_sql(redis_app, factory, monkeypatch):
    unit_id = factory.unit(point=KEPANJEN)
    with redis_app.app_context():

        def broken():
            return redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)

        monkeypatch.setattr(bus, "client", broken)
        found = locator.nearest_available(
            *KEPANJEN, radius_m=5000, fresh_after=clock.now() - timedelta(seconds=60)
        )
        db.session.remove()
    assert [c.unit_id for c in found] == [unit_id]


def test_sql_locator_respects_radius_freshness_and_exclusions(app, factory):
    near = factory.unit(point=offset(KEPANJEN, 1000, 0))
    excluded = factory.unit(point=offset(KEPANJEN, 500, 0))
    factory.unit(point=offset(KEPANJEN, 200, 0), age_s=1000)
    factory.unit(point=offset(KEPANJEN, 9000, 0))
    with app.app_context():
        found = locator.nearest_available(
            *KEPANJEN,
            radius_m=5000,
            fresh_after=clock.now() - timedelta(seconds=180),
            exclude={excluded},
            use="sql",
        )
        db.session.remove()
    assert [c.unit_id for c in found] == [near]
