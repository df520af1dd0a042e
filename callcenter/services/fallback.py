"""Dispatch when the broker or the workers fail: this process routes by itself.

Each process that publishes tasks keeps a circuit breaker on the broker. A publish that
fails (down, refused, or hung past its short timeout) opens it: from then on routing work
is not sent but done here, by one background thread of this process, and no request
waits on the broker again until a probe finds it back. While the broker is down, or the
workers' heartbeat is older than ``CALLCENTER_HEARTBEAT_MAX_AGE_S``, the same thread
also runs the repair sweep every ``CALLCENTER_SWEEP_INTERVAL_S`` (offer deadlines,
escalations, stuck tickets), since beat and the workers may be gone with the broker.

Routing here is still exactly-once: it takes the same row locks and conditional claims as
a worker's, so a worker and any number of web processes may route side by side.

The work itself (routing, the sweep) is handed in by the app factory (``init_app``): it
publishes through services/queue.py, which uses this module, so this module does not
import it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time

from flask import current_app

from ..extensions import db
from . import clock, probes

log = logging.getLogger(__name__)

ROUTING_TASKS = ("route_ticket", "route_queued")


class Guard:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.work: queue.Queue = queue.Queue()
        self.broker_down_since = None
        self.broker_error = ""
        self.thread: threading.Thread | None = None
        self.pid = os.getpid()
        self.sweeps = 0
        self.stopping = threading.Event()

    def stop(self) -> None:
        """End this process's thread (an app being thrown away, in tests)."""
        self.stopping.set()

    # --- the breaker -------------------------------------------------------------------

    def broker_ok(self) -> bool:
        return self.broker_down_since is None

    def broker_failed(self, exc: Exception) -> None:
        with self.lock:
            if self.broker_down_since is None:
                self.broker_down_since = clock.now()
                log.error("broker unreachable, dispatching in this process: %s", exc)
            self.broker_error = f"{type(exc).__name__}: {exc}"[:200]
        self.ensure_started()

    def _broker_back(self) -> None:
        with self.lock:
            if self.broker_down_since is not None:
                log.warning("broker reachable again, dispatch goes back to the workers")
            self.broker_down_since = None
            self.broker_error = ""

    # --- work done here ----------------------------------------------------------------

    def route_here(self, task_name: str, args: tuple) -> bool:
        """Queue routing work for this process's thread; False for other tasks (their own
        sweeps retry them) or when the fallback is turned off."""
        if task_name not in ROUTING_TASKS or not self.app.config["CALLCENTER_DISPATCH_FALLBACK"]:
            return False
        self.work.put((task_name, args))
        self.ensure_started()
        return True

    def ensure_started(self) -> None:
        if self.stopping.is_set():
            return
        if self.thread is not None and self.thread.is_alive() and self.pid == os.getpid():
            return
        with self.lock:
            if self.pid != os.getpid():  # forked: the parent's thread is not here
                self.__init__(self.app)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="cc-fallback", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        work = self.app.extensions["cc_fallback_work"]
        cfg = self.app.config
        interval = float(cfg["CALLCENTER_SWEEP_INTERVAL_S"])
        next_look = 0.0
        while not self.stopping.is_set():
            try:
                task_name, args = self.work.get(timeout=min(interval, 1.0))
            except queue.Empty:
                task_name, args = None, ()
            with self.app.app_context():
                try:
                    if task_name in ROUTING_TASKS:
                        work[task_name](*args)
                    if time.monotonic() >= next_look:
                        next_look = time.monotonic() + interval
                        if not self.broker_ok() and probes.broker()["ok"]:
                            self._broker_back()
                        if cfg["CALLCENTER_DISPATCH_FALLBACK"] and self.degraded():
                            report = work["sweep"]()
                            self.sweeps += 1
                            if any(report.values()):
                                log.info("fallback sweep: %s", report)
                except Exception:
                    log.exception("fallback dispatch failed; trying again")
                    time.sleep(0.2)
                finally:
                    db.session.remove()

    # --- what screens and /readyz see --------------------------------------------------

    def degraded(self) -> bool:
        return not self.broker_ok() or not probes.worker()["ok"]

    def status(self) -> dict:
        """``{degraded, broker: {ok, since?, error?}, worker: {ok, ...}, fallback}``."""
        broker = {"ok": self.broker_ok()}
        if not broker["ok"]:
            broker.update(since=self.broker_down_since, error=self.broker_error)
        worker = probes.worker()
        return {
            "degraded": not (broker["ok"] and worker["ok"]),
            "broker": broker,
            "worker": worker,
            "fallback": bool(self.app.config["CALLCENTER_DISPATCH_FALLBACK"]),
        }


_create_lock = threading.Lock()


def get(app=None) -> Guard:
    """This process's guard for the app."""
    app = app or current_app._get_current_object()
    guard = app.extensions.get("cc_fallback")
    if guard is None:
        with _create_lock:
            guard = app.extensions.get("cc_fallback")
            if guard is None:
                guard = app.extensions["cc_fallback"] = Guard(app)
    return guard


def init_app(app, *, route_ticket, route_queued, sweep) -> None:
    """Set what this process does by itself while dispatch is degraded: ``route_ticket(id)``,
    ``route_queued()`` and the repair ``sweep()``. Web processes watch the workers'
    heartbeat from their first request on."""
    app.extensions["cc_fallback_work"] = {
        "route_ticket": route_ticket,
        "route_queued": route_queued,
        "sweep": sweep,
    }

    @app.before_request
    def _watch():
        if (
            app.config["CALLCENTER_DISPATCH_FALLBACK"]
            and app.config["CALLCENTER_HEARTBEAT_MAX_AGE_S"]
        ):
            get(app).ensure_started()
