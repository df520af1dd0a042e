"""Fault drills on real processes (gunicorn, a Celery worker with beat) against servers
of the test's own: PostgreSQL restarted mid-burst, Redis hung and Redis down while calls
come in, a poison task that kills its worker. Each ends with every call answered and
stored once, every ticket routed, and the invariant checked (no unit held twice)."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request

import pytest
from flask_migrate import upgrade

from callcenter import create_app
from callcenter.extensions import db
from callcenter.models import Ticket
from tests.faults import HangingProxy, PrivatePostgres, PrivateRedis
from tests.helpers import KEPANJEN, Factory, offset, ticket_payload
from tests.processes import WebServer, Worker, free_port, process_env
from tests.system.sim import check_invariants, wait_for
from tests.system.test_faults import FAST, all_routed, make_units, status_counts


def call(url, body, headers, *, method="POST", timeout=10.0):
    """One HTTP call: (status, json), status 0 when no answer came."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except OSError:
        return 0, None


class Dispatcher(threading.Thread):
    """Logs calls one after another, as a dispatcher's console does: each with its own
    Idempotency-Key, tried again (same key) until it is answered 201 or 200."""

    def __init__(self, web_url, headers, n, *, seed, start_at=0, pause=0.05):
        super().__init__(daemon=True)
        self.url, self.headers, self.n = web_url + "/api/v1/tickets", headers, n
        self.rng, self.start_at, self.pause = random.Random(seed), start_at, pause
        self.answers: dict[int, list] = {}  # call -> statuses of its attempts
        self.tickets: dict[int, int] = {}  # call -> ticket id

    def run(self):
        for i in range(self.start_at, self.start_at + self.n):
            point = offset(KEPANJEN, self.rng.uniform(-5000, 5000), self.rng.uniform(-5000, 5000))
            body = ticket_payload(location={"lat": point[0], "lon": point[1]}, summary=f"drill {i}")
            headers = {**self.headers, "Idempotency-Key": f"drill-{i}"}
            self.answers[i] = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                status, answer = call(self.url, body, headers)
                self.answers[i].append(status)
                if status in (200, 201):
                    self.tickets[i] = answer["id"]
                    break
                time.sleep(0.2)
            time.sleep(self.pause)

    def done(self) -> int:
        return len(self.tickets)


def check_no_call_lost(app, *dispatchers):
    tickets = {}
    for d in dispatchers:
        assert set(d.tickets) == set(d.answers), f"calls never answered: {d.answers}"
        tickets.update(d.tickets)
    with app.app_context():
        stored = {t.summary: t.id for t in db.session.scalars(db.select(Ticket))}
        db.session.remove()
    assert len(stored) == len(tickets), "a call stored twice, or one not stored"
    assert {stored[f"drill {i}"] for i in tickets} == set(tickets.values())


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def stack(app_config, tmp_path):
    """``stack(**settings)`` starts gunicorn and a worker (with beat) configured alike;
    returns (web, worker, env)."""
    started = []

    def start(**settings):
        env = process_env({**app_config, **FAST, **settings})
        web = WebServer(env, str(tmp_path / "web.log"), free_port(), workers="2", threads="8")
        worker = Worker(env, str(tmp_path / "worker.log"), concurrency=2, beat=True, name="drill")
        started.extend([worker, web])
        return web.wait_ready(), worker.wait_ready(), env

    yield start
    for process in started:
        if isinstance(process, Worker):
            process.kill()  # its broker and database are the test's own: nothing to keep
        else:
            process.stop()


def test_postgresql_restarted_mid_burst(production_stack, app_config, stack, redis_server):
    """A PostgreSQL of the test's own is restarted (every connection cut) while calls come
    in; web and worker reconnect by themselves: every call ends stored once and routed."""
    pg = PrivatePostgres().start()
    own = None
    try:
        settings = {"DATABASE_URL": pg.url, "REDIS_URL": redis_server.url}
        settings["CALLCENTER_BROKER_URL"] = redis_server.url
        own = create_app({**app_config, **settings, "TESTING": True})
        with own.app_context():
            upgrade()
            db.session.remove()
        factory = Factory(own)
        make_units(factory, 30, seed=11)
        headers = factory.headers("dispatcher")
        web, worker, _ = stack(**settings)

        dispatcher = Dispatcher(web.url, headers, 40, seed=11)
        dispatcher.start()
        wait_for(lambda: dispatcher.done() >= 12, timeout=30, interval=0.02)
        pg.restart()
        dispatcher.join(120)
        check_no_call_lost(own, dispatcher)
        wait_for(
            lambda: all_routed(own, 40),
            timeout=60,
            message=f"left in new: {status_counts(own)}\n{worker.tail()}",
        )
        summary = check_invariants(own)
        assert summary["by_status"] == {"dispatched": 30, "queued": 10}
        assert web.proc.poll() is None and worker.proc.poll() is None
        # The worker itself works again: a unit freed now gets a queued ticket from it.
        with own.app_context():
            db.session.execute(db.text("SELECT 1"))
            db.session.remove()
        extra = factory.unit(callsign="AFTER-PG", point=KEPANJEN)
        wait_for(lambda: factory.unit_row(extra).status == "dispatched", timeout=30)
        check_invariants(own)
    finally:
        if own is not None:
            with own.app_context():
                db.engine.dispose()
        pg.stop()


def test_redis_hung_during_intake(production_stack, app, factory, stack, redis_server):
    """Redis (broker, index, wake-ups) stops answering but keeps connections open: intake
    goes on, the web processes route by themselves, the console's status says degraded;
    when Redis answers again the worker carries on."""
    proxy = HangingProxy(("127.0.0.1", redis_server.port), hung=False)
    try:
        settings = {
            "REDIS_URL": proxy.url,
            "CALLCENTER_BROKER_URL": proxy.url,
            "CALLCENTER_HEARTBEAT_MAX_AGE_S": 5,
        }
        make_units(factory, 30, seed=12)
        headers = factory.headers("dispatcher")
        web, worker, _ = stack(**settings)
        first = Dispatcher(web.url, headers, 10, seed=12)
        first.run()
        wait_for(lambda: all_routed(app, 10), timeout=30, message=worker.tail())

        proxy.hang()
        while_hung = Dispatcher(web.url, headers, 20, seed=13, start_at=10)
        while_hung.run()
        assert all(a == [201] for a in while_hung.answers.values()), while_hung.answers
        # Routed while Redis is still hung: by the web processes.
        wait_for(
            lambda: all_routed(app, 30),
            timeout=30,
            message=f"left in new: {status_counts(app)}",
        )
        _, degraded = call(web.url + "/api/v1/dispatch/status", None, headers, method="GET")
        assert degraded["degraded"] is True

        proxy.recover()
        after = Dispatcher(web.url, headers, 10, seed=14, start_at=30)
        after.run()
        wait_for(lambda: all_routed(app, 40), timeout=60, message=worker.tail())
        wait_for(
            lambda: call(web.url + "/readyz", None, {}, method="GET")[0] == 200,
            timeout=30,
            message=f"{call(web.url + '/readyz', None, {}, method='GET')}\n{worker.tail(80)}",
        )
        check_no_call_lost(app, first, while_hung, after)
        summary = check_invariants(app)
        assert summary["by_status"] == {"dispatched": 30, "queued": 10}
        assert worker.proc.poll() is None, "the worker must survive a hung Redis"
    finally:
        proxy.close()


def test_redis_down_during_intake(production_stack, app, factory, stack, redis_server):
    """Redis stops (connections refused): calls are answered at once and routed by the
    web processes while it is down; started again, the worker carries on."""
    settings = {
        "REDIS_URL": redis_server.url,
        "CALLCENTER_BROKER_URL": redis_server.url,
        "CALLCENTER_HEARTBEAT_MAX_AGE_S": 5,
    }
    make_units(factory, 30, seed=15)
    headers = factory.headers("dispatcher")
    web, worker, _ = stack(**settings)
    first = Dispatcher(web.url, headers, 10, seed=15)
    first.run()
    wait_for(lambda: all_routed(app, 10), timeout=30, message=worker.tail())

    redis_server.stop()
    while_down = Dispatcher(web.url, headers, 20, seed=16, start_at=10)
    while_down.run()
    assert all(a == [201] for a in while_down.answers.values()), while_down.answers
    wait_for(lambda: all_routed(app, 30), timeout=30, message=f"left: {status_counts(app)}")

    redis_server.start()
    after = Dispatcher(web.url, headers, 10, seed=17, start_at=30)
    after.run()
    wait_for(lambda: all_routed(app, 40), timeout=60, message=worker.tail())
    wait_for(lambda: call(web.url + "/readyz", None, {}, method="GET")[0] == 200, timeout=30)
    check_no_call_lost(app, first, while_down, after)
    summary = check_invariants(app)
    assert summary["by_status"] == {"dispatched": 30, "queued": 10}
    assert worker.proc.poll() is None, "the worker must survive Redis going away"


def test_a_poison_task_is_not_redelivered_forever(app, app_config, factory, tmp_path):
    """A task that kills the process running it is given a few more tries, then dropped;
    meanwhile, and after, the worker routes tickets."""
    runs = tmp_path / "poison-runs"
    worker = Worker(
        process_env({**app_config, **FAST}),
        str(tmp_path / "worker.log"),
        concurrency=2,
        beat=True,
        name="poisoned",
        extra_args=("--include", "tests.system.poison"),
    ).wait_ready()
    try:
        make_units(factory, 10, seed=18)
        headers = factory.headers("dispatcher")
        app.extensions["celery"].send_task("tests.poison", args=(str(runs),))
        with app.test_client() as client:
            ids = []
            for i in range(15):
                response = client.post(
                    "/api/v1/tickets",
                    json=ticket_payload(
                        location={"lat": KEPANJEN[0], "lon": KEPANJEN[1] + i * 0.001},
                        summary=f"poison {i}",
                    ),
                    headers=headers,
                )
                assert response.status_code == 201
                ids.append(response.get_json()["id"])
        wait_for(lambda: all_routed(app, 15), timeout=60, message=worker.tail())

        def tries() -> int:
            return len(runs.read_text().split()) if runs.exists() else 0

        wait_for(lambda: tries() >= 4, timeout=60, message=worker.tail())
        time.sleep(4)  # well past the retry delay: no fifth run comes
        assert tries() == 4, f"ran {tries()} times"  # the first run and max_retries (3) more
        assert "retry" in worker.tail(200).lower() or "WorkerLostError" in worker.tail(200)
        assert worker.proc.poll() is None
        # The worker still routes: a unit freed now is offered a queued ticket.
        extra = factory.unit(callsign="AFTER-POISON", point=KEPANJEN)
        wait_for(lambda: factory.unit_row(extra).status == "dispatched", timeout=30)
        summary = check_invariants(app)
        assert summary["by_status"] == {"dispatched": 11, "queued": 4}
    finally:
        worker.stop()
