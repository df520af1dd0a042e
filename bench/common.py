"""Shared pieces of the benchmarks: throw-away databases, unit fleets, percentiles."""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import statistics
import tempfile
from datetime import timedelta

import psycopg
import redis
from sqlalchemy import insert

PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# Java and Bali: the area the fleets are spread over for the lookup benchmark.
JAVA = (-8.8, -6.0, 105.0, 114.6)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def summary_ms(samples_s: list[float]) -> str:
    ms = [s * 1000 for s in samples_s]
    if not ms:
        return "no samples"
    return (
        f"p50 {statistics.median(ms):8.2f} ms   p99 {percentile(ms, 0.99):8.2f} ms   (n={len(ms)})"
    )


@contextlib.contextmanager
def stack(kind: str):
    """A throw-away configuration: ``embedded`` (SQLite files, no Redis) or ``production``
    (a new PostgreSQL database and a Redis key prefix of its own). Yields the settings."""
    run = secrets.token_hex(4)
    prefix = f"ccbench{run}"
    with tempfile.TemporaryDirectory(prefix="cc110-bench-") as tmp:
        config = {
            "SECRET_KEY": "bench-" + run,
            "CALLCENTER_REDIS_PREFIX": prefix,
            "CALLCENTER_QUEUE": prefix,
            "CALLCENTER_LOGIN_RATE": "100000/minute",
            "CALLCENTER_POSITION_MAX_AGE_S": 3600,
        }
        name = None
        if kind == "production":
            name = f"cc_bench_{run}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            base = PG_ADMIN_URL.rpartition("/")[0]
            config.update(
                DATABASE_URL=f"{base}/{name}",
                REDIS_URL=REDIS_URL,
                CALLCENTER_RESULT_BACKEND=REDIS_URL,
            )
        else:
            config.update(
                DATABASE_URL=f"sqlite:///{tmp}/callcenter.sqlite",
                REDIS_URL="",
                CALLCENTER_BROKER_URL=f"sqla+sqlite:///{tmp}/broker.sqlite",
                CALLCENTER_RESULT_BACKEND=f"db+sqlite:///{tmp}/results.sqlite",
            )
        config["_TMP"] = tmp
        try:
            yield config
        finally:
            if name:
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn = redis.Redis.from_url(REDIS_URL)
                keys = list(conn.scan_iter(prefix + "*", count=5000))
                for start in range(0, len(keys), 5000):
                    conn.delete(*keys[start : start + 5000])


def app_for(config: dict):
    """The app for ``config``, with the schema migrated."""
    from flask_migrate import upgrade

    from callcenter import create_app
    from callcenter.extensions import db

    app = create_app({k: v for k, v in config.items() if not k.startswith("_")})
    with app.app_context():
        upgrade()
        db.session.remove()
    return app


def add_units(app, n: int, area, *, seed: int = 1, available: float = 0.7, start: int = 0) -> None:
    """Insert ``n`` units spread uniformly over ``area`` (min_lat, max_lat, min_lon, max_lon);
    a share of them available with fresh positions, the rest busy, off duty or stale."""
    from callcenter.extensions import db
    from callcenter.models import Unit
    from callcenter.services import clock

    rng = random.Random(seed)
    now = clock.now()
    rows = []
    for i in range(start, start + n):
        status = (
            "available"
            if rng.random() < available
            else rng.choice(["dispatched", "on_scene", "off_duty", "unavailable"])
        )
        age = rng.choice([0, 20, 60, 120]) if rng.random() < 0.95 else 7200
        rows.append(
            {
                "callsign": f"B-{i}",
                "name": f"Bench {i}",
                "kind": rng.choice(["car", "motorcycle"]),
                "status": status,
                "status_changed_at": now,
                "created_at": now,
                "lat": rng.uniform(area[0], area[1]),
                "lon": rng.uniform(area[2], area[3]),
                "position_at": now - timedelta(seconds=age),
                "position_updated_at": now,
            }
        )
    with app.app_context():
        for chunk in range(0, len(rows), 5000):
            db.session.execute(insert(Unit), rows[chunk : chunk + 5000])
        db.session.commit()
        db.session.remove()


# --- a checkout of the project served as its own processes (for before/after runs) ----------


def python_of(root: str) -> str:
    """The checkout's own interpreter (its .venv), so that an older checkout runs its code."""
    own = os.path.join(root, ".venv", "bin", "python")
    return own if os.path.exists(own) else "python3"


def cli(root: str, env: dict, *args: str, stdin: str | None = None) -> str:
    """``flask --app wsgi ARGS`` in the checkout at ``root``."""
    import subprocess

    done = subprocess.run(
        [python_of(root), "-m", "flask", "--app", "wsgi", *args],
        env=env,
        cwd=root,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def serve(root: str, env: dict, port: int, log_path: str, *, workers=2, threads=16):
    """gunicorn with the checkout's own configuration, in its own process group; waits
    until it answers. Stop it with ``stop(proc)``."""
    import subprocess
    import time
    import urllib.request

    env = {**env, "GUNICORN_WORKERS": str(workers), "GUNICORN_THREADS": str(threads)}
    log = open(log_path, "ab")  # noqa: SIM115  (the process holds it)
    proc = subprocess.Popen(
        [
            python_of(root),
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "wsgi:app",
        ],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {log_path}") from None
            time.sleep(0.2)
    raise TimeoutError("gunicorn did not answer")


def stop(proc) -> None:
    import signal

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except Exception:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def http(method: str, url: str, body=None, headers=None, timeout: float = 60.0):
    """(status, json or None, seconds taken); status 0 when no answer came."""
    import json
    import time
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    except OSError:
        return 0, None, time.perf_counter() - started
    elapsed = time.perf_counter() - started
    try:
        return status, json.loads(raw or b"null"), elapsed
    except ValueError:
        return status, None, elapsed


def staff(base_url: str, root: str, env: dict, password: str = "bench-password-1"):
    """An admin (made with the CLI) and, through the API, a dispatcher, a unit and its
    user. Returns {"dispatcher": headers, "unit": headers, "admin": headers}."""
    cli(root, env, "create-user", "benchadmin", "--role", "admin", stdin=password + "\n")

    def token(username):
        status, body, _ = http(
            "POST", base_url + "/api/v1/auth/tokens", {"username": username, "password": password}
        )
        assert status == 201, (status, body)
        return {"Authorization": "Bearer " + body["token"]}

    admin = token("benchadmin")
    status, unit, _ = http(
        "POST", base_url + "/api/v1/units", {"callsign": "BENCH-1", "name": "Bench"}, admin
    )
    assert status == 201, (status, unit)
    for username, role, extra in (
        ("benchdisp", "dispatcher", {}),
        ("benchunit", "unit", {"unit_id": unit["id"]}),
    ):
        status, body, _ = http(
            "POST",
            base_url + "/api/v1/users",
            {"username": username, "password": password, "role": role, **extra},
            admin,
        )
        assert status == 201, (status, body)
    return {"admin": admin, "dispatcher": token("benchdisp"), "unit": token("benchunit")}
