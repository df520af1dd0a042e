"""The Pilkada night: the whole system under the night's load, on the production stack.

    .venv/bin/python -m bench.pilkada_night [--seconds 120] [--units 2000] [--staff 50]
                                            [--calls 10] [--report-every 5] [--keep-logs DIR]

scripts/production.sh runs the stack exactly as an operator would, against a throw-away
PostgreSQL database and Redis: gunicorn as gunicorn.conf.py sets it, Pushpin in front, the
stream relay, a Celery worker with 2 processes and beat. For ``--seconds``:

- ``--units`` units, each reporting its position every ``--report-every`` s;
- ``--calls`` calls a second: 80 % prank and silent calls (closed at intake), the rest
  spread over the categories and priorities, a tenth of those needing 2 or 3 units;
- ``--staff`` dispatcher screens on the event stream, through Pushpin;
- units answering each offer after a random 1-20 s, and clearing 10-30 s later.

Printed beside two references measured in the same run, before the load: the round trip of
an empty Celery task (sent once a second during the load too) and the ceiling of bare Flask
answering one UPDATE under the same gunicorn configuration. Figures: intake p50/p99;
intake -> first offer, written and on every screen; accept (the unit's request sent) ->
every screen; position reports accepted per second; errors; streams held; the end-of-run
invariant check (tests/system/sim.py), and no process left after SIGTERM.

Targets: intake -> offer p99 under 250 ms, accept -> every screen p99 under 500 ms, every
position report accepted, zero errors. Load goes to 127.0.0.1 only and is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

from bench.common import add_units, app_for, percentile, stack
from bench.loadgen import Client, SSEReader
from bench.streams import MALANG, Watcher, make_accounts
from tests.processes import ROOT, free_port, process_env

PRANKS = ("prank", "silent_call")
REAL = (
    "traffic_accident_injury",
    "traffic_accident",
    "violent_robbery",
    "burglary",
    "vehicle_theft",
    "theft",
    "assault",
    "fight",
    "brawl",
    "domestic_violence",
    "weapon",
    "missing_person",
    "election_disturbance",
    "public_disorder",
    "drugs",
    "suspicious",
    "threats",
    "traffic_hazard",
    "noise",
    "assistance",
)


def ms(values: list[float]) -> str:
    if not values:
        return "no samples"
    v = [x * 1000 for x in values]
    return f"p50 {statistics.median(v):8.1f} ms   p99 {percentile(v, 0.99):8.1f} ms   (n={len(v)})"


# --- the references ----------------------------------------------------------------------------


def measure_ceiling(env: dict, tmp: str, unit_ids: list[int], seconds: float = 5.0) -> dict:
    """Bare Flask + one UPDATE under gunicorn.conf.py: requests/s and latency with 32 clients."""
    port = free_port()
    log = open(os.path.join(tmp, "ceiling.log"), "ab")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind",
         f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "bench.ceiling_app:app"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(
                    urllib.request.Request(f"http://127.0.0.1:{port}/update/1", method="POST"),
                    timeout=2,
                ).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the ceiling app did not start") from None
                time.sleep(0.2)

        async def hammer():
            latencies: list[float] = []
            failed = 0
            rng = random.Random(3)
            end = time.monotonic() + seconds

            async def one_client():
                nonlocal failed
                client = Client(f"http://127.0.0.1:{port}")
                while time.monotonic() < end:
                    started = time.monotonic()
                    try:
                        status, _ = await client.request("POST", f"/update/{rng.choice(unit_ids)}")
                    except Exception:
                        failed += 1
                        continue
                    if status == 200:
                        latencies.append(time.monotonic() - started)
                    else:
                        failed += 1
                client.close()

            await asyncio.gather(*(one_client() for _ in range(32)))
            return latencies, failed

        latencies, failed = asyncio.run(hammer())
        return {"per_s": len(latencies) / seconds, "latency": latencies, "failed": failed}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        log.close()


class Pinger(threading.Thread):
    """The empty Celery task's round trip (send, run, result back), once a second."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.ping = app.extensions["celery"].signature("callcenter.tasks.ping")
        self.samples: list[float] = []
        self.failed = 0
        self.stop = threading.Event()

    def once(self) -> float:
        started = time.time()
        self.ping.apply_async((started,)).get(timeout=10, interval=0.001)
        return time.time() - started

    def run(self):
        while not self.stop.is_set():
            try:
                self.samples.append(self.once())
            except Exception:
                self.failed += 1
            self.stop.wait(1.0)


# --- the stack ---------------------------------------------------------------------------------


class Production:
    """scripts/production.sh in its own session; ``stop`` sends SIGTERM and checks that no
    process of that session is left."""

    def __init__(self, env: dict, tmp: str):
        self.env = env
        self.log_path = os.path.join(tmp, "production.log")
        self.log = open(self.log_path, "wb")  # noqa: SIM115  (closed in stop)
        self.proc = subprocess.Popen(
            ["bash", "scripts/production.sh"],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{env['PORT']}"
        self.web_url = f"http://127.0.0.1:{env['WEB_PORT']}"

    def wait_ready(self, timeout: float = 180) -> Production:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("production.sh ended:\n" + self.tail())
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200 and self._relay_publishes():
                        return self
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError("the stack did not come up:\n" + self.tail())

    def _relay_publishes(self) -> bool:
        with open(self.log_path, "rb") as f:
            text = f.read()
        return b" publishes" in text and b" ready." in text

    def tail(self, n: int = 40) -> str:
        with open(self.log_path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")

    def stop(self) -> list[str]:
        """SIGTERM to the script; returns the processes of its session still alive after."""
        sid = self.proc.pid
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(60)
        self.log.close()
        left: list[str] = []
        for _ in range(100):
            out = subprocess.run(
                ["ps", "-eo", "sid=,pid=,args="], capture_output=True, text=True, check=True
            ).stdout
            left = [line for line in out.splitlines() if line.split(None, 1)[0] == str(sid)]
            if not left:
                break
            time.sleep(0.2)
        if left:
            os.killpg(sid, signal.SIGKILL)
        return left


# --- the load ----------------------------------------------------------------------------------


async def drive(url: str, accounts: dict, args) -> dict:
    rng = random.Random(2026)
    r = {
        "intake": [],
        "tickets": {},  # id -> (kind, response time)
        "positions_ok": 0,
        "positions_sent": 0,
        "accept_sent": {},  # assignment id -> time the unit's request was sent
        "errors": {},
        "answers": 0,
        "calls_sent": 0,
    }
    units = accounts["units"]
    token_of_unit = dict(units)
    pending: set[asyncio.Task] = set()

    def error(kind: str) -> None:
        r["errors"][kind] = r["errors"].get(kind, 0) + 1

    def keep(coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        pending.add(task)
        task.add_done_callback(pending.discard)

    answer_clients = [Client(url) for _ in range(16)]

    async def answer(unit_id: int, assignment_id: int):
        token = token_of_unit.get(unit_id)
        if token is None:
            return
        await asyncio.sleep(rng.uniform(1, 20))
        client = next((c for c in answer_clients if not c.lock.locked()), None)
        client = client or rng.choice(answer_clients)
        r["accept_sent"][assignment_id] = time.time()
        try:
            status, _ = await client.request(
                "POST", f"/api/v1/assignments/{assignment_id}/accept", token=token
            )
        except Exception:
            error("accept (no answer)")
            return
        if status != 200:
            error(f"accept {status}")
            return
        await asyncio.sleep(rng.uniform(10, 30))
        try:
            status, _ = await client.request(
                "POST",
                f"/api/v1/assignments/{assignment_id}/progress",
                token=token,
                body={"status": "cleared", "resolution": "handled"},
            )
        except Exception:
            error("clear (no answer)")
            return
        if status != 200:
            error(f"clear {status}")
        else:
            r["answers"] += 1

    def on_offer(event: dict) -> None:
        keep(answer(event["unit_id"], event["data"]["assignment_id"]))

    dispatchers = accounts["dispatchers"]
    readers = [
        SSEReader(url, dispatchers[i % len(dispatchers)], on_event=on_offer if i == 0 else None)
        for i in range(args.staff)
    ]
    stop = asyncio.Event()
    reader_tasks = [asyncio.ensure_future(reader.run(stop)) for reader in readers]
    await asyncio.wait_for(asyncio.gather(*(x.connected.wait() for x in readers)), 120)
    await asyncio.sleep(3)

    began = time.monotonic()
    deadline = began + args.seconds

    async def reporter(batch):
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
                r["positions_sent"] += 1
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
                    error("position (no answer)")
                    continue
                if status in (200, 201):
                    r["positions_ok"] += 1
                else:
                    error(f"position {status}")
            tick += 1

    intake_clients = [Client(url) for _ in range(32)]

    async def one_call(i: int):
        r["calls_sent"] += 1
        token = dispatchers[-1]
        phone = f"0812{rng.randrange(10**7, 10**8)}"
        if rng.random() < 0.8:
            kind = "prank"
            body = {"channel": "phone", "category": rng.choice(PRANKS), "caller": {"phone": phone}}
        else:
            multi = rng.random() < 0.1
            kind = "multi" if multi else "real"
            body = {
                "channel": "phone",
                "category": rng.choice(REAL),
                "priority": rng.choice((1, 2, 2, 3, 3, 3, 4)),
                "units_needed": rng.choice((2, 3)) if multi else 1,
                "summary": f"malam pilkada {i}",
                "caller": {"phone": phone},
                "location": {
                    "lat": rng.uniform(MALANG[0] + 0.05, MALANG[1] - 0.05),
                    "lon": rng.uniform(MALANG[2] + 0.05, MALANG[3] - 0.05),
                },
            }
        client = next((c for c in intake_clients if not c.lock.locked()), None)
        client = client or rng.choice(intake_clients)
        started = time.monotonic()
        try:
            status, answer_body = await client.request(
                "POST", "/api/v1/tickets", token=token, body=body
            )
        except Exception:
            error("intake (no answer)")
            return
        if status != 201:
            error(f"intake {status}")
            return
        r["intake"].append(time.monotonic() - started)
        r["tickets"][answer_body["id"]] = kind

    async def caller():
        i = 0
        while time.monotonic() < deadline:
            wait = began + i / args.calls - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            i += 1
            keep(one_call(i))

    connections = 48
    batches = [b for b in (units[i::connections] for i in range(connections)) if b]
    await asyncio.gather(caller(), *(reporter(b) for b in batches))
    r["until"] = time.time()
    await asyncio.sleep(0)
    # Answers already sent finish; no new ones (the accepts still sleeping are dropped).
    for task in list(pending):
        task.cancel()
    await asyncio.sleep(5)  # the last events reach the screens
    r["streams_held"] = sum(1 for x in readers if x.connected.is_set() and x.status == 200)
    r["reconnects"] = sum(x.reconnects for x in readers)
    stop.set()
    for task in reader_tasks:
        task.cancel()
    r["readers"] = readers
    return r


# --- the figures -------------------------------------------------------------------------------


def figures(app, results: dict, visible: dict[int, float]) -> dict:
    from callcenter.extensions import db
    from callcenter.models import Assignment, Event, Ticket

    real = [t for t, kind in results["tickets"].items() if kind != "prank"]
    pranks = [t for t, kind in results["tickets"].items() if kind == "prank"]
    with app.app_context():
        created = (
            dict(
                db.session.execute(
                    db.select(Ticket.id, Ticket.created_at).where(Ticket.id.in_(real))
                ).all()
            )
            if real
            else {}
        )
        first_offer = (
            dict(
                db.session.execute(
                    db.select(Assignment.ticket_id, db.func.min(Assignment.offered_at))
                    .where(Assignment.ticket_id.in_(real))
                    .group_by(Assignment.ticket_id)
                ).all()
            )
            if real
            else {}
        )
        offered_events = (
            db.session.execute(
                db.select(Event.id, Event.ticket_id, Event.data)
                .where(Event.type == "assignment.offered", Event.ticket_id.in_(real))
                .order_by(Event.id)
            ).all()
            if real
            else []
        )
        accepted = db.session.execute(
            db.select(Event.id, Event.data).where(Event.type == "assignment.accepted")
        ).all()
        pranks_routed = (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(Assignment)
                .where(Assignment.ticket_id.in_(pranks))
            )
            if pranks
            else 0
        )
        not_routed = (
            db.session.execute(
                db.select(Ticket.id, Ticket.status, Ticket.status_reason).where(
                    Ticket.id.in_(real), Ticket.status == "new"
                )
            ).all()
            if real
            else []
        )
        db.session.remove()

    readers = results["readers"]
    written = [(first_offer[t] - created[t]).total_seconds() for t in real if t in first_offer]
    on_screens, seen_first = [], set()
    for event_id, ticket_id, _data in offered_events:
        if ticket_id in seen_first:
            continue
        seen_first.add(ticket_id)
        arrivals = [x.arrivals.get(event_id) for x in readers]
        if None not in arrivals:
            on_screens.append(max(arrivals) - created[ticket_id].timestamp())
    accept_every, missing = [], 0
    for event_id, data in accepted:
        sent = results["accept_sent"].get(data.get("assignment_id"))
        if sent is None:
            continue
        arrivals = [x.arrivals.get(event_id) for x in readers]
        missing += sum(1 for a in arrivals if a is None)
        got = [a for a in arrivals if a is not None]
        if got:
            accept_every.append(max(got) - sent)
    return {
        "real": len(real),
        "pranks": len(pranks),
        "written": written,
        "unoffered": len(real) - len(written),
        "on_screens": on_screens,
        "accept_every": accept_every,
        "accept_missing": missing,
        "pranks_routed": pranks_routed,
        "stuck_new": len(not_routed),
    }


def scrape(url: str) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            label = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out[s.name + (f"{{{label}}}" if label else "")] = s.value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--staff", type=int, default=50)
    parser.add_argument("--calls", type=float, default=10)
    parser.add_argument("--report-every", type=float, default=5)
    parser.add_argument("--keep-logs", default=None, help="copy the processes' logs here")
    args = parser.parse_args()
    if args.seconds > 600 or args.units > 5000 or args.staff > 500 or args.calls > 50:
        parser.error("bounded load: at most 600 s, 5,000 units, 500 screens, 50 calls/s")

    from tests.system.sim import check_invariants

    print(
        f"The Pilkada night: production stack (scripts/production.sh), {os.cpu_count()} cores; "
        f"{args.units} units every {args.report_every:g} s, {args.calls:g} calls/s, "
        f"{args.staff} screens, {args.seconds:g} s"
    )
    print("load average at start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)
    with stack("production") as config:
        tmp = config["_TMP"]
        settings = {k: v for k, v in config.items() if not k.startswith("_")}
        settings.update(
            CALLCENTER_POSITION_MAX_AGE_S=3600,
            CALLCENTER_STREAMS_PER_USER=5,
            CALLCENTER_SWEEP_INTERVAL_S=2,
        )
        app = app_for(settings)
        add_units(app, args.units, MALANG, seed=7, available=1.0)
        accounts = make_accounts(app, args.units, args.staff + 1)
        port = free_port()
        env = process_env(
            settings,
            HOST="127.0.0.1",
            PORT=port,
            WEB_PORT=free_port(),
            PUBLISH_PORT=free_port(),
            WORKER_CONCURRENCY=2,
            PROMETHEUS_MULTIPROC_DIR=os.path.join(tmp, "metrics"),
            CALLCENTER_STREAMS="pushpin",
            CALLCENTER_ENV="production",
        )
        env.pop("GUNICORN_WORKERS", None)
        env.pop("GUNICORN_THREADS", None)
        unit_ids = [u for u, _ in accounts["units"]]
        ceiling = measure_ceiling(env, tmp, unit_ids)
        print(f"   ceiling measured: {ceiling['per_s']:.0f} requests/s", flush=True)

        stack_proc = Production(env, tmp)
        left: list[str] = []
        try:
            stack_proc.wait_ready()
            pinger = Pinger(app)
            for _ in range(10):  # warm-up
                pinger.once()
            baseline = [pinger.once() for _ in range(20)]
            pinger.start()
            watcher = Watcher(settings["DATABASE_URL"])
            watcher.start()
            try:
                results = asyncio.run(drive(stack_proc.url, accounts, args))
            finally:
                watcher.stop.set()
                pinger.stop.set()
            metrics = scrape(stack_proc.web_url)
        finally:
            left = stack_proc.stop()
            if args.keep_logs:
                import shutil

                shutil.copytree(tmp, args.keep_logs, ignore=shutil.ignore_patterns("run"))
        figs = figures(app, results, watcher.seen)
        try:
            invariants = check_invariants(app)
            invariant_line = (
                f"held: {invariants['tickets']} tickets, {invariants['assignments']} "
                f"assignments, no unit double-assigned, no ticket over its need"
            )
        except AssertionError as exc:
            invariant_line = f"BROKEN: {exc}"
        from callcenter.extensions import db

        with app.app_context():
            db.engine.dispose()

    errors = results["errors"]
    expected = args.units / args.report_every
    print()
    print("references (same run, before the load and during it):")
    print(f"  empty Celery task round trip, idle      {ms(baseline)}")
    print(f"  empty Celery task round trip, loaded    {ms(pinger.samples)}")
    print(
        f"  bare Flask + one UPDATE (32 clients)    {ceiling['per_s']:.0f} requests/s, "
        f"{ms(ceiling['latency'])}"
    )
    print("the night:")
    print(f"  intake (POST /tickets)                  {ms(results['intake'])}")
    print(
        f"  calls logged                            {figs['real'] + figs['pranks']} of "
        f"{results['calls_sent']} sent ({figs['pranks']} prank/silent, {figs['real']} dispatched;"
        f" {args.calls * args.seconds:.0f} planned; a call unanswered at the end is not counted)"
    )
    print(f"  intake -> first offer written           {ms(figs['written'])}")
    print(f"  intake -> first offer on every screen   {ms(figs['on_screens'])}")
    print(f"  accept -> every screen                  {ms(figs['accept_every'])}")
    print(
        f"  position reports accepted               {results['positions_ok'] / args.seconds:.1f}/s "
        f"of {results['positions_sent'] / args.seconds:.1f}/s sent ({expected:.0f}/s planned)"
    )
    print(
        f"  errors                                  {sum(errors.values())}"
        + (f" {errors}" if errors else "")
    )
    print(
        f"  streams held                            {results['streams_held']} of {args.staff} "
        f"({results['reconnects']} reconnects; /metrics says "
        f"{metrics.get('callcenter_streams_open', 0):.0f} open)"
    )
    print(f"  deliveries of accepts missing           {figs['accept_missing']}")
    print(
        f"  real tickets never offered              {figs['unoffered']} "
        f"(still new: {figs['stuck_new']})"
    )
    print(f"  prank/silent tickets routed             {figs['pranks_routed']}")
    print(f"  jobs accepted and cleared               {results['answers']}")
    print(f"  invariants                              {invariant_line}")
    print(f"  processes left after SIGTERM            {len(left)}" + (f" {left}" if left else ""))
    offers = metrics.get("callcenter_intake_to_offer_seconds_count", 0)
    handed = metrics.get("callcenter_accept_to_stream_seconds_count{via=pushpin}", 0)
    failures = sum(
        v for k, v in metrics.items() if k.startswith("callcenter_broker_publish_failures_total")
    )
    print(
        f"  /metrics                                intake->offer n={offers:.0f}, "
        f"accept->stream n={handed:.0f}, broker publish failures {failures:.0f}"
    )
    print("load average at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
