"""The audit view over a large events table, on PostgreSQL.

    .venv/bin/python -m bench.audit_history [--events 2000000] [--queries 200]

Fills a throw-away database with ``--events`` events (a year of them, one ticket per three
events, 200 units, 100 users acting, and account events naming users) with
``generate_series``, then times the audit view's pages (100 rows, newest first): a
ticket's history, a unit's, a user's (what they did and what was done to the account),
a type prefix within one WIB day, and the next page of a user's history by keyset; and
the CSV export of one day. Prints p50 and p99 of each.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta

from sqlalchemy import text

from bench.common import app_for, stack, summary_ms

FILL = """
INSERT INTO users (username, password_hash, role, is_active, created_at, session_version)
SELECT 'bench' || g, 'x', 'dispatcher', true, now(), 0 FROM generate_series(1, :users) g;
INSERT INTO units (callsign, name, kind, status, status_changed_at, created_at)
SELECT 'B-' || g, 'bench', 'car', 'available', now(), now() FROM generate_series(1, :units) g;
INSERT INTO tickets (number, status, status_changed_at, priority, units_needed, category,
    channel, summary, caller_calls_30d, caller_pranks_30d, created_at, updated_at)
SELECT 'B-' || g, 'closed', now(), 3, 1, 'prank', 'phone', '', 0, 0, now(), now()
FROM generate_series(1, :tickets) g;
INSERT INTO events (type, at, ticket_id, unit_id, actor_id, data)
SELECT
    (ARRAY['ticket.created', 'assignment.offered', 'ticket.closed', 'unit.status_changed',
           'auth.signed_in', 'user.updated'])[1 + g % 6],
    now() - make_interval(secs => (:events - g) * (365.0 * 86400 / :events)),
    CASE WHEN g % 6 < 3 THEN 1 + (g / 3) % :tickets END,
    CASE WHEN g % 6 IN (1, 3) THEN 1 + g % :units END,
    1 + g % :users,
    CASE WHEN g % 6 = 5 THEN jsonb_build_object('user_id', 1 + (g / 7) % :users)
         ELSE '{}'::jsonb END
FROM generate_series(1, :events) g;
ANALYZE events;
"""


def timed(fn, queries: int) -> list[float]:
    samples = []
    for _ in range(queries):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    sizes = {"events": args.events, "tickets": args.events // 6, "units": 200, "users": 100}

    with stack("production") as config:
        app = app_for(config)
        from callcenter.extensions import db
        from callcenter.services import audit, clock

        with app.app_context():
            started = time.perf_counter()
            for statement in FILL.strip().split(";\n"):
                db.session.execute(text(statement), sizes)
            db.session.commit()
            print(f"filled {args.events:,} events in {time.perf_counter() - started:.1f} s")
            rng = random.Random(1)
            day = clock.to_wib(clock.now() - timedelta(days=100)).date().isoformat()

            def page(**kw):
                filters = audit.parse({k: str(v) for k, v in kw.items()})
                rows, cursor = audit.page(filters)
                audit.names(rows)
                return cursor

            cases = {
                "a ticket's history": lambda: page(ticket=rng.randint(1, sizes["tickets"])),
                "a unit's history": lambda: page(unit=rng.randint(1, sizes["units"])),
                "a user's history": lambda: page(user=rng.randint(1, sizes["users"])),
                "type ticket. in one day": lambda: page(type="ticket.", **{"from": day, "to": day}),
                "a user's 2nd page": lambda: page(user=3, before=page(user=3) or 1),
            }
            for name, fn in cases.items():
                print(f"{name:28s} {summary_ms(timed(fn, args.queries))}")

            def export():
                import csv
                import io
                from itertools import islice

                from callcenter.api.serialize_admin import audit_csv_row

                out = io.StringIO()
                writer = csv.writer(out)
                rows = audit.iterate(audit.parse({"from": day, "to": day}))
                count = 0
                while batch := list(islice(rows, 1000)):
                    names = audit.names(batch)
                    writer.writerows(audit_csv_row(e, names) for e in batch)
                    count += len(batch)
                return count

            count = export()
            label = f"CSV of one day ({count} rows)"
            print(f"{label:28s} {summary_ms(timed(export, max(5, args.queries // 20)))}")
            db.session.remove()


if __name__ == "__main__":
    main()
