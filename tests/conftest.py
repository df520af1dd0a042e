"""Test fixtures: real databases (SQLite and PostgreSQL), real Redis, real workers.

Every test that takes ``app`` runs twice: on the embedded default (SQLite, no Redis) and on
the production stack (PostgreSQL and Redis). Each test session gets its own PostgreSQL
database and its own Redis key prefix, so runs never see each other's data.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile

import psycopg
import pytest
import redis
from flask_migrate import upgrade
from sqlalchemy import text

from callcenter import create_app
from callcenter.extensions import db
from tests.helpers import Factory

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = secrets.token_hex(4)
TABLES = (
    "events",
    "idempotency_keys",
    "assignments",
    "unit_positions",
    "api_tokens",
    "tickets",
    "users",
    "units",
    "sectors",
    "ticket_counters",
    "sign_in_throttle",
)


def _pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


@pytest.fixture(scope="session")
def tmp_root():
    with tempfile.TemporaryDirectory(prefix="cc110-") as path:
        yield path


@pytest.fixture(scope="session")
def pg_database():
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    name = f"cc_test_{RUN_ID}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def base_config(backend: str, tmp_root: str, pg_url: str | None) -> dict:
    """The settings of a test app; workers started by the tests get the same ones."""
    prefix = f"cctest{RUN_ID}{backend[:2]}"
    config = {
        "SECRET_KEY": "test-secret-" + RUN_ID,
        "CALLCENTER_REDIS_PREFIX": prefix,
        "CALLCENTER_QUEUE": prefix,
        "CALLCENTER_LOGIN_RATE": "10000/minute",
        "CALLCENTER_SWEEP_INTERVAL_S": 0.5,
    }
    if backend == "postgresql":
        config["DATABASE_URL"] = pg_url
        config["REDIS_URL"] = REDIS_URL
    else:
        config["DATABASE_URL"] = "sqlite:///" + os.path.join(tmp_root, "callcenter.sqlite")
        config["REDIS_URL"] = ""
        config["CALLCENTER_BROKER_URL"] = "sqla+sqlite:///" + os.path.join(
            tmp_root, "broker.sqlite"
        )
    return config


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture(scope="session")
def app_config(backend, tmp_root, request):
    pg_url = request.getfixturevalue("pg_database") if backend == "postgresql" else None
    return base_config(backend, tmp_root, pg_url)


@pytest.fixture(scope="session")
def app(app_config):
    """The app, with the schema built by running the migrations from empty."""
    application = create_app(dict(app_config, TESTING=True))
    with application.app_context():
        upgrade()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


def _empty_tables() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    else:
        for table in TABLES:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


def reset_state(app) -> None:
    """Empty every table and this session's Redis keys.

    A page of the previous browser test may still have a request in flight on the live
    server; PostgreSQL may then pick the TRUNCATE as the victim of a deadlock: try again."""
    from sqlalchemy.exc import OperationalError

    with app.app_context():
        for attempt in range(5):
            try:
                _empty_tables()
                break
            except OperationalError as exc:
                db.session.rollback()
                if attempt == 4 or "deadlock" not in str(exc).lower():
                    raise
        db.session.remove()
        if app.config["REDIS_URL"]:
            conn = redis.Redis.from_url(app.config["REDIS_URL"])
            keys = list(conn.scan_iter(app.config["CALLCENTER_REDIS_PREFIX"] + ":*", count=1000))
            if keys:
                conn.delete(*keys)
            conn.close()
        from callcenter.extensions import limiter

        limiter.reset()


@pytest.fixture(autouse=True)
def _clean(request):
    if "app" in request.fixturenames:
        reset_state(request.getfixturevalue("app"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def factory(app):
    return Factory(app)


# --- real processes: Celery workers and a live web server ------------------------------------


def process_env(app_config: dict, **extra) -> dict:
    """The environment for a subprocess that must see the same configuration."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("CALLCENTER_") or k in ("DATABASE_URL", "REDIS_URL"))
    }
    for key, value in {**app_config, **extra}.items():
        env[key] = str(value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Worker:
    """A Celery worker (optionally with beat) in its own process group."""

    def __init__(
        self, env: dict, log_path: str, *, concurrency: int = 2, beat: bool = True, name: str = "w1"
    ):
        import subprocess

        self.log_path = log_path
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wsgi.celery_app",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "--hostname",
            f"{name}-{RUN_ID}@%h",
            "--without-mingle",
            "--without-gossip",
        ]
        if beat:
            args += ["--beat", "--schedule", log_path + ".beat"]
        self.log = open(log_path, "ab")  # noqa: SIM115  (closed in stop)
        self.proc = subprocess.Popen(
            args,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> Worker:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                if b" ready." in f.read():
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.tail()}")
            time.sleep(0.1)
        raise TimeoutError(f"worker not ready:\n{self.tail()}")

    def tail(self, n: int = 60) -> str:
        with open(self.log_path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")

    def children(self) -> list[int]:
        import subprocess

        out = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True, check=False
        ).stdout
        return [int(p) for p in out.split()]

    def stop(self, sig=None) -> None:
        import signal as signals

        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig or signals.SIGTERM)
                self.proc.wait(20)
            except Exception:
                os.killpg(self.proc.pid, signals.SIGKILL)
                self.proc.wait(10)
        self.log.close()

    def kill(self) -> None:
        import signal as signals

        self.stop(signals.SIGKILL)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def start_worker(app, app_config, tmp_path):
    """Start Celery workers for this test: ``start_worker(concurrency=, beat=, **env)``."""
    started: list[Worker] = []

    def start(
        *,
        concurrency: int = 2,
        beat: bool = True,
        name: str | None = None,
        wait: bool = True,
        **extra,
    ) -> Worker:
        name = name or f"w{len(started) + 1}"
        worker = Worker(
            process_env(app_config, **extra),
            str(tmp_path / f"{name}.log"),
            concurrency=concurrency,
            beat=beat,
            name=name,
        )
        started.append(worker)
        return worker.wait_ready() if wait else worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over HTTP by a threaded server in this process (one per backend)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
