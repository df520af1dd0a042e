"""A call through scripts/production.sh: the production processes (gunicorn, Pushpin, the
relay, a worker, beat) against a throw-away PostgreSQL database and Redis, started and
stopped exactly as an operator would."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request

import psycopg
import pytest
import redis

from tests.conftest import PG_ADMIN_URL, REDIS_URL
from tests.helpers import KEPANJEN
from tests.processes import ROOT, free_port
from tests.sse import Stream
from tests.system.sim import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def throwaway_database():
    name = f"cc_prod_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_ADMIN_URL.rpartition('/')[0]}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(database_url: str, tmp_path, prefix: str) -> dict:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith(("CALLCENTER_", "GUNICORN_")) or k in ("DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        SECRET_KEY="prod-test-" + prefix,
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_PORT=str(free_port()),
        PUBLISH_PORT=str(free_port()),
        CALLCENTER_REDIS_PREFIX=prefix,
        CALLCENTER_QUEUE=prefix,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        GUNICORN_WORKERS="2",
        PYTHONUNBUFFERED="1",
    )
    return env


def _cli(env: dict, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [os.path.join(ROOT, ".venv/bin/flask"), "--app", "wsgi", *args],
        input=stdin,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _call(base: str, method: str, path: str, token: str | None = None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:  # not the app answering (the push engine, while web starts)
        return status, raw


def _token(base: str, username: str, password: str) -> str:
    status, body = _call(
        base, "POST", "/api/v1/auth/tokens", body={"username": username, "password": password}
    )
    assert status in (200, 201), body
    return body["token"]


def _session_alive(sid: int) -> list[str]:
    out = subprocess.run(
        ["ps", "-eo", "sid=,pid=,args="], capture_output=True, text=True, check=True
    ).stdout
    return [line for line in out.splitlines() if line.split(None, 1)[0] == str(sid)]


def test_a_call_through_the_production_script(throwaway_database, tmp_path):
    prefix = "ccprod" + secrets.token_hex(3)
    env = _env(throwaway_database, tmp_path, prefix)
    base = f"http://127.0.0.1:{env['PORT']}"
    web = f"http://127.0.0.1:{env['WEB_PORT']}"
    log = open(tmp_path / "production.log", "wb")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen(
        ["bash", "scripts/production.sh"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def output() -> str:
        return (tmp_path / "production.log").read_text(errors="replace")[-6000:]

    try:
        wait_for(lambda: "(production) at" in output(), timeout=120, message="not started")

        def ready():
            try:
                return _call(base, "GET", "/healthz")[0] == 200
            except OSError:
                return False

        wait_for(ready, timeout=60, message="Pushpin or web not answering")
        _cli(env, "create-user", "kepala", "--role", "admin", stdin="admin-pass-110\n")
        _cli(env, "create-user", "operator1", "--role", "dispatcher", stdin="disp-pass-110\n")
        admin = _token(base, "kepala", "admin-pass-110")
        status, unit = _call(
            base, "POST", "/api/v1/units", admin, {"callsign": "KPJ-9", "name": "Kepanjen 9"}
        )
        assert status == 201, unit
        _cli(
            env, "create-user", "kpj9", "--role", "unit", "--unit", "KPJ-9", stdin="unit-pass-110\n"
        )
        dispatcher = _token(base, "operator1", "disp-pass-110")
        officer = _token(base, "kpj9", "unit-pass-110")
        assert (
            _call(base, "PUT", "/api/v1/units/me/status", officer, {"status": "available"})[0]
            == 200
        )
        status, _ = _call(
            base,
            "POST",
            "/api/v1/units/me/location",
            officer,
            {"lat": KEPANJEN[0] + 0.002, "lon": KEPANJEN[1], "accuracy_m": 8},
        )
        assert status in (200, 201)

        # The dispatcher's screen, through the push engine.
        stream = Stream(
            base + "/api/v1/events/stream", {"Authorization": f"Bearer {dispatcher}"}, timeout=30
        )
        status, ticket = _call(
            base,
            "POST",
            "/api/v1/tickets",
            dispatcher,
            {
                "channel": "phone",
                "category": "theft",
                "priority": 2,
                "summary": "Motor dicuri di depan pasar",
                "caller": {"phone": "0812-3456-7890"},
                "location": {"lat": KEPANJEN[0], "lon": KEPANJEN[1]},
            },
        )
        assert status == 201, ticket

        def offered():
            code, body = _call(base, "GET", "/api/v1/units/me/assignment", officer)
            job = body.get("assignment") if code == 200 else None
            return body if job and job["status"] == "offered" else None

        mine = wait_for(offered, timeout=30, message="the worker made no offer")
        assert mine["ticket"]["id"] == ticket["id"]
        assignment = mine["assignment"]
        status, _ = _call(base, "POST", f"/api/v1/assignments/{assignment['id']}/accept", officer)
        assert status == 200

        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = stream.next()
            if message["event"] is not None:  # positions and other named messages
                continue
            seen.append(message["data"]["type"])
            if message["data"]["type"] == "assignment.accepted":
                assert message["data"]["ticket_id"] == ticket["id"]
                break
        stream.close()
        assert seen[-1] == "assignment.accepted", seen
        assert "ticket.created" in seen and "assignment.offered" in seen

        # Metrics from this host straight to the web: the worker's and the relay's too.
        with urllib.request.urlopen(web + "/metrics", timeout=10) as response:
            text = response.read().decode()
        assert "callcenter_intake_to_offer_seconds_count 1.0" in text
        assert 'callcenter_accept_to_stream_seconds_count{via="pushpin"} 1.0' in text
        assert 'callcenter_tickets{status="acknowledged"} 1.0' in text
        # Through Pushpin (what the outside reaches) the metrics are not there.
        assert _call(base, "GET", "/metrics")[0] == 404
    except BaseException:
        print(output())
        raise
    finally:
        sid = os.getsid(proc.pid) if proc.poll() is None else proc.pid
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        finally:
            log.close()
            conn = redis.Redis.from_url(REDIS_URL)
            keys = list(conn.scan_iter(prefix + "*", count=1000))
            if keys:
                conn.delete(*keys)
    assert proc.returncode == 0, output()
    # SIGTERM to the script stopped every process it started.
    left = wait_for(lambda: not _session_alive(sid) or None, timeout=30, message="left behind")
    assert left
