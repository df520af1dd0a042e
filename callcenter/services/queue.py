"""Handing work to the Celery workers, always after the commit and by id.

A message that is never sent (broker down) or lost is not a lost ticket: the database
still says what is waiting, and the beat sweep routes it.
"""

from __future__ import annotations

import logging

from flask import current_app

from ..ops import metrics
from . import events

log = logging.getLogger(__name__)


def send(task_name: str, *args) -> None:
    """Send a task by name now; a broker failure is logged, the sweep repairs it."""
    try:
        with metrics.broker_publish(task_name):
            current_app.extensions["celery"].send_task(f"callcenter.tasks.{task_name}", args=args)
    except Exception as exc:  # kombu raises many kinds; none may fail a committed change
        log.warning("task %s%s not sent (the sweep will repair): %s", task_name, args, exc)


def route_ticket_after_commit(ticket_id: int) -> None:
    events.after_commit(lambda: send("route_ticket", ticket_id))


def route_queued_after_commit() -> None:
    events.after_commit(lambda: send("route_queued"))
