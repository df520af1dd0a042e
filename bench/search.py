"""Search over a year of tickets on PostgreSQL: a ticket number, a phone number in the forms
people type, and two words.

    .venv/bin/python -m bench.search [--tickets 500000] [--queries 300]

A throw-away database gets ``--tickets`` tickets (bounded to 2,000,000) spread over the last
365 days, written by one ``INSERT ... SELECT generate_series`` with the search index built
afterwards (timed and printed). 50,000 distinct callers; summaries and addresses are drawn
from a vocabulary of incident words, streets and villages of Kabupaten Malang, so a two-word
query matches a few hundred to a few thousand tickets, like a real one.

Each query is ``GET /api/v1/tickets?q=...&limit=50`` through the app (in process, no
network: parsing, the query, the page's units and the JSON), and the search's own query
(``services.search.find``), and PostgreSQL's own execution time of it (EXPLAIN ANALYZE).
Prints p50 and p99 per kind; the target is p99 < 200 ms. The machine's load average is
printed too: on a shared machine the first two include waiting for a CPU.
"""

from __future__ import annotations

import argparse
import os
import random
import time

from bench.common import app_for, stack, summary_ms

MAX_TICKETS = 2_000_000
PHONES = 50_000
EVENTS = [
    "motor",
    "hilang",
    "dicuri",
    "pencurian",
    "copet",
    "jambret",
    "begal",
    "tawuran",
    "kecelakaan",
    "tabrakan",
    "kebakaran",
    "banjir",
    "longsor",
    "pingsan",
    "mabuk",
    "ribut",
    "perkelahian",
    "penganiayaan",
    "penipuan",
    "ancaman",
    "teror",
    "narkoba",
    "sabu",
    "curanmor",
    "maling",
    "rampok",
    "pohon",
    "tumbang",
    "macet",
    "kabel",
    "putus",
    "anak",
    "hilang",
    "mayat",
    "ular",
    "anjing",
    "kdrt",
    "pemukulan",
    "senjata",
    "tajam",
    "pelaku",
    "kabur",
    "korban",
    "luka",
]
PLACES = [
    "kepanjen",
    "pakisaji",
    "sumberpucung",
    "kromengan",
    "ngajum",
    "wagir",
    "dau",
    "karangploso",
    "singosari",
    "lawang",
    "pakis",
    "jabung",
    "tumpang",
    "poncokusumo",
    "wajak",
    "tajinan",
    "bululawang",
    "gondanglegi",
    "pagelaran",
    "turen",
    "dampit",
    "ampelgading",
    "tirtoyudo",
    "sumbermanjing",
    "gedangan",
    "bantur",
    "donomulyo",
    "kalipare",
    "pagak",
    "kasembon",
    "ngantang",
    "pujon",
]
STREETS = [
    "raya",
    "merdeka",
    "diponegoro",
    "sudirman",
    "ahmad",
    "yani",
    "gajah",
    "mada",
    "hayam",
    "wuruk",
    "panglima",
    "pahlawan",
    "kartini",
    "veteran",
    "pemuda",
    "sukarno",
    "hatta",
    "pattimura",
    "imam",
    "bonjol",
    "cokroaminoto",
    "kawi",
    "semeru",
    "bromo",
    "arjuno",
    "brawijaya",
    "kenanga",
    "melati",
    "mawar",
    "anggrek",
    "flamboyan",
]
KINDS = ("pasar", "terminal", "sekolah", "masjid", "alun-alun", "perumahan", "sawah", "jembatan")
CATEGORIES = ("theft", "traffic_accident", "fight", "public_disorder", "vehicle_theft", "prank")


def _sql_array(words) -> str:
    return "ARRAY[" + ",".join(f"'{w}'" for w in words) + "]"


def load(app, n: int) -> dict:
    """Write ``n`` tickets with generate_series; returns the seconds each step took."""
    from callcenter.extensions import db
    from callcenter.models.ticket import SEARCH_TSV

    timings = {}
    with app.app_context():
        conn = db.session.connection()
        started = time.perf_counter()
        conn.exec_driver_sql("DROP INDEX ix_tickets_search")
        insert = f"""
            INSERT INTO tickets (number, status, status_changed_at, priority, units_needed,
                category, channel, caller_name, caller_phone, summary, lat, lon, address,
                caller_calls_30d, caller_pranks_30d, created_at, updated_at, closed_at,
                resolution)
            SELECT
                '110-' || to_char(t.at AT TIME ZONE 'Asia/Jakarta', 'YYYYMMDD') || '-'
                    || lpad((g % 100000)::text, 5, '0'),
                CASE WHEN g < 40 THEN 'new' ELSE 'closed' END,
                t.at, 1 + g % 4, 1,
                ({_sql_array(CATEGORIES)})[1 + g % {len(CATEGORIES)}],
                'phone',
                'Pelapor ' || g,
                CASE WHEN g % 17 = 0 THEN NULL
                     ELSE '+62811' || lpad(((g * 7919) % {PHONES})::text, 7, '0') END,
                initcap(e.a) || ' ' || e.b || ' dekat ' || p.kind || ' ' || p.place
                    || ', pelapor ' || CASE WHEN g % 3 = 0 THEN 'panik' ELSE 'tenang' END,
                -8.13 + (g % 1000) / 5000.0, 112.57 + (g % 777) / 5000.0,
                'Jl. ' || initcap(({_sql_array(STREETS)})[1 + (g * 13) % {len(STREETS)}])
                    || ' No. ' || (1 + g % 200) || ', ' || initcap(p.place),
                0, 0, t.at, t.at, CASE WHEN g < 40 THEN NULL ELSE t.at + interval '40 minutes' END,
                CASE WHEN g < 40 THEN NULL ELSE 'handled' END
            FROM generate_series(0::bigint, {n - 1}) AS g
            CROSS JOIN LATERAL (
                SELECT now() - (g * (365.0 * 86400 / {n})) * interval '1 second' AS at
            ) AS t
            CROSS JOIN LATERAL (
                SELECT ({_sql_array(EVENTS)})[1 + (g * 31) % {len(EVENTS)}] AS a,
                       ({_sql_array(EVENTS)})[1 + (g * 17 + 5) % {len(EVENTS)}] AS b
            ) AS e
            CROSS JOIN LATERAL (
                SELECT ({_sql_array(PLACES)})[1 + (g * 7) % {len(PLACES)}] AS place,
                       ({_sql_array(KINDS)})[1 + (g * 3) % {len(KINDS)}] AS kind
            ) AS p
            """
        conn.exec_driver_sql(insert.replace("%", "%%"))  # no parameters: % is the operator
        db.session.commit()
        timings["insert"] = time.perf_counter() - started
        started = time.perf_counter()
        conn = db.session.connection()
        conn.exec_driver_sql(f"CREATE INDEX ix_tickets_search ON tickets USING gin ({SEARCH_TSV})")
        db.session.commit()
        timings["index"] = time.perf_counter() - started
        started = time.perf_counter()
        db.session.connection().exec_driver_sql("ANALYZE tickets")
        db.session.commit()
        timings["analyze"] = time.perf_counter() - started
        db.session.remove()
    return timings


def samples(app, n_queries: int, rng: random.Random) -> dict[str, list[str]]:
    """Queries of each kind, drawn from what the table holds."""
    from callcenter.extensions import db
    from callcenter.models import Ticket

    with app.app_context():
        numbers = list(
            db.session.scalars(db.select(Ticket.number).order_by(db.func.random()).limit(n_queries))
        )
        phones = list(
            db.session.scalars(
                db.select(Ticket.caller_phone)
                .where(Ticket.caller_phone.is_not(None))
                .order_by(db.func.random())
                .limit(n_queries)
            )
        )
        db.session.remove()

    def typed(e164: str) -> str:
        national = "0" + e164[3:]
        return rng.choice(
            (
                f"{national[:4]} {national[4:6]} {national[6:]}",  # 0811 48 20000
                f"{national[:4]}-{national[4:8]}-{national[8:]}",
                e164,
                f"+62 {e164[3:6]}-{e164[6:9]}-{e164[9:]}",
                e164[1:],  # 62811...
            )
        )

    return {
        "number": numbers,
        "phone (typed forms)": [typed(p) for p in phones],
        "two words (event + village)": [
            f"{rng.choice(EVENTS)} {rng.choice(PLACES)}" for _ in range(n_queries)
        ],
        "two words (common: 'pelapor panik')": ["pelapor panik"] * n_queries,
    }


def measure(app, queries: list[str]) -> tuple[list[float], list[float], list[int]]:
    from callcenter.extensions import db
    from callcenter.services import accounts, search, sessions

    with app.app_context():
        user = accounts.create_user(
            {
                "username": f"bench{random.randrange(10**9)}",
                "password": "bench-password-110",
                "role": "dispatcher",
            }
        )
        token, _ = sessions.issue_token(user)
        db.session.remove()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for q in queries[:10]:  # warm-up: connections, plans, caches
        client.get("/api/v1/tickets", query_string={"q": q, "limit": 50}, headers=headers)
    api_times, query_times, found = [], [], []
    for q in queries:
        started = time.perf_counter()
        response = client.get(
            "/api/v1/tickets", query_string={"q": q, "limit": 50}, headers=headers
        )
        api_times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.get_json()
        found.append(len(response.get_json()))
        with app.test_request_context(query_string={"q": q}):
            from flask import request

            parsed = search.parse(request.args)
            started = time.perf_counter()
            search.find(parsed, 50)
            query_times.append(time.perf_counter() - started)
            db.session.remove()
    return api_times, query_times, found


def _compiled(statement):
    from callcenter.extensions import db

    return statement.compile(db.engine, compile_kwargs={"render_postcompile": True})


def _statement(q: str):
    from flask import request

    from callcenter.extensions import db
    from callcenter.models import Ticket
    from callcenter.services import search

    where = search.conditions(search.parse(request.args))
    statement = db.select(Ticket).where(*where).order_by(Ticket.id.desc()).limit(51)
    return where, statement


def _analyze(statement) -> float:
    from callcenter.extensions import db

    compiled = _compiled(statement)
    plan = (
        db.session.connection()
        .exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}", compiled.params)
        .scalar()
    )
    return plan[0]["Execution Time"] / 1000


def _page_statement(where, q: str):
    """What ``search.find`` runs for the page, and the time the index read before it took
    in the database (0 without words)."""
    from callcenter.extensions import db
    from callcenter.models import Ticket
    from callcenter.services import search

    if not search.parse({"q": q}).words:
        return 0.0, db.select(Ticket).where(*where).order_by(Ticket.id.desc()).limit(51)
    probe = db.select(Ticket.id).where(*where).limit(search.FEW_MATCHES)
    with search._bitmap_only():
        spent = _analyze(probe)
        ids = list(db.session.scalars(probe))
    if len(ids) < search.FEW_MATCHES:
        wanted = sorted(ids, reverse=True)[:51] or [0]
        return spent, db.select(Ticket).where(Ticket.id.in_(wanted)).order_by(Ticket.id.desc())
    return spent, db.select(Ticket).where(*where).order_by(Ticket.id.desc()).limit(51)


def db_times(app, queries: list[str]) -> list[float]:
    """PostgreSQL's own execution time of each search (EXPLAIN ANALYZE of what
    ``search.find`` runs: the read of matching ids through the text index, then the page),
    in seconds: the database's share, apart from the Python process and the machine's
    other load."""
    from callcenter.extensions import db

    times = []
    for q in queries:
        with app.test_request_context(query_string={"q": q}):
            where, _ = _statement(q)
            spent, page = _page_statement(where, q)
            times.append(spent + _analyze(page))
            db.session.remove()
    return times


def explain(app, q: str) -> str:
    """The plan of the page's query, as ``search.find`` runs it."""
    from callcenter.extensions import db

    with app.test_request_context(query_string={"q": q}):
        where, _ = _statement(q)
        _, page = _page_statement(where, q)
        compiled = _compiled(page)
        plan = (
            db.session.connection()
            .exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
            .scalars()
            .all()
        )
        db.session.remove()
    return "\n".join("    " + line for line in plan[:8])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=500_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    n = max(1000, min(args.tickets, MAX_TICKETS))
    rng = random.Random(110)
    print(f"search over {n:,} tickets (365 days) on PostgreSQL, {args.queries} queries a kind")
    print(f"  load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with stack("production") as config:
        app = app_for(config)
        timings = load(app, n)
        print(
            f"  load: insert {timings['insert']:.1f} s, search index {timings['index']:.1f} s, "
            f"analyze {timings['analyze']:.1f} s"
        )
        for kind, queries in samples(app, args.queries, rng).items():
            api_times, query_times, found = measure(app, queries)
            print(f"  {kind:<36} API   {summary_ms(api_times)}")
            print(
                f"  {'':<36} query {summary_ms(query_times)}   "
                f"rows/page: median {sorted(found)[len(found) // 2]}, max {max(found)}"
            )
            print(f"  {'':<36} in db {summary_ms(db_times(app, queries))}")
        print(f"  load average after: {os.getloadavg()[0]:.1f}")
        for q in ("motor kepanjen", "pelapor panik"):
            print(f"  plan of '{q}':")
            print(explain(app, q))
        with app.app_context():
            from callcenter.extensions import db

            db.engine.dispose()


if __name__ == "__main__":
    main()
