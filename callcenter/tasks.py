"""Celery tasks: thin, take ids, call services. All are idempotent: the database state is
checked again inside, so a redelivered or duplicated message does no harm."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import (
    setup_logging,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
)
from sqlalchemy.exc import OperationalError

from .extensions import db
from .ops import logs, metrics
from .services import callbacks, handoffs, heartbeat, locator, repair, retention, routing
from .services.whatsapp import media, outbox, reactions

log = logging.getLogger(__name__)

# A deadlock or serialisation failure is retried; the task is idempotent.
_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 0.2,
    "retry_backoff_max": 2,
    "max_retries": 5,
    "retry_jitter": True,
}


@shared_task(name="callcenter.tasks.route_ticket", **_RETRY)
def route_ticket(ticket_id: int) -> str:
    try:
        outcome = routing.route_ticket(ticket_id)
        log.info("ticket %s routed: %s", ticket_id, outcome, extra={"ticket_id": ticket_id})
        return outcome
    finally:
        db.session.remove()


@shared_task(name="callcenter.tasks.route_queued", **_RETRY)
def route_queued() -> dict:
    try:
        return routing.route_queued()
    finally:
        db.session.remove()


@shared_task(name="callcenter.tasks.sweep", **_RETRY)
def sweep() -> dict:
    """The repair sweep; done, it is the workers' heartbeat (beat scheduled it, the broker
    carried it, a worker ran it)."""
    try:
        report = repair.sweep()
        if any(report.values()):
            log.info("sweep: %s", report)
        heartbeat.beat()
        return report
    finally:
        db.session.remove()


@shared_task(name="callcenter.tasks.prune", **_RETRY)
def prune() -> dict:
    """Retention: delete what is past its time (services/retention.py)."""
    try:
        report = retention.prune()
        if any(report.values()):
            log.info("pruned: %s", report)
        return report
    finally:
        db.session.remove()


@shared_task(name="callcenter.tasks.followups_sweep", **_RETRY)
def followups_sweep() -> dict:
    """Hand-offs not acknowledged in time are escalated; late call-backs are marked."""
    try:
        report = {
            "handoffs_escalated": handoffs.escalate_overdue(),
            "callbacks_overdue": callbacks.mark_overdue(),
        }
        if any(report.values()):
            log.info("follow-ups sweep: %s", report)
        return report
    finally:
        db.session.remove()


@shared_task(name="callcenter.tasks.wa_send", **_RETRY)
def wa_send(message_id: int) -> str:
    """Send one message to a WhatsApp reporter (retries are due times in the database)."""
    try:
        return outbox.send(message_id)
    finally:
        db.session.remove()


@shared_task(name="callcenter.tasks.wa_fetch_media", **_RETRY)
def wa_fetch_media(message_id: int) -> str:
    try:
        return media.fetch(message_id)
    finally:
        db.session.remove()


@shared_task(name="callcenter.tasks.wa_react", **_RETRY)
def wa_react() -> int:
    """Automatic updates to WhatsApp reporters for the events since the last pass."""
    try:
        return reactions.react()
    finally:
        db.session.remove()


@shared_task(name="callcenter.tasks.wa_sweep", **_RETRY)
def wa_sweep() -> dict:
    try:
        report = reactions.sweep()
        if any(report.values()):
            log.info("whatsapp sweep: %s", report)
        return report
    finally:
        db.session.remove()


@shared_task(name="callcenter.tasks.ping", ignore_result=False)
def ping(sent_at: float) -> float:
    """An empty task, for measuring the broker's own round trip (bench/)."""
    return sent_at


def _flask_app():
    from celery import current_app as celery_app

    return getattr(celery_app, "flask_app", None)


@setup_logging.connect
def _logging(loglevel=None, **_kwargs) -> None:
    """The worker and beat log like the web (JSON in production), with request ids."""
    logs.configure(loglevel)


@worker_process_shutdown.connect
def _forget_metrics(pid=None, **_kwargs) -> None:
    import os

    metrics.mark_dead(pid or os.getpid())


@worker_process_init.connect
def _fresh_connections(**_kwargs) -> None:
    """A forked pool process must not share the parent's database connections: the two
    would interleave on one socket. Drop the inherited pool without closing it."""
    flask_app = _flask_app()
    if flask_app is not None:
        with flask_app.app_context():
            db.engine.dispose(close=False)


@worker_ready.connect
def _rebuild_index(sender=None, **_kwargs) -> None:
    """A starting worker rebuilds the live index from the database."""
    flask_app = _flask_app()
    if flask_app is None or not flask_app.config["REDIS_URL"]:
        return
    with flask_app.app_context():
        try:
            log.info("GEO index rebuilt: %s available units", locator.rebuild())
        except Exception:
            log.exception("GEO index rebuild failed; the sweep will retry")
        finally:
            db.session.remove()
            # Pool processes forked later (replacing lost ones) must not inherit these.
            db.engine.dispose()
