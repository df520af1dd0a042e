"""Redis, for what can be rebuilt from the database: wake-ups and the live index.

Without ``REDIS_URL`` every function here degrades to its embedded fallback (polling,
the SQL locator); with it, a Redis failure is logged and never fails a committed change.
"""

from __future__ import annotations

import contextlib
import logging
import time

import redis
from flask import current_app

from ..redis_policy import no_retry

log = logging.getLogger(__name__)


def client() -> redis.Redis | None:
    """This process's Redis client for the current app, or None without ``REDIS_URL``."""
    app = current_app._get_current_object()
    url = app.config["REDIS_URL"]
    if not url:
        return None
    conn = app.extensions.get("cc_redis")
    if conn is None:
        timeout = float(app.config["CALLCENTER_REDIS_TIMEOUT_S"])
        conn = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            health_check_interval=30,
            retry=no_retry(),  # fail at once: callers fall back (SQL, polling)
        )
        app.extensions["cc_redis"] = conn
    return conn


def key(*parts: str) -> str:
    return ":".join((current_app.config["CALLCENTER_REDIS_PREFIX"], *parts))


# After a Redis failure, best-effort users (wake-ups, the GEO lookup) leave Redis alone
# in this process for this long: a hung Redis must not cost every commit, or every
# routing transaction, its timeout. They fall back meanwhile (polling, SQL).
_QUIET_S = 1.0
_quiet_until = 0.0


def quiet() -> bool:
    """True while this process leaves Redis alone after a failure."""
    return time.monotonic() < _quiet_until


def failed() -> None:
    """Note a Redis failure: ``quiet()`` for the next ``_QUIET_S`` seconds."""
    global _quiet_until
    _quiet_until = time.monotonic() + _QUIET_S


def notify_events(last_id: int) -> None:
    """Wake the live streams: events up to ``last_id`` exist. Best effort."""
    conn = client()
    if conn is None or quiet():
        return
    try:
        conn.publish(key("events"), str(last_id))
    except redis.RedisError as exc:
        failed()
        log.warning("event wake-up not published: %s", exc)


class Waiter:
    """Blocks a live stream until new events may exist, or a timeout passes.

    With Redis it listens to the wake-up channel (and still polls now and then, since a
    wake-up can be lost); without, it polls at ``CALLCENTER_STREAM_POLL_S``.
    """

    def __init__(self):
        self.poll_s = float(current_app.config["CALLCENTER_STREAM_POLL_S"])
        self.pubsub = None
        conn = client()
        if conn is not None:
            try:
                self.pubsub = conn.pubsub(ignore_subscribe_messages=True)
                self.pubsub.subscribe(key("events"))
            except redis.RedisError as exc:
                log.warning("live stream falls back to polling: %s", exc)
                self.pubsub = None

    def wait(self, timeout: float) -> None:
        if self.pubsub is None:
            time.sleep(min(timeout, self.poll_s))
            return
        try:
            message = self.pubsub.get_message(timeout=min(timeout, 5.0))
            # Drain the burst: one query serves all of them.
            while message is not None:
                message = self.pubsub.get_message(timeout=0)
        except (redis.RedisError, OSError) as exc:
            log.warning("wake-up channel lost, polling: %s", exc)
            self.close()
            time.sleep(min(timeout, self.poll_s))

    def close(self) -> None:
        if self.pubsub is not None:
            with contextlib.suppress(redis.RedisError, OSError):
                self.pubsub.close()
            self.pubsub = None
