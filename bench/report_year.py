"""The targets report over a year of history on PostgreSQL.

Generates a year of calls in the database itself (``generate_series``, a fixed seed; no row
passes through Python): by default 525,600 calls in 2025 (one a minute), 80 % of them
prank, silent, information-only or wrong-number calls, the rest incidents with their
milestones, an accepted assignment each and a declined offer before it for one in ten. Then
times the month's report (July 2025, WIB), unfiltered and filtered by one Polsek, and the
CSV of the month's calls, and prints the indexes the report's queries used.

    .venv/bin/python -m bench.report_year [--calls 525600] [--runs 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

from sqlalchemy import text

from bench.common import stack

SECTORS = 20
UNITS = 60
MONTH = {"from": "2025-07-01", "to": "2025-07-31"}
INDEX_IN_PLAN = r"Scan (?:Backward )?(?:using|on) (ix_\w+|uq_\w+|\w+_pkey)"

# Categories by share of the calls (cumulative upper bounds of random()).
CATEGORY_SQL = """
CASE
  WHEN r < 0.62 THEN 'prank'
  WHEN r < 0.72 THEN 'silent_call'
  WHEN r < 0.77 THEN 'information'
  WHEN r < 0.80 THEN 'wrong_number'
  WHEN r < 0.86 THEN 'theft'
  WHEN r < 0.90 THEN 'traffic_accident'
  WHEN r < 0.94 THEN 'fight'
  WHEN r < 0.97 THEN 'assault'
  ELSE 'domestic_violence'
END
"""

TICKETS_SQL = f"""
INSERT INTO tickets (
  number, status, status_changed_at, priority, units_needed, category, channel, caller_phone,
  summary, lat, lon, sector_id, caller_calls_30d, caller_pranks_30d, created_at, updated_at,
  received_at, answered_at, dispatched_at, accepted_offer_at, acknowledged_at, on_scene_at,
  closed_at, resolution
)
SELECT
  'B-' || g, CASE WHEN incident THEN 'closed' ELSE 'closed' END, closed, priority, 1, category,
  channel, phone, '', lat, lon, sector, 0, 0, created, created,
  created - make_interval(secs => ring + answer), created - make_interval(secs => ring),
  CASE WHEN incident THEN created + make_interval(secs => to_offer) END,
  CASE WHEN incident THEN created + make_interval(secs => to_offer + declined * 45) END,
  CASE WHEN incident THEN created + make_interval(secs => to_offer + declined * 45 + to_accept) END,
  CASE WHEN incident
       THEN created + make_interval(secs => to_offer + declined * 45 + to_accept + travel) END,
  closed, CASE WHEN incident THEN 'handled' ELSE category END
FROM (
  SELECT g, category, category NOT IN ('prank', 'silent_call', 'information', 'wrong_number')
    AS incident, priority, channel, phone, lat, lon, sector, created, ring, answer, to_offer,
    to_accept, travel, declined, created + make_interval(secs => 1800 + travel) AS closed
  FROM (
    SELECT g, {CATEGORY_SQL} AS category,
      1 + floor(random() * 4)::int AS priority,
      CASE WHEN random() < 0.9 THEN 'phone' ELSE 'whatsapp' END AS channel,
      '+62811' || lpad((floor(random() * CASE WHEN r < 0.62 THEN 3000 ELSE 200000 END))::text,
                       7, '0') AS phone,
      -8.2 + random() * 0.4 AS lat, 112.4 + random() * 0.4 AS lon,
      1 + floor(random() * {SECTORS})::int AS sector,
      timestamptz '2025-01-01 00:00:00+07' + make_interval(secs => (g - 1) * :spacing
        + floor(random() * :spacing)) AS created,
      random() * 2 AS ring, 2 + random() * 14 AS answer, 10 + random() * 80 AS to_offer,
      5 + random() * 40 AS to_accept, 120 + random() * 900 AS travel,
      CASE WHEN random() < 0.1 THEN 1 ELSE 0 END AS declined
    FROM (SELECT g, random() AS r FROM generate_series(1, :calls) AS g) AS numbered
  ) AS drawn
) AS calls
"""

ASSIGNMENTS_SQL = """
INSERT INTO assignments (ticket_id, unit_id, slot, status, manual, offered_at, deadline_at,
                         responded_at, on_scene_at, ended_at, decline_reason)
SELECT id, 1 + (id % :units), 1, 'declined', false, dispatched_at,
       dispatched_at + interval '45 seconds', dispatched_at + interval '20 seconds', NULL,
       dispatched_at + interval '20 seconds', 'busy'
FROM tickets WHERE accepted_offer_at > dispatched_at
UNION ALL
SELECT id, 1 + ((id * 7) % :units), 1, 'completed', false, accepted_offer_at,
       accepted_offer_at + interval '45 seconds', acknowledged_at, on_scene_at, closed_at, NULL
FROM tickets WHERE acknowledged_at IS NOT NULL
"""


def generate(db, calls: int) -> float:
    started = time.perf_counter()
    db.session.execute(text("SELECT setseed(0.110)"))
    db.session.execute(
        text(
            "INSERT INTO sectors (code, name, lat, lon) SELECT 'S' || g, 'Polsek ' || g, "
            "-8.2 + g * 0.02, 112.4 + g * 0.02 FROM generate_series(1, :n) g"
        ),
        {"n": SECTORS},
    )
    db.session.execute(
        text(
            "INSERT INTO units (callsign, name, kind, status, status_changed_at, created_at) "
            "SELECT 'U-' || g, 'Unit ' || g, 'car', 'off_duty', now(), now() "
            "FROM generate_series(1, :n) g"
        ),
        {"n": UNITS},
    )
    spacing = 365 * 86400 // calls
    db.session.execute(text(TICKETS_SQL), {"calls": calls, "spacing": spacing})
    db.session.execute(text(ASSIGNMENTS_SQL), {"units": UNITS})
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return time.perf_counter() - started


def line(label: str, p50: float, best: float, extra: str = "") -> None:
    print(f"{label:<36} median {p50 * 1000:8.1f} ms   best {best * 1000:8.1f} ms{extra}")


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), min(samples)


def indexes_used(db, app, filters) -> list[str]:
    """The indexes named in the plans of the report's queries (captured as they run)."""
    from sqlalchemy import event

    from callcenter.services import reports

    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        reports.kpis(filters)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    used: set[str] = set()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            cursor.execute("EXPLAIN " + statement, parameters)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            used.update(
                re.findall(
                    r"(?:Index|Index Only|Bitmap Index) Scan (?:Backward )?(?:using|on) (\w+)", plan
                )
            )
    finally:
        raw.close()
    return sorted(used)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=525_600)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    calls = max(1000, min(args.calls, 2_000_000))

    from flask_migrate import upgrade

    from callcenter import create_app
    from callcenter.extensions import db
    from callcenter.services import reports
    from callcenter.services.reports import export

    with stack("production") as config:
        config.pop("_TMP", None)
        app = create_app(config)
        with app.app_context():
            upgrade()
            seconds = generate(db, calls)
            count = db.session.scalar(text("SELECT count(*) FROM tickets"))
            pranks = db.session.scalar(
                text("SELECT count(*) FROM tickets WHERE category = 'prank'")
            )
            offers = db.session.scalar(text("SELECT count(*) FROM assignments"))
            print(
                f"generated {count:,} calls in 2025 ({pranks:,} pranks, {offers:,} offers) "
                f"in {seconds:.1f} s"
            )
        with app.test_request_context():
            month = reports.parse_filters(MONTH)
            figures = reports.kpis(month)
            print(
                f"July 2025: {figures['calls']:,} calls, {figures['incidents']:,} incidents; "
                f"answer p90 {figures['intervals']['answer']['p90_s']:.1f} s, "
                f"on scene within 10 min {100 * figures['targets']['on_scene']['share']:.1f} %"
            )
            p50, best = timed(lambda: reports.kpis(month), args.runs)
            line("month's report (all figures):", p50, best, "   (target < 2000 ms)")
            one = reports.parse_filters({**MONTH, "sector": "S3"})
            p50, best = timed(lambda: reports.kpis(one), args.runs)
            line("month's report, one Polsek:", p50, best)
            year = reports.parse_filters({"from": "2025-01-01", "to": "2025-12-31"})
            p50, best = timed(lambda: reports.kpis(year), max(1, args.runs // 2))
            line("the whole year's report:", p50, best)
            p50, best = timed(lambda: sum(len(x) for x in export.csv_lines(month, "calls")), 2)
            line("CSV of the month's calls:", p50, best)
            print(
                "indexes the month's report used:",
                ", ".join(indexes_used(db, app, month)) or "none",
            )
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
