"""The extension objects, created unbound; ``create_app`` binds them."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from celery import Celery, Task
from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase

log = logging.getLogger(__name__)

# On SQLite, a transaction begun while this is set reads without taking the write lock.
_read_only: ContextVar[bool] = ContextVar("cc_read_only", default=False)
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside only read: on SQLite they begin DEFERRED, so they never
    wait for, nor hold up, a writer (WAL readers see the last commit). End the transaction
    before leaving the block; a write inside is a mistake (an error under test, a warning
    otherwise, since SQLite may then refuse it when another process wrote meanwhile)."""
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)


def begin_reading():
    """``reading()`` for a whole request; returns the token for ``end_reading``."""
    return _read_only.set(True)


def end_reading(token) -> None:
    _read_only.reset(token)


def init_reads(app: Flask) -> None:
    """GET, HEAD and OPTIONS requests only read: their transactions take no write lock."""
    from flask import g, request

    @app.before_request
    def _reading():
        if request.method in ("GET", "HEAD", "OPTIONS"):
            g.cc_reading = begin_reading()

    @app.teardown_request
    def _done_reading(_exc):
        token = g.pop("cc_reading", None)
        if token is not None:
            db.session.remove()  # end the read before the flag goes
            end_reading(token)


class Base(DeclarativeBase):
    pass


class _SQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy with SQLite made safe for several writing processes."""

    def _make_engine(self, bind_key, options, app):
        engine = super()._make_engine(bind_key, options, app)
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)
        return engine


def _configure_sqlite(engine) -> None:
    # pysqlite opens transactions lazily and upgrades read locks to write locks, which fails
    # at once (no busy wait) when another process wrote in between. Taking the write lock at
    # BEGIN makes every writing transaction wait its turn instead; WAL keeps readers
    # unblocked, and a transaction that only reads (``reading()``) begins DEFERRED.
    @event.listens_for(engine, "do_connect")
    def _make_folder(_dialect, _record, _cargs, _cparams):
        from .broker import make_sqlite_folder

        make_sqlite_folder(str(engine.url))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN" if _read_only.get() else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _no_writes_while_reading(_conn, _cursor, statement, _params, _context, _many):
        if _read_only.get() and statement.lstrip()[:7].upper().startswith(_WRITES):
            from flask import current_app, has_app_context

            if has_app_context() and current_app.testing:
                raise RuntimeError(f"a write while reading: {statement[:80]}")
            log.warning("a write in a read-only transaction: %s", statement[:80])


db = _SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def _schedule_file(database_uri: str, instance_path: str) -> str:
    """Beat's schedule file: beside a SQLite database (like the embedded broker), else in
    the instance folder."""
    from .config import sqlite_path

    path = sqlite_path(database_uri)
    if path is None:
        return os.path.join(instance_path, "celerybeat-schedule")
    return os.path.splitext(path)[0] + ".celerybeat-schedule"


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app the Pallets way: every task runs inside a Flask app context."""

    class FlaskTask(Task):
        # A task whose process died under it (killed, out of memory, crashed) is sent again
        # after this many seconds, at most ``max_retries`` times, then dropped: a poison
        # message must not take down worker after worker forever. The sweep repairs
        # whatever a dropped routing task left.
        default_retry_delay = 1

        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    cfg = app.config
    broker = cfg["CALLCENTER_BROKER_URL"]
    broker_transport = None
    if broker.startswith("redis"):
        broker_transport = "callcenter.broker:RedisTransport"
        transport_options = {
            # Longer than any task: an unacknowledged message is redelivered only after this.
            "visibility_timeout": 3600,
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
            "global_keyprefix": cfg["CALLCENTER_REDIS_PREFIX"] + ":q:",
        }
    else:
        transport_options = {"connect_args": {"timeout": 30}}
        broker_transport = "callcenter.broker:Transport"
        broker = broker.removeprefix("sqla+")

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=broker,
        broker_transport=broker_transport,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        imports=("callcenter.tasks",),
        task_default_queue=cfg["CALLCENTER_QUEUE"],
        task_ignore_result=True,
        result_backend=cfg["CALLCENTER_RESULT_BACKEND"] or None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_retry_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # No task may outlive the broker's visibility timeout (3600 s), or it would be
        # delivered a second time while still running.
        task_time_limit=300,
        task_soft_time_limit=240,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        worker_hijack_root_logger=False,
        beat_scheduler="callcenter.beat:Scheduler",
        beat_schedule_filename=_schedule_file(cfg["SQLALCHEMY_DATABASE_URI"], app.instance_path),
        beat_schedule={
            "sweep": {
                "task": "callcenter.tasks.sweep",
                "schedule": float(cfg["CALLCENTER_SWEEP_INTERVAL_S"]),
                # A sweep that waited longer than its interval is replaced by the next one.
                "options": {"expires": float(cfg["CALLCENTER_SWEEP_INTERVAL_S"]) * 2},
            },
            # Hand-offs past their acknowledgement time, call-backs past their due time.
            "followups-sweep": {
                "task": "callcenter.tasks.followups_sweep",
                "schedule": float(cfg["CALLCENTER_SWEEP_INTERVAL_S"]),
                "options": {"expires": float(cfg["CALLCENTER_SWEEP_INTERVAL_S"]) * 2},
            },
            "prune": {
                "task": "callcenter.tasks.prune",
                "schedule": float(cfg["CALLCENTER_RETENTION_EVERY_S"]),
                "options": {"expires": float(cfg["CALLCENTER_RETENTION_EVERY_S"])},
            },
            # WhatsApp: automatic updates to reporters, sends and media fetches due for
            # another attempt, idle threads. Like the sweep, a late one is replaced.
            "wa-sweep": {
                "task": "callcenter.tasks.wa_sweep",
                "schedule": float(cfg["CALLCENTER_WA_SWEEP_S"]),
                "options": {"expires": float(cfg["CALLCENTER_WA_SWEEP_S"]) * 2},
            },
        },
    )
    from .ops import logs

    logs.connect_celery()  # request ids travel in task headers
    celery_app.set_default()
    celery_app.flask_app = app
    app.extensions["celery"] = celery_app
    return celery_app
