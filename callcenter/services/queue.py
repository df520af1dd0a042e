"""Handing work to the Celery workers, always after the commit and by id.

A message that is never sent (broker down) or lost is not a lost ticket: the database
still says what is waiting, and the beat sweep routes it. A request never waits on a
broker in trouble for more than ``CALLCENTER_BROKER_TIMEOUT_S``: a failed publish opens
this process's breaker, and routing is then done here (services/fallback.py) until the
broker answers again.
"""

from __future__ import annotations

import logging
import os

from flask import current_app

from ..ops import metrics
from . import events, fallback

log = logging.getLogger(__name__)


def _pool(app):
    """A pool of broker connections with short timeouts, for publishing (Redis only; the
    workers keep the usual ones). One per process: connections do not survive a fork."""
    url = app.config["CALLCENTER_BROKER_URL"]
    if not url.startswith("redis"):
        return None
    found = app.extensions.get("cc_publish_pool")
    if found is None or found[0] != os.getpid():
        timeout = float(app.config["CALLCENTER_BROKER_TIMEOUT_S"])
        connection = app.extensions["celery"].connection_for_write(
            transport_options={
                "socket_connect_timeout": timeout,
                "socket_timeout": timeout,
                "retry_on_timeout": False,
                "redis_retries": 0,
                "max_retries": 0,
            }
        )
        found = app.extensions["cc_publish_pool"] = (os.getpid(), connection.Pool(limit=64))
    return found[1]


def _publish(app, task_name: str, args: tuple) -> None:
    with metrics.broker_publish(task_name):
        _publish_now(app, task_name, args)


def _publish_now(app, task_name: str, args: tuple) -> None:
    celery_app = app.extensions["celery"]
    name = f"callcenter.tasks.{task_name}"
    pool = _pool(app)
    if pool is None:
        celery_app.send_task(name, args=args)
        return
    with pool.acquire(block=True, timeout=1) as connection:
        celery_app.send_task(name, args=args, connection=connection, retry=False)


def send(task_name: str, *args) -> None:
    """Send a task by name now. With the broker down (or this process's breaker open)
    routing work is done by this process instead; other tasks are left to their sweeps."""
    app = current_app._get_current_object()
    guard = fallback.get(app)
    if guard.broker_ok():
        try:
            _publish(app, task_name, args)
            return
        except Exception as exc:  # kombu raises many kinds; none may fail a committed change
            log.warning("task %s%s not sent: %s", task_name, args, exc)
            guard.broker_failed(exc)
    if not guard.route_here(task_name, args):
        log.warning("task %s%s left to the sweep (broker down)", task_name, args)


def route_ticket_after_commit(ticket_id: int) -> None:
    events.after_commit(lambda: send("route_ticket", ticket_id))


def route_queued_after_commit() -> None:
    events.after_commit(lambda: send("route_queued"))
