"""Faults: a worker killed mid-routing, Redis restarted during intake, workers stopped while
calls come in. Each ends with no ticket lost and the invariant holding."""

import os
import random
import signal
import threading
import time

import pytest

from callcenter.extensions import db
from callcenter.models import Ticket
from tests.faults import PrivateRedis
from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.processes import WebServer, Worker, free_port, process_env
from tests.system.sim import check_invariants, wait_for

FAST = {
    "CALLCENTER_SWEEP_INTERVAL_S": 0.5,
    "CALLCENTER_STUCK_NEW_S": 2,
    "CALLCENTER_POSITION_MAX_AGE_S": 900,
}


def status_counts(app) -> dict:
    with app.app_context():
        rows = db.session.execute(
            db.select(Ticket.status, db.func.count()).group_by(Ticket.status)
        ).all()
        db.session.remove()
    return dict(rows)


def all_routed(app, expected: int) -> bool:
    """Every ticket left ``new``: it is offered to a unit or queued with its reason."""
    counts = status_counts(app)
    return sum(counts.values()) == expected and counts.get("new", 0) == 0


def make_units(factory, n, seed=1):
    rng = random.Random(seed)
    return [
        factory.unit(
            callsign=f"F-{seed}-{i}",
            point=offset(KEPANJEN, rng.uniform(-6000, 6000), rng.uniform(-6000, 6000)),
        )
        for i in range(n)
    ]


def log_calls(client, headers, n, rng, pause=0.0):
    ids = []
    for i in range(n):
        point = offset(KEPANJEN, rng.uniform(-5000, 5000), rng.uniform(-5000, 5000))
        response = client.post(
            "/api/v1/tickets",
            headers=headers,
            json=ticket_payload(
                location={"lat": point[0], "lon": point[1]},
                summary=f"fault {i}",
                category=rng.choice(["theft", "noise", "fight"]),
            ),
        )
        assert response.status_code == 201, response.get_data(True)
        ids.append(response.get_json()["id"])
        if pause:
            time.sleep(pause)
    return ids


def test_worker_killed_mid_routing(app, factory, start_worker, monkeypatch):
    """SIGKILL a worker (main process and pool children) while a burst is being routed;
    a new worker and the sweep finish the job, and no unit is claimed twice."""
    for key, value in FAST.items():
        monkeypatch.setitem(app.config, key, value)
    make_units(factory, 40)
    headers = factory.headers("dispatcher")
    victim = start_worker(concurrency=2, beat=True, name="victim", **FAST)
    rng = random.Random(5)
    with app.test_client() as client:
        ids = log_calls(client, headers, 60, rng)
    # Kill as soon as routing is under way, not after it finished.
    wait_for(lambda: len(factory.events("assignment.offered")) >= 5, timeout=30, interval=0.01)
    routed_before = len(factory.events("assignment.offered"))
    victim.kill()
    assert routed_before < len(ids), "the burst was over before the kill"
    start_worker(concurrency=2, beat=True, name="survivor", **FAST)
    wait_for(
        lambda: all_routed(app, len(ids)),
        timeout=60,
        message=f"tickets left in new: {status_counts(app)}",
    )
    summary = check_invariants(app)
    assert summary["by_status"].get("dispatched", 0) + summary["by_status"].get("queued", 0) == len(
        ids
    )
    # 40 units, 60 calls: 40 offered, 20 queued for want of a unit.
    assert summary["by_status"]["dispatched"] == 40


def test_pool_processes_killed_while_running_tasks(app, factory, start_worker, monkeypatch):
    """SIGKILL one node's pool processes mid-burst. A prefork node can stay wedged after
    that (its pool queue lock may die with a child), so, as in production, another node
    and beat (here in that node) carry on: tasks the dead processes held are rejected back
    (task_reject_on_worker_lost) or repaired by the sweep."""
    for key, value in FAST.items():
        monkeypatch.setitem(app.config, key, value)
    make_units(factory, 30, seed=2)
    headers = factory.headers("dispatcher")
    worker = start_worker(concurrency=2, beat=False, name="victim", **FAST)
    start_worker(concurrency=2, beat=True, name="healthy", **FAST)
    rng = random.Random(6)
    with app.test_client() as client:
        ids = log_calls(client, headers, 40, rng)
        for pid in worker.children():
            os.kill(pid, signal.SIGKILL)
        ids += log_calls(client, headers, 10, rng)
    wait_for(
        lambda: all_routed(app, len(ids)),
        timeout=60,
        message=f"tickets left in new: {status_counts(app)}",
    )
    summary = check_invariants(app)
    assert summary["by_status"]["dispatched"] == 30


def test_calls_logged_while_workers_are_stopped_are_routed_on_restart(
    app, factory, start_worker, monkeypatch
):
    for key, value in FAST.items():
        monkeypatch.setitem(app.config, key, value)
    make_units(factory, 25, seed=3)
    headers = factory.headers("dispatcher")
    first = start_worker(concurrency=2, beat=True, name="before", **FAST)
    rng = random.Random(7)
    with app.test_client() as client:
        ids = log_calls(client, headers, 5, rng)
        wait_for(lambda: all_routed(app, len(ids)), timeout=30)
        first.stop()
        ids += log_calls(client, headers, 20, rng)
    time.sleep(1)
    assert status_counts(app).get("new", 0) == 20  # nothing routes them while stopped
    start_worker(concurrency=2, beat=True, name="after", **FAST)
    wait_for(
        lambda: all_routed(app, len(ids)),
        timeout=60,
        message=f"tickets left in new: {status_counts(app)}",
    )
    summary = check_invariants(app)
    assert summary["by_status"]["dispatched"] == 25


# --- Redis restarted while calls are being logged ---------------------------------------------


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def http(method, url, body=None, headers=None):
    import json
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_redis_restarted_while_calls_are_logged(
    production_stack, app_config, factory, private_redis, tmp_path
):
    """Redis holds only what can be rebuilt: its restart loses queued messages, the GEO index
    and wake-ups, yet every call is stored, answered 201, and routed. The web server and the
    worker run as their own processes against a Redis of this test's own."""
    app = production_stack
    config = {
        **app_config,
        **FAST,
        "REDIS_URL": private_redis.url,
        "CALLCENTER_BROKER_URL": private_redis.url,
    }
    env = process_env(config)
    make_units(factory, 40, seed=4)
    headers = factory.headers("dispatcher")
    web = WebServer(env, str(tmp_path / "web.log"), free_port()).wait_ready()
    worker = Worker(
        env, str(tmp_path / "worker.log"), concurrency=2, beat=True, name="redisfault"
    ).wait_ready()
    try:
        rng = random.Random(8)
        answers: list = []

        def intake():
            for i in range(60):
                point = offset(KEPANJEN, rng.uniform(-5000, 5000), rng.uniform(-5000, 5000))
                answers.append(
                    http(
                        "POST",
                        web.url + "/api/v1/tickets",
                        ticket_payload(
                            location={"lat": point[0], "lon": point[1]}, summary=f"redis {i}"
                        ),
                        headers,
                    )
                )
                time.sleep(0.05)

        thread = threading.Thread(target=intake)
        thread.start()
        wait_for(lambda: len(answers) >= 15, timeout=30, interval=0.02)
        private_redis.stop()  # everything in Redis is gone
        time.sleep(1.0)
        private_redis.start()
        thread.join(180)
        assert [status for status, _ in answers] == [201] * 60
        wait_for(
            lambda: all_routed(app, 60),
            timeout=90,
            message=f"tickets left in new: {status_counts(app)}\n{worker.tail()}",
        )
        summary = check_invariants(app)
        assert summary["by_status"]["dispatched"] == 40
        assert worker.proc.poll() is None, "the worker must survive the Redis restart"
    finally:
        worker.stop()
        web.stop()
