"""``GET /metrics``: Prometheus's text format.

Who may read it: with ``CALLCENTER_METRICS_TOKEN`` set, a request bearing that token
(``Authorization: Bearer ...``); without it, only a client on this host talking to the
web directly (a loopback peer, and no ``X-Forwarded-For``: the push engine in front adds
one, so nothing from outside reaches the metrics through it). Anyone else gets 404, as if
there were nothing here.

The counts of tickets, units and streams are read when scraped: a few grouped counts on
indexed columns and two Redis calls, so a scrape every 15 s costs next to nothing.
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client import REGISTRY as PROCESS_REGISTRY
from prometheus_client.core import GaugeMetricFamily

from . import metrics

log = logging.getLogger(__name__)
bp = Blueprint("ops", __name__)

_LOOPBACK = ("127.0.0.1", "::1")


def allowed() -> bool:
    """May this request read the metrics? (See the module's docstring.)"""
    token = current_app.config["CALLCENTER_METRICS_TOKEN"]
    if token:
        sent = request.headers.get("Authorization", "")
        return sent.startswith("Bearer ") and hmac.compare_digest(
            sent[len("Bearer ") :].encode(), token.encode()
        )
    original = request.environ.get("werkzeug.proxy_fix.orig", {})
    peer = original.get("REMOTE_ADDR", request.environ.get("REMOTE_ADDR"))
    return peer in _LOOPBACK and "X-Forwarded-For" not in request.headers


class StateCollector:
    """Tickets by status, tickets waiting for a unit, units by status, open streams and
    the broker's queue, read at scrape time."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        from ..extensions import db
        from ..models import Ticket, Unit
        from ..models.ticket import OPEN_STATUSES

        tickets = GaugeMetricFamily(
            "callcenter_tickets", "Open tickets by status.", labels=["status"]
        )
        waiting = GaugeMetricFamily(
            "callcenter_tickets_waiting",
            "Open tickets with a slot waiting for a unit (the dispatch queue).",
        )
        units = GaugeMetricFamily("callcenter_units", "Units by status.", labels=["status"])
        try:
            by_status = dict.fromkeys(OPEN_STATUSES, 0)
            by_status.update(
                db.session.execute(
                    db.select(Ticket.status, db.func.count())
                    .where(Ticket.status.in_(OPEN_STATUSES))
                    .group_by(Ticket.status)
                ).all()
            )
            queued = db.session.scalar(
                db.select(db.func.count()).where(
                    Ticket.status.in_(OPEN_STATUSES), Ticket.waiting_since.is_not(None)
                )
            )
            unit_counts = db.session.execute(
                db.select(Unit.status, db.func.count()).group_by(Unit.status)
            ).all()
        finally:
            db.session.remove()
        for status, count in by_status.items():
            tickets.add_metric([status], count)
        waiting.add_metric([], queued or 0)
        for status, count in unit_counts:
            units.add_metric([status], count)
        yield tickets
        yield waiting
        yield units
        yield from self._redis_side()

    def _redis_side(self):
        from ..streams import registry

        streams = GaugeMetricFamily(
            "callcenter_streams_open",
            "Live streams open (all web processes with Redis; this process's without).",
        )
        try:
            streams.add_metric([], registry.leases().total())
            yield streams
        except Exception as exc:  # a metric missing beats a failed scrape
            log.warning("metrics: open streams not read: %s", exc)
        from ..services import bus

        conn = bus.client()
        if conn is None:
            return
        depth = GaugeMetricFamily(
            "callcenter_broker_queue_messages", "Task messages waiting in the broker's queue."
        )
        cfg = self.app.config
        try:
            depth.add_metric(
                [], conn.llen(cfg["CALLCENTER_REDIS_PREFIX"] + ":q:" + cfg["CALLCENTER_QUEUE"])
            )
            yield depth
        except Exception as exc:
            log.warning("metrics: broker queue not read: %s", exc)


@bp.get("/metrics")
def scrape():
    if not allowed():
        abort(404)
    if metrics.multiprocess():
        from prometheus_client import multiprocess

        recorded = CollectorRegistry()
        multiprocess.MultiProcessCollector(recorded)
    else:
        recorded = PROCESS_REGISTRY
    state = CollectorRegistry()
    state.register(StateCollector(current_app._get_current_object()))
    body = generate_latest(recorded) + generate_latest(state)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
