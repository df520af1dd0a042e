"""The embedded default: one reader per web process fans events out from memory.

A single thread per process reads new events in id order (woken by the Redis pub/sub
wake-up, or polling ``CALLCENTER_STREAM_POLL_S`` without Redis), serialises each once and
keeps the latest ones in a ring; once a second it also reads the units that moved. Every
stream of the process then takes what its scope allows from the ring: holding a stream
costs writing bytes, not querying. A stream whose cursor is older than the ring (a resume
from an old id, or one that fell far behind) reads the database in pages, paced, until
it reaches the ring, and from then on follows it: ids only grow, so nothing is missed or
repeated at the join.

Each process holds at most ``CALLCENTER_STREAMS_PER_PROCESS`` streams (below the
thread count, so API calls always find a thread); the per-user and total caps are leases
(``registry``). An event that ends a credential (token revoked, signed out, user
deactivated) ends that credential's streams here.
"""

from __future__ import annotations

import bisect
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import begin_reading, db, reading
from ..services import bus
from ..services.errors import Refused
from . import feed, registry

log = logging.getLogger(__name__)

RING = 5000  # events kept in memory; older cursors read the database
READ_PAGE = 500
# A stream that registers just after its credential was ended is ended too.
CLOSE_MEMORY_S = 15.0


class Stream:
    """One open stream of this process."""

    def __init__(self, scope: feed.Scope, cursor: int, keys: tuple[str, ...], stream_id=""):
        self.id = stream_id
        self.scope = scope
        self.cursor = cursor
        self.keys = keys
        self.positions_seq = 0
        self.closed = False


class Broadcaster:
    def __init__(self, app):
        self.app = app
        self.cond = threading.Condition()
        self.ids: list[int] = []
        self.entries: list[feed.Entry] = []
        self.base = 0  # the ring holds every event in (base, head]
        self.head = 0
        self.positions: deque[tuple[int, bytes]] = deque(maxlen=8)
        self.positions_seq = 0
        self.streams: set[Stream] = set()
        self.closes: dict[str, float] = {}
        self.generation = 0
        self.thread: threading.Thread | None = None
        self.ready = threading.Event()

    # --- the reader -----------------------------------------------------------------------

    def ensure_started(self) -> None:
        with self.cond:
            if self.thread is None or not self.thread.is_alive():
                self.ready.clear()
                self.thread = threading.Thread(target=self._run, name="cc-broadcaster", daemon=True)
                self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the live feed reader did not start")

    def _run(self) -> None:
        begin_reading()  # this thread only reads (its own context: never reset)
        with self.app.app_context():
            cfg = self.app.config
            waiter = bus.Waiter()
            positions = feed.Positions()
            ticker = feed.Ticker(float(cfg["CALLCENTER_POSITIONS_TICK_S"]))
            try:
                self.reset()
            finally:
                db.session.remove()
            self.ready.set()
            while True:
                try:
                    full = self._step(positions, ticker)
                except SQLAlchemyError as exc:
                    log.warning("live feed reader: %s", exc)
                    full = False
                    time.sleep(1.0)
                finally:
                    db.session.remove()
                if not full:
                    waiter.wait(min(ticker.wait_s(), 1.0))

    def _step(self, positions: feed.Positions, ticker: feed.Ticker) -> bool:
        generation, head = self.generation, self.head
        entries, reached = feed.read(head, limit=READ_PAGE)
        frame = positions.frame() if ticker.due() else None
        now = time.monotonic()
        with self.cond:
            if generation != self.generation:
                return True  # reset while reading: read again from the new head
            for entry in entries:
                self.ids.append(entry.id)
                self.entries.append(entry)
                for key in entry.closes:
                    self.closes[key] = now
                    for stream in self.streams:
                        if key in stream.keys:
                            stream.closed = True
            if len(self.ids) > 2 * RING:
                self.base = self.ids[-RING - 1]
                del self.ids[:-RING], self.entries[:-RING]
            self.head = reached
            if frame is not None:
                self.positions_seq += 1
                self.positions.append((self.positions_seq, frame))
            self.closes = {k: t for k, t in self.closes.items() if now - t < CLOSE_MEMORY_S}
            if entries or frame is not None:
                self.cond.notify_all()
        feed.observe_handed_over(entries, "embedded")
        return len(entries) == READ_PAGE

    def reset(self) -> None:
        """Start the ring afresh at the newest event (at start; tests that empty the tables)."""
        last = feed.last_id()
        with self.cond:
            self.generation += 1
            self.ids, self.entries = [], []
            self.closes = {}  # ids (of users, tokens) start again too
            self.base = self.head = last
            self.cond.notify_all()

    # --- the streams ----------------------------------------------------------------------

    def check_room(self) -> None:
        """Refuse with 503 when this process holds its maximum of streams."""
        cfg = current_app.config
        if len(self.streams) >= int(cfg["CALLCENTER_STREAMS_PER_PROCESS"]):
            raise registry.full(float(cfg["CALLCENTER_STREAM_KEEPALIVE_S"]))

    def open(
        self, scope: feed.Scope, cursor: int, keys: tuple[str, ...], stream_id: str = ""
    ) -> Stream:
        """Register a stream, or refuse with 503 when this process holds its maximum."""
        self.ensure_started()
        stream = Stream(scope, cursor, keys, stream_id)
        with self.cond:
            self.check_room()
            now = time.monotonic()
            stream.closed = any(now - self.closes.get(k, -1e9) < CLOSE_MEMORY_S for k in keys)
            stream.positions_seq = self.positions_seq
            self.streams.add(stream)
        return stream

    def close(self, stream: Stream) -> None:
        with self.cond:
            self.streams.discard(stream)

    def end(self, stream_id: str) -> None:
        """End this process's stream ``stream_id`` (another took over its lease)."""
        with self.cond:
            for stream in self.streams:
                if stream.id == stream_id:
                    stream.closed = True
            self.cond.notify_all()

    def _take(self, stream: Stream) -> tuple[list[bytes], bool]:
        """Under the lock: the frames the stream may send now, and whether it must read the
        database first (its cursor is older than the ring)."""
        if stream.cursor < self.base:
            return [], True
        start = bisect.bisect_right(self.ids, stream.cursor)
        frames = [e.frame for e in self.entries[start:] if stream.scope.sees(e)]
        stream.cursor = max(stream.cursor, self.head)
        if stream.scope.positions:
            frames += [f for seq, f in self.positions if seq > stream.positions_seq]
        stream.positions_seq = self.positions_seq
        return frames, False

    def follow(self, stream: Stream, *, max_s: float, keepalive_s: float) -> Iterator[bytes]:
        """The stream's bytes until it is closed or ``max_s`` has passed."""
        cfg = current_app.config
        page = int(cfg["CALLCENTER_STREAM_REPLAY_PAGE"])
        started = last_sent = time.monotonic()
        while not stream.closed and time.monotonic() - started < max_s:
            with self.cond:
                frames, behind = self._take(stream)
                if not frames and not behind and not stream.closed:
                    timeout = keepalive_s - (time.monotonic() - last_sent)
                    if timeout > 0:
                        self.cond.wait(min(timeout, max_s - (time.monotonic() - started)))
                        frames, behind = self._take(stream)
            if behind:
                # A replay from the database, one page at a time, paced.
                with reading():
                    try:
                        entries, stream.cursor = feed.read(
                            stream.cursor, limit=page, scope=stream.scope
                        )
                    finally:
                        db.session.remove()
                frames = [e.frame for e in entries]
                if len(entries) == page:
                    time.sleep(0.02)
            if frames:
                yield b"".join(frames)
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= keepalive_s:
                yield feed.KEEPALIVE_FRAME
                last_sent = time.monotonic()


def get(app=None) -> Broadcaster:
    """This process's broadcaster for the current app."""
    app = app or current_app._get_current_object()
    broadcaster = app.extensions.get("cc_broadcaster")
    if broadcaster is None:
        with _create_lock:
            broadcaster = app.extensions.get("cc_broadcaster")
            if broadcaster is None:
                broadcaster = app.extensions["cc_broadcaster"] = Broadcaster(app)
    return broadcaster


_create_lock = threading.Lock()


def stream(
    user, scope: feed.Scope, cursor: int, keys: tuple[str, ...], client: str | None = None
) -> Iterator[bytes]:
    """Admit a stream (raises ``Refused`` over a cap) and return its bytes: the ``retry``
    hint, then events from ``cursor`` on, until it is closed or recycled. A stream from the
    same ``client`` key (a browser tab) replaces that client's previous one."""
    cfg = current_app.config
    lease_s = float(cfg["CALLCENTER_STREAM_LEASE_S"])
    stream_id = secrets.token_urlsafe(9)
    member = registry.member_for(client, stream_id)
    broadcaster = get()
    replaced = registry.admit(user.id, member, stream_id, lease_s)
    if replaced:
        broadcaster.end(replaced)
    try:
        opened = broadcaster.open(scope, cursor, keys, stream_id)
    except Refused:
        registry.release(user.id, member, stream_id)
        raise
    user_id = user.id

    def generate() -> Iterator[bytes]:
        renewed = time.monotonic()
        try:
            yield feed.RETRY_FRAME
            for chunk in broadcaster.follow(
                opened,
                max_s=float(cfg["CALLCENTER_STREAM_MAX_S"]),
                keepalive_s=float(cfg["CALLCENTER_STREAM_KEEPALIVE_S"]),
            ):
                yield chunk
                if time.monotonic() - renewed > lease_s / 2:
                    renewed = time.monotonic()
                    if not registry.renew(user_id, member, stream_id, lease_s):
                        break  # another stream of this client took over
        except SQLAlchemyError as exc:
            # The database went away: end the stream; the client reconnects and resumes.
            log.warning("live stream ended: %s", exc)
        finally:
            broadcaster.close(opened)
            registry.release(user_id, member, stream_id)
            db.session.remove()

    return generate()
