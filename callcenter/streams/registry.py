"""Caps on open streams, per user and in total, kept as leases.

A stream takes a lease when it opens and gives it back when it ends. A lease also expires
by itself (``ttl_s``) unless renewed: the push engine does not tell the web when a client
leaves, so there a lease lasts as long as a stream may (``CALLCENTER_STREAM_MAX_S``).

A lease is named by the client's key (``?client=``, one per browser tab) when it sends
one, else by the stream. A reconnect from the same tab therefore takes the tab's lease
over instead of adding one, and the stream it replaces is ended (``admit`` returns it),
so one key cannot hold more than one stream either.

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

# KEYS: the user's leases (member -> expiry), every lease, the user's member -> stream id.
# ARGV: now, expiry, member, stream id, per-user cap, total cap.
# Returns {0, 0, replaced stream id or ''} when admitted, else {429 or 503, wait, ''}.
_ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local everyone = KEYS[1] .. '|' .. ARGV[3]
local function wait(key)
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if not first[2] then return 1 end
  return math.ceil(tonumber(first[2]) - tonumber(ARGV[1]))
end
local replaced = ''
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  replaced = redis.call('HGET', KEYS[3], ARGV[3]) or ''
else
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[5]) then return {429, wait(KEYS[1]), ''} end
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then return {503, wait(KEYS[2]), ''} end
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], everyone)
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
local ttl = math.ceil(tonumber(ARGV[2]) - tonumber(ARGV[1])) + 60
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[3], ttl)
if replaced == ARGV[4] then replaced = '' end
return {0, 0, replaced}
"""

# KEYS: as above. ARGV: now, expiry, member, stream id. Extends the lease if the stream
# still holds it; returns 0 when another stream has taken it over (this one should end).
_RENEW = """
if redis.call('HGET', KEYS[3], ARGV[3]) ~= ARGV[4] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], KEYS[1] .. '|' .. ARGV[3])
return 1
"""

# KEYS: as above. ARGV: member. Gives the lease back; returns the stream that held it, or ''.
_FORGET = """
local stream = redis.call('HGET', KEYS[3], ARGV[1]) or ''
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], KEYS[1] .. '|' .. ARGV[1])
return stream
"""

# KEYS: as above. ARGV: member, stream id. Gives the lease back if the stream still holds it.
_RELEASE = """
if redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], KEYS[1] .. '|' .. ARGV[1])
end
return 0
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
        # user -> member -> (expiry, stream id)
        self.by_user: dict[int, dict[str, tuple[float, str]]] = {}

    def _prune(self, now: float) -> None:
        for user_id in list(self.by_user):
            leases = {k: v for k, v in self.by_user[user_id].items() if v[0] > now}
            if leases:
                self.by_user[user_id] = leases
            else:
                del self.by_user[user_id]

    def admit(self, user_id, member, stream_id, ttl_s, per_user, total) -> str | None:
        now = time.time()
        with self.lock:
            self._prune(now)
            mine = self.by_user.get(user_id, {})
            replaced = mine[member][1] if member in mine else None
            if member not in mine:
                if len(mine) >= per_user:
                    raise too_many(min(v[0] for v in mine.values()) - now)
                everyone = [v[0] for leases in self.by_user.values() for v in leases.values()]
                if len(everyone) >= total:
                    raise full(min(everyone) - now)
            self.by_user.setdefault(user_id, {})[member] = (now + ttl_s, stream_id)
        return replaced if replaced != stream_id else None

    def renew(self, user_id, member, stream_id, ttl_s) -> bool:
        with self.lock:
            mine = self.by_user.get(user_id, {})
            if member not in mine or mine[member][1] != stream_id:
                return False
            mine[member] = (time.time() + ttl_s, stream_id)
            return True

    def release(self, user_id, member, stream_id) -> None:
        with self.lock:
            mine = self.by_user.get(user_id, {})
            if member in mine and mine[member][1] == stream_id:
                del mine[member]

    def forget(self, user_id, member) -> str | None:
        with self.lock:
            lease = self.by_user.get(user_id, {}).pop(member, None)
            return lease[1] if lease else None

    def count(self, user_id: int) -> int:
        with self.lock:
            self._prune(time.time())
            return len(self.by_user.get(user_id, {}))

    def holds(self, user_id: int, member: str) -> bool:
        with self.lock:
            self._prune(time.time())
            return member in self.by_user.get(user_id, {})

    def total(self) -> int:
        with self.lock:
            self._prune(time.time())
            return sum(len(leases) for leases in self.by_user.values())


class RedisLeases:
    """Leases in Redis, shared by every web process."""

    def __init__(self, conn: redis.Redis):
        self.conn = conn
        self.admit_script = conn.register_script(_ADMIT)
        self.renew_script = conn.register_script(_RENEW)
        self.release_script = conn.register_script(_RELEASE)
        self.forget_script = conn.register_script(_FORGET)

    @staticmethod
    def _keys(user_id: int) -> list[str]:
        return [
            bus.key("streams", "user", str(user_id)),
            bus.key("streams", "all"),
            bus.key("streams", "owner", str(user_id)),
        ]

    def admit(self, user_id, member, stream_id, ttl_s, per_user, total) -> str | None:
        now = time.time()
        status, wait, replaced = self.admit_script(
            keys=self._keys(user_id),
            args=[now, now + ttl_s, member, stream_id, per_user, total],
        )
        if status == 429:
            raise too_many(wait)
        if status == 503:
            raise full(wait)
        replaced = replaced.decode() if isinstance(replaced, bytes) else replaced
        return replaced or None

    def renew(self, user_id, member, stream_id, ttl_s) -> bool:
        now = time.time()
        return bool(
            self.renew_script(keys=self._keys(user_id), args=[now, now + ttl_s, member, stream_id])
        )

    def release(self, user_id, member, stream_id) -> None:
        self.release_script(keys=self._keys(user_id), args=[member, stream_id])

    def forget(self, user_id, member) -> str | None:
        stream = self.forget_script(keys=self._keys(user_id), args=[member])
        stream = stream.decode() if isinstance(stream, bytes) else stream
        return stream or None

    def count(self, user_id: int) -> int:
        key = self._keys(user_id)[0]
        self.conn.zremrangebyscore(key, "-inf", time.time())
        return self.conn.zcard(key)

    def holds(self, user_id: int, member: str) -> bool:
        score = self.conn.zscore(self._keys(user_id)[0], member)
        return score is not None and score > time.time()

    def total(self) -> int:
        key = self._keys(0)[1]
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


def admit(user_id: int, member: str, stream_id: str, ttl_s: float) -> str | None:
    """Take (or renew) the lease ``member`` for ``stream_id``. Raises ``Refused`` (429 over
    the user's cap, 503 over the total) with the seconds until a lease frees up; returns
    the id of the stream whose lease this took over (to be ended), if any."""
    cfg = current_app.config
    try:
        return leases().admit(
            user_id,
            member,
            stream_id,
            ttl_s,
            int(cfg["CALLCENTER_STREAMS_PER_USER"]),
            int(cfg["CALLCENTER_STREAMS_MAX"]),
        )
    except redis.RedisError:
        # Without its lease store, a stream is let through: the caps protect the service,
        # and refusing every screen while Redis restarts would be worse.
        current_app.logger.warning("stream lease store unavailable; stream admitted")
        return None


def renew(user_id: int, member: str, stream_id: str, ttl_s: float) -> bool:
    """Extend a stream's lease; False when another stream has taken it over."""
    try:
        return leases().renew(user_id, member, stream_id, ttl_s)
    except redis.RedisError:
        return True


def release(user_id: int, member: str, stream_id: str) -> None:
    """Give the lease back, unless another stream has taken it over since."""
    with contextlib.suppress(redis.RedisError):  # else the lease expires by itself
        leases().release(user_id, member, stream_id)


def forget(user_id: int, client: str) -> str | None:
    """Give back the lease of a client that went away (a closed or reloaded tab); returns
    the stream that held it, to be ended."""
    member = member_for(client, "")
    if not member.startswith("c-"):
        return None
    try:
        return leases().forget(user_id, member)
    except redis.RedisError:
        return None


def check(user_id: int, client: str | None = None) -> None:
    """Raise ``Refused`` when this user could not open another stream now. A client that
    holds a lease already (a page reconnecting) could: its stream would take it over."""
    cfg = current_app.config
    try:
        store = leases()
        if client and store.holds(user_id, member_for(client, "")):
            return
        if store.count(user_id) >= int(cfg["CALLCENTER_STREAMS_PER_USER"]):
            raise too_many(float(cfg["CALLCENTER_STREAM_KEEPALIVE_S"]))
        if store.total() >= int(cfg["CALLCENTER_STREAMS_MAX"]):
            raise full(float(cfg["CALLCENTER_STREAM_KEEPALIVE_S"]))
    except redis.RedisError:
        pass


def member_for(client_key: str | None, stream_id: str) -> str:
    """The lease's name: the client's key (one per tab) when it sent a usable one."""
    if client_key and len(client_key) <= 64 and client_key.replace("-", "").isalnum():
        return "c-" + client_key
    return "s-" + stream_id
