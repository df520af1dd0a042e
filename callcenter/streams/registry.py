"""Caps on open streams, per user and in total, kept as leases.

A stream takes a lease when it opens and gives it back when it ends. A lease also expires
by itself (``ttl_s``) unless renewed, so a stream whose end nobody saw (the push engine
does not tell the web when a client leaves) stops counting after a while.

With Redis the leases are shared by every web process (one atomic script admits or
refuses); without it, they live in this process's memory.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time

import redis
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..services import bus
from ..services.errors import Refused

# KEYS: the user's lease set, every lease. ARGV: now, expiry, member, per-user cap, total cap.
# Returns {0, 0} when admitted, else {429 or 503, seconds until the earliest lease expires}.
_ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  return {0, 0}
end
local function wait(key)
  local first = redis.call('ZRANGE', KEYS[key], 0, 0, 'WITHSCORES')
  if not first[2] then return 1 end
  return math.ceil(tonumber(first[2]) - tonumber(ARGV[1]))
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return {429, wait(1)} end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return {503, wait(2)} end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) - tonumber(ARGV[1])) + 60)
return {0, 0}
"""


def too_many(retry_after: float) -> Refused:
    return Refused(
        _l("You have too many live screens open. Close one, or wait a moment."),
        retry_after=math.ceil(retry_after),
        status=429,
        code="too_many_streams",
    )


def full(retry_after: float) -> Refused:
    return Refused(
        _l("The server has no room for another live screen now. Trying again shortly."),
        retry_after=math.ceil(retry_after),
        status=503,
        code="streams_full",
    )


class MemoryLeases:
    """Leases in this process's memory (no Redis)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_user: dict[int, dict[str, float]] = {}

    def _prune(self, now: float) -> None:
        for user_id in list(self.by_user):
            leases = {k: v for k, v in self.by_user[user_id].items() if v > now}
            if leases:
                self.by_user[user_id] = leases
            else:
                del self.by_user[user_id]

    def admit(self, user_id: int, stream_id: str, ttl_s: float, per_user: int, total: int):
        now = time.time()
        with self.lock:
            self._prune(now)
            mine = self.by_user.get(user_id, {})
            if stream_id not in mine:
                if len(mine) >= per_user:
                    raise too_many(min(mine.values()) - now)
                everyone = [v for leases in self.by_user.values() for v in leases.values()]
                if len(everyone) >= total:
                    raise full(min(everyone) - now)
            self.by_user.setdefault(user_id, {})[stream_id] = now + ttl_s

    def release(self, user_id: int, stream_id: str) -> None:
        with self.lock:
            self.by_user.get(user_id, {}).pop(stream_id, None)

    def count(self, user_id: int) -> int:
        with self.lock:
            self._prune(time.time())
            return len(self.by_user.get(user_id, {}))


class RedisLeases:
    """Leases in Redis, shared by every web process."""

    def __init__(self, conn: redis.Redis):
        self.conn = conn
        self.script = conn.register_script(_ADMIT)

    @staticmethod
    def _keys(user_id: int) -> list[str]:
        return [bus.key("streams", "user", str(user_id)), bus.key("streams", "all")]

    def admit(self, user_id: int, stream_id: str, ttl_s: float, per_user: int, total: int):
        now = time.time()
        member = f"{user_id}:{stream_id}"
        status, wait = self.script(
            keys=self._keys(user_id), args=[now, now + ttl_s, member, per_user, total]
        )
        if status == 429:
            raise too_many(wait)
        if status == 503:
            raise full(wait)

    def release(self, user_id: int, stream_id: str) -> None:
        member = f"{user_id}:{stream_id}"
        pipe = self.conn.pipeline(transaction=False)
        for key in self._keys(user_id):
            pipe.zrem(key, member)
        pipe.execute()

    def count(self, user_id: int) -> int:
        key = self._keys(user_id)[0]
        self.conn.zremrangebyscore(key, "-inf", time.time())
        return self.conn.zcard(key)


def leases():
    """This app's lease store: Redis when configured, else this process's memory."""
    app = current_app._get_current_object()
    store = app.extensions.get("cc_stream_leases")
    if store is None:
        conn = bus.client()
        store = RedisLeases(conn) if conn is not None else MemoryLeases()
        app.extensions["cc_stream_leases"] = store
    return store


def admit(user_id: int, stream_id: str, ttl_s: float) -> None:
    """Take (or renew) a lease for ``stream_id``; raises ``Refused`` (429 over the user's
    cap, 503 over the total) with the seconds until a lease frees up."""
    cfg = current_app.config
    store = leases()
    try:
        store.admit(
            user_id,
            stream_id,
            ttl_s,
            int(cfg["CALLCENTER_STREAMS_PER_USER"]),
            int(cfg["CALLCENTER_STREAMS_MAX"]),
        )
    except redis.RedisError:
        # Without its lease store, a stream is let through: the caps protect the service,
        # and refusing every screen while Redis restarts would be worse.
        current_app.logger.warning("stream lease store unavailable; stream admitted")


def release(user_id: int, stream_id: str) -> None:
    with contextlib.suppress(redis.RedisError):  # else the lease expires by itself
        leases().release(user_id, stream_id)


def check(user_id: int) -> None:
    """Raise ``Refused`` when this user could not open another stream now."""
    cfg = current_app.config
    try:
        if leases().count(user_id) >= int(cfg["CALLCENTER_STREAMS_PER_USER"]):
            raise too_many(float(cfg["CALLCENTER_STREAM_KEEPALIVE_S"]))
    except redis.RedisError:
        pass
