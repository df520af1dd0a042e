"""The Prometheus metrics every process records.

Under gunicorn (several processes) and Celery (a pool), metrics are kept in files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode), one set per process,
and ``/metrics`` on any web process adds them all up. The worker, beat and the stream relay
write to the same folder, so one scrape of the web shows every process on the host; in
docker-compose the folder is a volume shared by those containers (files are named
``<hostname>-<pid>`` so two containers never write one file). Without the variable each
process keeps its metrics in memory, and ``/metrics`` shows the answering process's.

What is counted where:

- ``intake_to_offer``: the first offer of a ticket committed (worker, or web for a manual
  offer), since the ticket was created;
- ``offer_to_accept``: an accept committed (web), since its offer;
- ``accept_to_stream``: an ``assignment.accepted`` event handed to the streams (the relay's
  publish to the push engine, or the embedded broadcaster), since the event was written;
- position reports by outcome, broker publish time and failures.

Ticket, unit and stream counts are not kept here: ``/metrics`` reads them from the database
and Redis when scraped (callcenter/ops/scrape.py).
"""

from __future__ import annotations

import os
import socket
import time
from contextlib import contextmanager

from prometheus_client import Counter, Histogram, values

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def process_id(pid: int | None = None) -> str:
    """This process's name for its metric files: ``<hostname>-<pid>``."""
    host = socket.gethostname().replace("_", "-") or "host"
    return f"{host}-{pid if pid is not None else os.getpid()}"


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


if multiprocess():
    # Before any metric exists: every value is kept in this process's files.
    values.ValueClass = values.MultiProcessValue(process_identifier=process_id)


def mark_dead(pid: int) -> None:
    """Forget a finished process's live gauges (gunicorn's child_exit, a pool's exit)."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(process_id(pid))


INTAKE_TO_OFFER = Histogram(
    "callcenter_intake_to_offer_seconds",
    "From a ticket's creation to its first offer to a unit (committed).",
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
OFFER_TO_ACCEPT = Histogram(
    "callcenter_offer_to_accept_seconds",
    "From an offer to the unit accepting it.",
    buckets=(1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300),
)
ACCEPT_TO_STREAM = Histogram(
    "callcenter_accept_to_stream_seconds",
    "From an assignment.accepted event being written to its hand-over to the streams.",
    ["via"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
POSITION_REPORTS = Counter(
    "callcenter_position_reports_total",
    "Unit position reports: applied (moved the unit), older (kept, a newer one applies), "
    "duplicate (already stored), refused (invalid).",
    ["outcome"],
)
BROKER_PUBLISH = Histogram(
    "callcenter_broker_publish_seconds",
    "Time to hand one task message to the broker.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
BROKER_PUBLISH_FAILURES = Counter(
    "callcenter_broker_publish_failures_total",
    "Task messages the broker did not take (the sweep repairs what they were for).",
    ["task"],
)


@contextmanager
def broker_publish(task: str):
    """Time one publish; count it as failed when it raises."""
    started = time.perf_counter()
    try:
        yield
    except Exception:
        BROKER_PUBLISH_FAILURES.labels(task).inc()
        raise
    finally:
        BROKER_PUBLISH.observe(time.perf_counter() - started)


def observe_since(histogram, since, *labels) -> None:
    """Observe the seconds from ``since`` (an aware datetime or epoch seconds) to now."""
    start = since if isinstance(since, int | float) else since.timestamp()
    target = histogram.labels(*labels) if labels else histogram
    target.observe(max(0.0, time.time() - start))
