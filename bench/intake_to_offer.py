"""Intake-to-offer latency: from the ``POST /api/v1/tickets`` response to the
``assignment.offered`` event, at 10 tickets per second for 60 s with 2,000 units.

    .venv/bin/python -m bench.intake_to_offer [--stack production|embedded|both]
                                              [--rate 10] [--seconds 60] [--units 2000]
                                              [--multi-every 4]

The web part (gunicorn, gthread) and a Celery worker (2 processes, beat) run as their own
processes, as in production. Every ``--multi-every``-th ticket needs 3 units (0: none).
Two figures per ticket:

- "offer written": the offered event's own timestamp (taken in the worker, in the routing
  transaction) minus the moment the client had the 201 response;
- "on the screen": when the event arrived on a dispatcher's SSE stream minus the same moment.

Both are given for the first offer of every ticket, and for the last slot's offer (the
third) of the 3-unit tickets: the time until the whole incident has its units offered.

Beside them, in the same run, the raw round trip of an empty Celery task on the same broker
(send, run, result back), sent once a second during the load. Targets with Redis: p50 under
50 ms and p99 under 250 ms. Load goes to 127.0.0.1 only and is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from bench.common import add_units, app_for, stack, summary_ms
from tests.processes import WebServer, Worker, process_env

# Kabupaten Malang and around, where the fleet and the calls are.
MALANG = (-8.45, -7.75, 112.25, 112.95)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: dict, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


class StreamListener(threading.Thread):
    """A dispatcher screen: reads the SSE stream and notes when each offer arrives."""

    def __init__(self, url: str, token: str):
        super().__init__(daemon=True)
        self.url, self.token = url, token
        # ticket id -> [(arrived on the stream, written at)] per offer, in order.
        self.offers: dict[int, list[tuple[float, float]]] = {}
        self.connected = threading.Event()

    def run(self):
        request = urllib.request.Request(
            self.url + "/api/v1/events/stream", headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            self.connected.set()
            for raw in response:
                line = raw.decode().rstrip("\n")
                if not line.startswith("data: "):
                    continue
                arrived = time.time()
                event = json.loads(line[6:])
                if event.get("type") == "assignment.offered":
                    from datetime import datetime

                    written = datetime.fromisoformat(event["at"]).timestamp()
                    self.offers.setdefault(event["ticket_id"], []).append((arrived, written))

    def nth(self, ticket_id: int, n: int) -> tuple[float, float] | None:
        """(arrived, written) of the ticket's ``n``-th offer (1-based), if it came."""
        offers = self.offers.get(ticket_id, [])
        return offers[n - 1] if len(offers) >= n else None


def run_stack(kind: str, rate: float, seconds: float, units: int, multi_every: int) -> None:
    import random

    from callcenter.extensions import db
    from callcenter.models import User
    from callcenter.services import credentials, sessions

    print(
        f"\n== {kind}: {'PostgreSQL + Redis' if kind == 'production' else 'SQLite + SQLite broker'}"
        f", {units} units, {rate:g} tickets/s for {seconds:g} s"
    )
    with stack(kind) as config:
        config = {**config, "CALLCENTER_SWEEP_INTERVAL_S": 2}
        app = app_for(config)
        add_units(app, units, MALANG, seed=7, available=1.0)
        with app.app_context():
            user = User(
                username="bench",
                password_hash=credentials.hash_password("x" * 12),
                role="dispatcher",
            )
            db.session.add(user)
            db.session.commit()
            token, _ = sessions.issue_token(user)
            db.session.remove()
        env = process_env({k: v for k, v in config.items() if not k.startswith("_")})
        tmp = config["_TMP"]
        worker = Worker(
            env, os.path.join(tmp, "worker.log"), concurrency=2, beat=True, name="bench"
        ).wait_ready()
        web = WebServer(env, os.path.join(tmp, "web.log"), free_port()).wait_ready()
        try:
            listener = StreamListener(web.url, token)
            listener.start()
            listener.connected.wait(10)
            celery_app = app.extensions["celery"]
            ping = celery_app.signature("callcenter.tasks.ping")
            pings: list[float] = []
            stop = threading.Event()

            def pinger():
                while not stop.is_set():
                    started = time.time()
                    ping.apply_async((started,)).get(timeout=10, interval=0.001)
                    pings.append(time.time() - started)
                    stop.wait(1.0)

            for _ in range(10):  # warm-up of the round trip
                ping.apply_async((time.time(),)).get(timeout=10, interval=0.001)
            ping_thread = threading.Thread(target=pinger, daemon=True)
            ping_thread.start()

            rng = random.Random(11)
            responses: dict[int, float] = {}
            multi: set[int] = set()
            post_times: list[float] = []
            failures: list = []

            def one(i: int) -> None:
                lat = rng.uniform(MALANG[0] + 0.05, MALANG[1] - 0.05)
                lon = rng.uniform(MALANG[2] + 0.05, MALANG[3] - 0.05)
                three = multi_every > 0 and i % multi_every == 0
                body = {
                    "channel": "phone",
                    "category": "theft",
                    "priority": 3,
                    "units_needed": 3 if three else 1,
                    "summary": f"bench {i}",
                    "caller": {"phone": "0811-48-2000"},
                    "location": {"lat": lat, "lon": lon},
                }
                started = time.time()
                try:
                    status, ticket = post(web.url + "/api/v1/tickets", body, token)
                except Exception as exc:  # counted and printed
                    failures.append(repr(exc))
                    return
                done = time.time()
                post_times.append(done - started)
                if status == 201:
                    responses[ticket["id"]] = done
                    if three:
                        multi.add(ticket["id"])
                else:
                    failures.append(status)

            total = int(rate * seconds)
            began = time.monotonic()
            with ThreadPoolExecutor(max_workers=32) as pool:
                for i in range(total):
                    delay = began + i / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    pool.submit(one, i)
            deadline = time.monotonic() + 30

            def complete() -> bool:
                return all(
                    listener.nth(t, 3 if t in multi else 1) is not None for t in list(responses)
                )

            while time.monotonic() < deadline and not complete():
                time.sleep(0.2)
            stop.set()
            ping_thread.join(15)

            def figures(tickets, n):
                got = [(t, listener.nth(t, n)) for t in tickets]
                screen = [seen[0] - responses[t] for t, seen in got if seen]
                written = [seen[1] - responses[t] for t, seen in got if seen]
                return written, screen, sum(1 for _, seen in got if seen is None)

            written, screen, missing = figures(responses, 1)
            last_written, last_screen, last_missing = figures(multi, 3)
            print(
                f"  tickets: {total} sent, {len(responses)} created ({len(multi)} needing 3 "
                f"units), {len(failures)} failed, {missing} without an offer, "
                f"{last_missing} 3-unit tickets without their third"
            )
            print(f"  POST /api/v1/tickets                 {summary_ms(post_times)}")
            print(f"  response -> first offer written      {summary_ms(written)}")
            print(f"  response -> first offer on screen    {summary_ms(screen)}")
            if multi:
                print(f"  3 units: -> last slot offer written  {summary_ms(last_written)}")
                print(f"  3 units: -> last slot offer on screen {summary_ms(last_screen)}")
            print(f"  empty Celery task round trip         {summary_ms(pings)}")
        finally:
            web.stop()
            worker.stop()
            with app.app_context():
                db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", choices=["production", "embedded", "both"], default="both")
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--multi-every", type=int, default=4)
    args = parser.parse_args()
    if args.rate * args.seconds > 5000:
        parser.error("bounded load: at most 5,000 tickets")
    print(f"intake-to-offer latency, {os.cpu_count()} cores")
    for kind in ["production", "embedded"] if args.stack == "both" else [args.stack]:
        run_stack(kind, args.rate, args.seconds, args.units, args.multi_every)


if __name__ == "__main__":
    main()
