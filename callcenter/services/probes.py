"""Quick checks of the parts dispatch depends on, each answering ``{"ok": bool, ...}`` in
about ``CALLCENTER_PROBE_TIMEOUT_S`` at worst: a hung server is a failed check, not a
hung caller."""

from __future__ import annotations

import sqlite3
import time

import redis
from flask import current_app
from sqlalchemy import text

from ..config import sqlite_path
from ..extensions import db, reading
from ..redis_policy import no_retry
from . import heartbeat


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        result = {"ok": True, **(check() or {})}
    except Exception as exc:  # every kind of failure is a failed check
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _timeout() -> float:
    return float(current_app.config["CALLCENTER_PROBE_TIMEOUT_S"])


def database() -> dict:
    def check():
        with reading():
            try:
                db.session.execute(text("SELECT 1"))
            finally:
                db.session.rollback()

    return _timed(check)


def _ping_redis(url: str) -> None:
    t = _timeout()
    conn = redis.Redis.from_url(url, socket_connect_timeout=t, socket_timeout=t, retry=no_retry())
    try:
        conn.ping()
    finally:
        conn.close()


def redis_server() -> dict | None:
    """None when no ``REDIS_URL`` is configured."""
    url = current_app.config["REDIS_URL"]
    return _timed(lambda: _ping_redis(url)) if url else None


def broker() -> dict:
    url = current_app.config["CALLCENTER_BROKER_URL"]

    def check():
        if url.startswith("redis"):
            _ping_redis(url)
            return {"kind": "redis"}
        path = sqlite_path(url)
        conn = sqlite3.connect(path, timeout=_timeout())
        try:
            conn.execute("SELECT 1").fetchone()
        finally:
            conn.close()
        return {"kind": "sqlite"}

    return _timed(check)


def worker() -> dict:
    def check():
        with reading():
            try:
                found = heartbeat.worker_check()
            finally:
                db.session.rollback()
        if not found["ok"]:
            found["error"] = (
                "no heartbeat"
                if found["age_s"] is None
                else f"last heartbeat {found['age_s']} s ago (limit {found['max_age_s']} s)"
            )
        return found

    return _timed(check)
