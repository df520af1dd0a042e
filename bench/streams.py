"""Live updates at the size of a real center, on the production stack.

    .venv/bin/python -m bench.streams [--seconds 120] [--units 2000] [--staff 50]
                                      [--unit-streams 500] [--calls 10] [--report-every 5]

PostgreSQL, Redis, gunicorn as gunicorn.conf.py sets it, Pushpin in front (the push
engine), the stream relay, and a Celery worker with beat, all as separate processes. Two
runs of ``--seconds`` each, printed side by side: ``--staff`` dispatcher streams plus
``--unit-streams`` unit streams, and the same load with 2 dispatcher streams and no unit
streams. The load in both: every unit reports its position every ``--report-every`` s,
``--calls`` calls/s are logged (intake), a dispatcher lists the tickets 5 times a second
(a plain GET), and units accept their offers after 1-5 s and clear 5-15 s later.

Figures: intake and GET p50/p99; event -> stream (each delivery) and event -> every
stream of its scope (the last one), p50/p99, from the event's own timestamp; position
reports accepted per second (and refused or failed); CPU of the web part, of Pushpin and
of the relay, and web CPU per 100 streams. Targets: with the big run, intake p99 under
250 ms and within 2x of the small run; event -> every stream p99 under 500 ms; every
position report accepted. Load goes to 127.0.0.1 only and is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import secrets
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

from bench.common import add_units, app_for, percentile, stack
from bench.loadgen import Client, SSEReader
from tests.processes import (
    Pushpin,
    StreamRelay,
    WebServer,
    Worker,
    free_port,
    process_env,
    stop_all,
)

MALANG = (-8.45, -7.75, 112.25, 112.95)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            with open(f"/proc/{current}/task/{current}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def ms(values: list[float]) -> str:
    if not values:
        return "     -   /     -  "
    v = [x * 1000 for x in values]
    return f"{statistics.median(v):7.1f} / {percentile(v, 0.99):7.1f}"


def make_accounts(app, n_units: int, n_dispatchers: int) -> dict:
    """Users and tokens straight into the tables (one password hash for all)."""
    from sqlalchemy import insert

    from callcenter.extensions import db
    from callcenter.models import ApiToken, Unit, User
    from callcenter.services import credentials

    password = credentials.hash_password("bench-password")
    expires = datetime.now(UTC) + timedelta(days=1)
    out = {"units": [], "dispatchers": []}
    with app.app_context():
        unit_ids = list(db.session.scalars(db.select(Unit.id).order_by(Unit.id)))[:n_units]
        users = [
            {"username": f"unit{i}", "password_hash": password, "role": "unit", "unit_id": u}
            for i, u in enumerate(unit_ids)
        ] + [
            {"username": f"disp{i}", "password_hash": password, "role": "dispatcher"}
            for i in range(n_dispatchers)
        ]
        db.session.execute(insert(User), users)
        rows = db.session.execute(db.select(User.id, User.role, User.unit_id)).all()
        tokens = []
        for row in rows:
            raw = secrets.token_urlsafe(24)
            digest = hashlib.sha256(raw.encode()).hexdigest()
            tokens.append({"user_id": row.id, "token_hash": digest, "expires_at": expires})
            if row.role == "unit":
                out["units"].append((row.unit_id, raw))
            else:
                out["dispatchers"].append(raw)
        db.session.execute(insert(ApiToken), tokens)
        db.session.commit()
        db.session.remove()
    return out


class Watcher(threading.Thread):
    """Notes when each event becomes visible in the database (polled every 10 ms): the
    start of "event -> stream", since an event's own timestamp is taken before its
    transaction commits (and a transaction may wait for locks after that)."""

    def __init__(self, database_url: str):
        super().__init__(daemon=True)
        self.url = database_url
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self):
        import psycopg

        last = 0
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.is_set():
                rows = conn.execute("SELECT id FROM events WHERE id > %s", (last,)).fetchall()
                now = time.time()
                for (event_id,) in rows:
                    self.seen.setdefault(event_id, now)
                    last = max(last, event_id)
                self.stop.wait(0.01)


async def drive(url: str, accounts: dict, args, n_staff: int, n_unit_streams: int) -> dict:
    rng = random.Random(5)
    stop = asyncio.Event()
    results = {
        "intake": [],
        "get": [],
        "positions_ok": 0,
        "position_lag": [],
        "positions_refused": 0,
        "positions_failed": 0,
        "calls_failed": 0,
        "answers": 0,
    }
    units = accounts["units"]
    token_of_unit = dict(units)
    pending: set[asyncio.Task] = set()

    answer_client = [Client(url) for _ in range(8)]

    async def answer(unit_id: int, assignment_id: int):
        token = token_of_unit.get(unit_id)
        if token is None:
            return
        client = rng.choice(answer_client)
        await asyncio.sleep(rng.uniform(1, 5))
        status, _ = await client.request(
            "POST", f"/api/v1/assignments/{assignment_id}/accept", token=token
        )
        if status != 200:
            return
        await asyncio.sleep(rng.uniform(5, 15))
        await client.request(
            "POST",
            f"/api/v1/assignments/{assignment_id}/progress",
            token=token,
            body={"status": "cleared", "resolution": "handled"},
        )
        results["answers"] += 1

    def keep(coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        pending.add(task)
        task.add_done_callback(pending.discard)

    def on_offer(event: dict) -> None:
        keep(answer(event["unit_id"], event["data"]["assignment_id"]))

    dispatchers = accounts["dispatchers"]
    readers = [
        SSEReader(url, dispatchers[i % len(dispatchers)], on_event=on_offer if i == 0 else None)
        for i in range(n_staff)
    ] + [SSEReader(url, token) for _, token in units[:n_unit_streams]]
    reader_tasks = [asyncio.ensure_future(r.run(stop)) for r in readers]
    for start in range(0, len(readers), 50):
        await asyncio.wait_for(
            asyncio.gather(*(r.connected.wait() for r in readers[start : start + 50])), 120
        )
    await asyncio.sleep(3)  # the hand-over checks of the streams just opened

    began = time.monotonic()
    deadline = began + args.seconds

    async def reporter(batch: list[tuple[int, str]]):
        client = Client(url)
        period = args.report_every
        offsets = {u: rng.uniform(0, period) for u, _ in batch}
        lat = {u: rng.uniform(MALANG[0], MALANG[1]) for u, _ in batch}
        lon = {u: rng.uniform(MALANG[2], MALANG[3]) for u, _ in batch}
        tick = 0
        while time.monotonic() < deadline:
            for unit_id, token in sorted(batch, key=lambda b: offsets[b[0]]):
                due = began + tick * period + offsets[unit_id]
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if time.monotonic() >= deadline:
                    break
                results["position_lag"].append(time.monotonic() - due)
                lat[unit_id] += rng.uniform(-0.0005, 0.0005)
                lon[unit_id] += rng.uniform(-0.0005, 0.0005)
                try:
                    status, _ = await client.request(
                        "POST",
                        "/api/v1/units/me/location",
                        token=token,
                        body={"lat": lat[unit_id], "lon": lon[unit_id], "accuracy_m": 10},
                    )
                except Exception:
                    results["positions_failed"] += 1
                    continue
                if status in (200, 201):  # 200: stored, but a newer report was applied
                    results["positions_ok"] += 1
                else:
                    results["positions_refused"] += 1
            tick += 1

    async def caller():
        token = dispatchers[-1]
        i = 0
        while time.monotonic() < deadline:
            due = began + i / args.calls
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            i += 1
            body = {
                "channel": "phone",
                "category": "theft",
                "priority": 3,
                "summary": f"bench {i}",
                # Callers differ (one number calling hundreds of times is another matter:
                # intake reads a caller's whole 30-day history).
                "caller": {"phone": f"0812{rng.randrange(10**7, 10**8)}"},
                "location": {
                    "lat": rng.uniform(MALANG[0] + 0.05, MALANG[1] - 0.05),
                    "lon": rng.uniform(MALANG[2] + 0.05, MALANG[3] - 0.05),
                },
            }
            keep(timed(client_pool, "POST", "/api/v1/tickets", token, body))

    client_pool = [Client(url) for _ in range(16)]

    async def timed(pool, method, path, token, body=None):
        client = next((c for c in pool if not c.lock.locked()), None) or rng.choice(pool)
        started = time.monotonic()
        try:
            status, _ = await client.request(method, path, token=token, body=body)
        except Exception:
            results["calls_failed"] += 1
            return
        took = time.monotonic() - started
        if (method, status) in (("POST", 201), ("GET", 200)):
            results["intake" if method == "POST" else "get"].append(took)
        else:
            results["calls_failed"] += 1

    get_pool = [Client(url) for _ in range(4)]

    async def getter():
        token = dispatchers[-1]
        i = 0
        while time.monotonic() < deadline:
            due = began + i / 5
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            i += 1
            keep(timed(get_pool, "GET", "/api/v1/tickets?limit=20", token))

    connections = 48
    batches = [b for b in (units[i::connections] for i in range(connections)) if b]
    await asyncio.gather(caller(), getter(), *(reporter(b) for b in batches))
    results["until"] = time.time()  # events up to here are counted
    for task in list(pending):
        task.cancel()  # no more answers from the units
    await asyncio.sleep(5)  # the last events reach the streams
    stop.set()
    for task in reader_tasks + list(pending):
        task.cancel()
    results["readers"] = readers
    results["elapsed"] = args.seconds
    return results


def deliveries(
    app,
    readers: list[SSEReader],
    n_staff: int,
    unit_ids: list[int],
    since: float,
    until: float,
    visible: dict[int, float],
):
    """Per (event, stream of its scope): arrival - when the event became visible in the
    database. Events stamped between ``since`` and ``until`` (the end of the load) count."""
    from callcenter.extensions import db
    from callcenter.models import Event

    with app.app_context():
        rows = db.session.execute(
            db.select(Event.id, Event.type, Event.unit_id, Event.at).where(
                Event.at >= datetime.fromtimestamp(since, UTC),
                Event.at <= datetime.fromtimestamp(until, UTC),
            )
        ).all()
        db.session.remove()
    each, every, missing = [], [], 0
    lag: dict[int, list[float]] = {}
    staff = readers[:n_staff]
    by_unit = dict(zip(unit_ids, readers[n_staff:], strict=False))
    for row in rows:
        if row.type.startswith(("auth.", "user.")):
            continue
        at = visible.get(row.id, row.at.timestamp())
        scoped = list(staff)
        if row.unit_id in by_unit:
            scoped.append(by_unit[row.unit_id])
        got = [r.arrivals.get(row.id) for r in scoped]
        if None in got and missing < 5:
            print(f"   missing: event {row.id} {row.type} unit {row.unit_id} at {row.at}")
        missing += sum(1 for g in got if g is None)
        got = [g - at for g in got if g is not None]
        each += got
        if got:
            every.append(max(got))
        for index, reader in enumerate(scoped):
            arrived = reader.arrivals.get(row.id)
            if arrived is not None:
                lag.setdefault(index if index < len(staff) else -1, []).append(arrived - at)
    if os.environ.get("BENCH_DEBUG"):
        for index, values in sorted(lag.items()):
            print(f"   stream {index}: p50 {statistics.median(values) * 1000:.0f} ms")
    return each, every, missing, len(rows)


def run(args, n_staff: int, n_unit_streams: int) -> dict:
    from callcenter.extensions import db

    label = f"{n_staff} staff + {n_unit_streams} unit streams"
    print(
        f"\n== {label}: {args.units} units every {args.report_every:g} s, "
        f"{args.calls:g} calls/s, {args.seconds:g} s",
        flush=True,
    )
    with stack("production") as config:
        settings = {k: v for k, v in config.items() if not k.startswith("_")}
        settings.update(CALLCENTER_SWEEP_INTERVAL_S=2, CALLCENTER_POSITION_MAX_AGE_S=3600)
        app = app_for(settings)
        add_units(app, args.units, MALANG, seed=7, available=1.0)
        accounts = make_accounts(app, args.units, max(n_staff, 2) + 1)
        tmp = config["_TMP"]
        web_port = free_port()
        from callcenter.streams.grip import grip_key

        pushpin = Pushpin(
            os.path.join(tmp, "pushpin"),
            f"127.0.0.1:{web_port}",
            grip_key(app),
            log_level=int(os.environ.get("BENCH_PUSHPIN_LOG", "2")) if args.keep_logs else 1,
        )
        env = process_env(
            settings,
            CALLCENTER_STREAMS="pushpin",
            CALLCENTER_PUSHPIN_PUBLISH_URL=pushpin.publish_url,
            CALLCENTER_STREAMS_PER_USER=5,
            CALLCENTER_PROXY_HOPS=1,
        )
        worker = Worker(env, os.path.join(tmp, "worker.log"), concurrency=2, beat=True)
        web = WebServer(env, os.path.join(tmp, "web.log"), web_port, workers=None, threads=None)
        relay = StreamRelay(env, os.path.join(tmp, "relay.log"))
        try:
            pushpin.wait_ready()
            worker.wait_ready()
            web.wait_ready()
            relay.wait_ready()
            cpu0 = {
                "web": cpu_seconds(web.proc.pid),
                "pushpin": cpu_seconds(pushpin.proc.pid),
                "relay": cpu_seconds(relay.proc.pid),
                "worker": cpu_seconds(worker.proc.pid),
                "bench": time.process_time(),
            }
            since = time.time()
            wall0 = time.monotonic()
            watcher = Watcher(settings["DATABASE_URL"])
            watcher.start()
            try:
                results = asyncio.run(drive(pushpin.url, accounts, args, n_staff, n_unit_streams))
            finally:
                watcher.stop.set()
                watcher.join(5)
            wall = time.monotonic() - wall0
            cpu = {
                "web": cpu_seconds(web.proc.pid) - cpu0["web"],
                "pushpin": cpu_seconds(pushpin.proc.pid) - cpu0["pushpin"],
                "relay": cpu_seconds(relay.proc.pid) - cpu0["relay"],
                "worker": cpu_seconds(worker.proc.pid) - cpu0["worker"],
                "bench": time.process_time() - cpu0["bench"],
            }
        finally:
            stop_all(relay, web, worker, pushpin)
            if args.keep_logs:
                import shutil

                target = os.path.join(args.keep_logs, f"{n_staff}-{n_unit_streams}")
                shutil.copytree(tmp, target, ignore=shutil.ignore_patterns("run"))
        unit_ids = [u for u, _ in accounts["units"][:n_unit_streams]]
        each, every, missing, n_events = deliveries(
            app, results["readers"], n_staff, unit_ids, since, results["until"], watcher.seen
        )
        with app.app_context():
            db.engine.dispose()
    streams = n_staff + n_unit_streams
    out = {
        "label": label,
        "streams": streams,
        "intake": results["intake"],
        "get": results["get"],
        "each": each,
        "every": every,
        "missing": missing,
        "events": n_events,
        "positions_ok": results["positions_ok"] / args.seconds,
        "positions_sent": len(results["position_lag"]) / args.seconds,
        "position_lag": results["position_lag"],
        "positions_refused": results["positions_refused"],
        "positions_failed": results["positions_failed"],
        "calls_failed": results["calls_failed"],
        "answers": results["answers"],
        "reconnects": sum(r.reconnects for r in results["readers"]),
        "cpu": {k: 100 * v / wall for k, v in cpu.items()},
    }
    print(
        f"   done: {len(out['intake'])} calls, {n_events} events, "
        f"{out['positions_ok']:.0f} positions/s",
        flush=True,
    )
    return out


def report(runs: list[dict], args) -> None:
    width = 34
    print("\n" + " " * width + "".join(f"{r['label']:>32}" for r in runs))

    def row(name, values):
        print(f"{name:<{width}}" + "".join(f"{v:>32}" for v in values))

    row("intake p50 / p99 ms", [ms(r["intake"]) for r in runs])
    row("GET /tickets p50 / p99 ms", [ms(r["get"]) for r in runs])
    row("event -> a stream p50 / p99 ms", [ms(r["each"]) for r in runs])
    row("event -> every stream p50 / p99 ms", [ms(r["every"]) for r in runs])
    row("deliveries missing", [f"{r['missing']} of {len(r['each']) + r['missing']}" for r in runs])
    expected = args.units / args.report_every
    row(
        f"positions sent / accepted per s (of {expected:.0f})",
        [f"{r['positions_sent']:.1f} / {r['positions_ok']:.1f}" for r in runs],
    )
    row("position sent late p50 / p99 ms", [ms(r["position_lag"]) for r in runs])
    row(
        "positions refused / failed",
        [f"{r['positions_refused']} / {r['positions_failed']}" for r in runs],
    )
    row("calls failed; jobs answered", [f"{r['calls_failed']}; {r['answers']}" for r in runs])
    row("stream reconnects", [str(r["reconnects"]) for r in runs])
    for part in ("web", "pushpin", "relay", "worker", "bench"):
        row(f"CPU {part} (% of one core)", [f"{r['cpu'][part]:.0f}" for r in runs])
    if len(runs) == 2:
        small, big = sorted(runs, key=lambda r: r["streams"])
        extra = (big["cpu"]["web"] - small["cpu"]["web"]) / max(
            1, (big["streams"] - small["streams"]) / 100
        )
        whole = big["cpu"]["web"] / (big["streams"] / 100)
        print(
            f"\nweb CPU per 100 streams: {whole:.1f} % of a core (all web CPU / streams); "
            f"{extra:.1f} % marginal (over the {small['streams']}-stream run)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--staff", type=int, default=50)
    parser.add_argument("--unit-streams", type=int, default=500)
    parser.add_argument("--calls", type=float, default=10)
    parser.add_argument("--report-every", type=float, default=5)
    parser.add_argument("--only", choices=["big", "small"], default=None)
    parser.add_argument("--keep-logs", default=None, help="copy the processes' logs here")
    args = parser.parse_args()
    if args.seconds > 600 or args.units > 5000 or args.staff + args.unit_streams > 2000:
        parser.error("bounded load: at most 600 s, 5,000 units and 2,000 streams")
    print(f"live streams at scale, production stack, {os.cpu_count()} cores")
    print("load average at start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    runs = []
    if args.only != "small":
        runs.append(run(args, args.staff, args.unit_streams))
    if args.only != "big":
        runs.append(run(args, 2, 0))
    report(runs, args)
    print("load average at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
