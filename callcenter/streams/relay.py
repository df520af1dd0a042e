"""The relay: reads each new event once and publishes it once to the push engine.

It runs as its own small process (``flask --app wsgi stream-relay``; scripts/production.sh
and docker-compose start it). Woken by the Redis pub/sub wake-up, and polling as a safety
net, it reads events in id order, serialises each once and publishes it in one batch on
the channels its scope allows, each item with its ``id`` and the ``prev-id`` of that
channel's previous event (see ``grip``). Once a tick it publishes the units that moved on
``positions``; an event that ends a credential becomes a ``close`` on its close channel.

Two relays never publish together: the one holding a Redis lock publishes, another waits
to take over. Should both ever publish, Pushpin drops an item id it has seen in the last
minute, and a connection given an item out of sequence asks the web for what it missed:
a duplicate costs a request, never a repeated event.

It goes on from the last event a relay published (kept in Redis), so what was committed
while none ran is published when one starts; without that mark it starts at the newest
event, and a connection that missed some finds out from the next item's ``prev-id`` and
recovers them from the web.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading

import redis
from flask import current_app
from pubcontrol import PubControlClient
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db, reading
from ..services import bus
from . import feed

log = logging.getLogger(__name__)

READ_PAGE = 500
LOCK_MS = 10_000
# Renew the lock only if it is still ours.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class Relay:
    def __init__(self, app, publish_url: str | None = None):
        self.app = app
        self.publish_url = publish_url or app.config["CALLCENTER_PUSHPIN_PUBLISH_URL"]
        self.client = PubControlClient(self.publish_url)
        self.cursor: int | None = None
        self.last: dict[str, int] = {}  # channel -> id of the last event published on it
        self.me = secrets.token_hex(6)
        self.published = 0

    # --- one step -------------------------------------------------------------------------

    def items_for(self, entries: list[feed.Entry]) -> list[dict]:
        """The publish items for these events, in id order, with each channel's prev-id."""
        items = []
        for entry in entries:
            for channel in entry.channels():
                prev = self.last.get(channel)
                if prev is None:
                    prev = feed.last_in_scope(feed.scope_from_channel(channel), before=entry.id)
                items.append(
                    {
                        "channel": channel,
                        "id": str(entry.id),
                        "prev-id": str(prev),
                        "formats": {"http-stream": {"content": entry.frame.decode()}},
                    }
                )
                self.last[channel] = entry.id
            for key in entry.closes:
                items.append(feed.close_item(f"close-{key}", f"e{entry.id}"))
        return items

    def step(self, positions: feed.Positions | None = None) -> int:
        """Read and publish what is new (and the positions, if given); returns the number
        of events read. Publishes nothing and keeps its place when the engine refuses."""
        newest = feed.last_id()
        if self.cursor is None:
            # Go on from where the last relay stopped: what was committed while none ran is
            # published now, in order (with the right prev-ids).
            shared = published_upto()
            self.cursor = shared if shared is not None and shared <= newest else newest
            self.last = {}
        elif newest < self.cursor:  # the table was emptied (tests)
            self.cursor, self.last = newest, {}
        entries, reached = feed.read(self.cursor, limit=READ_PAGE)
        saved = dict(self.last)
        items = self.items_for(entries)
        if positions is not None:
            frame = positions.frame()
            if frame is not None:
                items.append(
                    {
                        "channel": feed.POSITIONS_CHANNEL,
                        "formats": {"http-stream": {"content": frame.decode()}},
                    }
                )
        if items:
            try:
                self.publish(items)
            except Exception:
                self.last = saved
                raise
            self.published += len(entries)
            feed.observe_handed_over(entries, "pushpin")
        self.cursor = reached
        self.mark_published(reached)
        return len(entries)

    def mark_published(self, reached: int) -> None:
        """Tell the web how far the engine has been given events (see ``published_upto``)."""
        conn = bus.client()
        if conn is None:
            return
        try:
            conn.set(bus.key("streams", "published"), reached)
        except redis.RedisError as exc:
            log.warning("relay: position not shared: %s", exc)

    def publish(self, items: list[dict]) -> None:
        body = json.dumps({"items": items}).encode()
        self.client.http_call("/publish/", body, {"Content-Type": "application/json"})

    # --- the loop -------------------------------------------------------------------------

    def _hold_lock(self, conn) -> bool:
        key = bus.key("streams", "relay")
        try:
            if conn.set(key, self.me, nx=True, px=LOCK_MS):
                return True
            return bool(conn.eval(_RENEW, 1, key, self.me, LOCK_MS))
        except redis.RedisError as exc:
            log.warning("relay lock: %s", exc)
            return False

    def run(self, stop: threading.Event | None = None) -> None:
        """Publish until ``stop`` is set. Needs an app context. It only reads the database."""
        with reading():
            self._run(stop)

    def _run(self, stop: threading.Event | None) -> None:
        stop = stop or threading.Event()
        cfg = current_app.config
        waiter = bus.Waiter()
        ticker = feed.Ticker(float(cfg["CALLCENTER_POSITIONS_TICK_S"]))
        positions = feed.Positions()
        conn = bus.client()
        leader = False
        log.info("stream relay %s publishing to %s", self.me, self.publish_url)
        while not stop.is_set():
            now_leader = conn is None or self._hold_lock(conn)
            if now_leader != leader:
                leader = now_leader
                log.info("stream relay %s %s", self.me, "publishes" if leader else "stands by")
                self.cursor, self.last = None, {}
            if not leader:
                stop.wait(LOCK_MS / 4000)
                continue
            full = False
            try:
                full = self.step(positions if ticker.due() else None) == READ_PAGE
            except SQLAlchemyError as exc:
                log.warning("relay: database: %s", exc)
                stop.wait(1.0)
            except Exception as exc:  # the engine is down or refused: try again
                log.warning("relay: publish failed: %s", exc)
                stop.wait(0.5)
            finally:
                db.session.remove()
            if not full:
                waiter.wait(min(ticker.wait_s(), 1.0))
        waiter.close()
        if conn is not None and leader:
            try:
                if conn.get(bus.key("streams", "relay")) == self.me.encode():
                    conn.delete(bus.key("streams", "relay"))
            except redis.RedisError:
                pass


def published_upto() -> int | None:
    """The newest event id the relay has published (None: no relay has run yet).

    A stream handed over replays at most this far: the events after it reach the engine
    from the relay, and they follow the hand-over's prev-id. Replaying further would give
    the client events the engine then receives again, each one then looking like a gap to
    the connection and costing it a recovery request, over and over under steady load.
    """
    conn = bus.client()
    if conn is None:
        return None
    try:
        value = conn.get(bus.key("streams", "published"))
    except redis.RedisError:
        return None
    return int(value) if value is not None else None


def run_forever() -> None:
    """The ``stream-relay`` command: publish until stopped (SIGTERM or Ctrl-C)."""
    import signal

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Relay(current_app._get_current_object()).run(stop)
