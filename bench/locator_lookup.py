"""Nearest-available-unit lookup at 1,000, 10,000 and 100,000 units, for each backend.

    .venv/bin/python -m bench.locator_lookup [--queries 1000]

Backends: the SQL bounding box on SQLite (embedded default), the SQL bounding box on
PostgreSQL, and the Redis GEO index confirmed by PostgreSQL (production). Units are spread
uniformly over Java and Bali, 70 % of them available; each query asks for the 5 nearest
available units with a fresh position within 25 km of a random point. Prints median and p99
per backend and size, and checks that the backends agree.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta

from bench.common import JAVA, add_units, app_for, stack, summary_ms

SIZES = (1_000, 10_000, 100_000)


def measure(app, use: str, points, radius_m: float) -> tuple[list[float], list[list[int]]]:
    from callcenter.extensions import db
    from callcenter.services import clock, locator

    times, answers = [], []
    with app.app_context():
        fresh_after = clock.now() - timedelta(seconds=180)
        for lat, lon in points[:20]:  # warm-up: connections, caches
            locator.nearest_available(lat, lon, radius_m=radius_m, fresh_after=fresh_after, use=use)
        for lat, lon in points:
            started = time.perf_counter()
            found = locator.nearest_available(
                lat, lon, radius_m=radius_m, fresh_after=fresh_after, limit=5, use=use
            )
            times.append(time.perf_counter() - started)
            answers.append([c.unit_id for c in found])
        db.session.remove()
    return times, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(42)
    points = [
        (rng.uniform(JAVA[0], JAVA[1]), rng.uniform(JAVA[2], JAVA[3])) for _ in range(args.queries)
    ]
    radius_m = 25_000

    print(
        f"nearest available unit, 5 nearest within {radius_m // 1000} km, "
        f"{args.queries} random points over Java and Bali"
    )
    with stack("embedded") as embedded, stack("production") as production:
        sqlite_app, pg_app = app_for(embedded), app_for(production)
        have = 0
        for size in SIZES:
            add_units(sqlite_app, size - have, JAVA, seed=size, start=have)
            add_units(pg_app, size - have, JAVA, seed=size, start=have)
            have = size
            with pg_app.app_context():
                from callcenter.extensions import db
                from callcenter.services import locator

                locator.rebuild()
                db.session.remove()
            results = {
                "SQL bbox, SQLite  ": measure(sqlite_app, "sql", points, radius_m),
                "SQL bbox, Postgres": measure(pg_app, "sql", points, radius_m),
                "Redis GEO + PG    ": measure(pg_app, "redis", points, radius_m),
            }
            answers = [a for _, a in results.values()]
            agree = sum(1 for a, b, c in zip(*answers, strict=True) if a == b == c)
            found = sum(1 for a in answers[0] if a)
            print(
                f"\n{size:>7,} units  (queries with a unit in range: {found}, "
                f"backends agree on {agree}/{len(points)})"
            )
            for name, (times, _) in results.items():
                print(f"  {name}  {summary_ms(times)}")


if __name__ == "__main__":
    main()
