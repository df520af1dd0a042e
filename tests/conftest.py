"""Test fixtures: real databases (SQLite and PostgreSQL), real Redis, real workers.

Every test that takes ``app`` runs twice: on the embedded default (SQLite, no Redis) and on
the production stack (PostgreSQL and Redis). Each test session gets its own PostgreSQL
database and its own Redis key prefix, so runs never see each other's data.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile

import psycopg
import pytest
import redis
from flask_migrate import upgrade
from sqlalchemy import text

from callcenter import create_app
from callcenter.extensions import db
from tests.helpers import Factory
from tests.processes import Worker, process_env

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = secrets.token_hex(4)
# Tables a migration fills with reference data: kept between tests, their local settings
# (an agency's number, whether it is in service) put back as the migration left them.
SEEDED = {"agencies"}
# Every other table the models declare, children before parents (one list to keep).
TABLES = tuple(t.name for t in reversed(db.metadata.sorted_tables) if t.name not in SEEDED)


def _pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


# Tests that start real processes (workers, web servers, Pushpin, a private PostgreSQL or
# Redis) or drive the browser wait on timers and are sensitive to a starved machine. Under
# pytest-xdist (scripts/test.sh runs two processes) they run one after another in one xdist
# process, while the other takes the in-process API and service tests.
PROCESS_FIXTURES = {"start_worker", "live_server", "browser", "stack"}
PROCESS_MODULES = ("tests/system/", "tests/ops/", "tests/test_health.py")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(PROCESS_MODULES) or PROCESS_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.xdist_group("processes"))


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
        # argon2id's default parameters cost a quarter of a second a hash or a check on two
        # cores, and nearly every test makes users and signs them in.
        "CALLCENTER_ARGON2_PROFILE": "cheapest",
        "CALLCENTER_SWEEP_INTERVAL_S": 0.5,
        # Most tests run no worker: its heartbeat is checked only where a test asks.
        "CALLCENTER_HEARTBEAT_MAX_AGE_S": 0,
        # Every API answer is checked against its declared schema: each test conforms.
        "CALLCENTER_CHECK_RESPONSES": True,
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
        application.extensions["test_seeded"] = _seeded_settings()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


def _seeded_settings() -> list[dict]:
    rows = db.session.execute(text("SELECT id, phone, active FROM agencies ORDER BY id"))
    return [dict(row._mapping) for row in rows]


def _empty_tables(seeded: list[dict]) -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    else:
        for table in TABLES:
            db.session.execute(text(f"DELETE FROM {table}"))
    if _seeded_settings() != seeded:
        db.session.execute(
            text("UPDATE agencies SET phone = :phone, active = :active WHERE id = :id"), seeded
        )
    db.session.commit()


def reset_state(app) -> None:
    """Empty every table and this session's Redis keys.

    A page of the previous browser test may still have a request in flight on the live
    server; PostgreSQL may then pick the TRUNCATE as the victim of a deadlock: try again."""
    from sqlalchemy.exc import OperationalError

    with app.app_context():
        for attempt in range(5):
            try:
                _empty_tables(app.extensions["test_seeded"])
                break
            except OperationalError as exc:
                db.session.rollback()
                if attempt == 4 or "deadlock" not in str(exc).lower():
                    raise
        db.session.remove()
        # Ids start again from 1 in the emptied tables: the live feed must start again too.
        feed_reader = app.extensions.get("cc_broadcaster")
        if feed_reader is not None:
            feed_reader.reset()
            db.session.remove()
        app.extensions.pop("cc_stream_leases", None)  # leases kept in memory (no Redis)
        # Tasks a test published and no worker took go too: ids start again from 1, and a
        # stale route_ticket would act on the next test's ticket.
        queue = app.config["CALLCENTER_QUEUE"]
        if app.config["REDIS_URL"]:
            conn = redis.Redis.from_url(app.config["REDIS_URL"])
            keys = list(conn.scan_iter(app.config["CALLCENTER_REDIS_PREFIX"] + ":*", count=1000))
            keys += list(conn.scan_iter(queue + "*", count=1000))
            if keys:
                conn.delete(*keys)
            conn.close()
        else:
            with (
                contextlib.suppress(Exception),
                app.extensions["celery"].connection_for_write() as broker,
            ):
                broker.default_channel.queue_purge(queue)
        from callcenter.extensions import limiter

        # In-memory or Redis counters of the last app created (whose Redis may be one a
        # fault test took away).
        with contextlib.suppress(redis.RedisError):
            limiter.reset()


@pytest.fixture(autouse=True)
def _clean(request):
    if "app" in request.fixturenames:
        reset_state(request.getfixturevalue("app"))


@pytest.fixture
def production_stack(app):
    """The app on PostgreSQL and Redis, for tests about that stack only."""
    if not app.config["REDIS_URL"]:
        pytest.skip("runs on the production stack (PostgreSQL + Redis)")
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def factory(app):
    return Factory(app)


# --- real processes: Celery workers and a live web server ------------------------------------


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
