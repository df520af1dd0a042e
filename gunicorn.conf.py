"""Gunicorn settings for the web part.

In production (``CALLCENTER_STREAMS=pushpin``, scripts/production.sh, docker-compose) the
web never holds a live stream: Pushpin holds them and the web answers short requests, so
the threads serve API calls only.

On the embedded default the web holds the streams itself (callcenter/streams/
broadcaster.py): the ``gthread`` worker gives each a thread of its own (no
monkey-patching, safe with psycopg and redis-py), one reader per process fans events out
to them from memory, and a process holds at most ``CALLCENTER_STREAMS_PER_PROCESS``
(default 3/4 of GUNICORN_THREADS) so API calls always find a thread; beyond that a stream
is refused with 503 and Retry-After. Streams end after CALLCENTER_STREAM_MAX_S and the
browser reconnects with Last-Event-ID, so nothing is missed. ``timeout`` is the worker
heartbeat, not a request limit, so long streams are not killed. Behind a proxy, keep its
read timeout above CALLCENTER_STREAM_KEEPALIVE_S and do not buffer the stream.

Environment: GUNICORN_WORKERS (default 2), GUNICORN_THREADS (default 64; 16 with
CALLCENTER_STREAMS=pushpin).
"""

import os

worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# With the push engine the threads serve API calls only; more of them than the CPU can
# run only lengthen every request that holds a database lock (they all wait for the GIL).
_engine = os.environ.get("CALLCENTER_STREAMS") == "pushpin"
threads = int(os.environ.get("GUNICORN_THREADS", "16" if _engine else "64"))
timeout = 60
graceful_timeout = 10
keepalive = 75  # longer than a proxy's idle timeout, so the proxy closes first
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Operations: JSON logs (CALLCENTER_LOG_FORMAT) with request ids, and an access log that
# never carries a phone number (callcenter/ops/logs.py); Prometheus metrics from every
# worker process (callcenter/ops/metrics.py), kept in PROMETHEUS_MULTIPROC_DIR.
logger_class = "callcenter.ops.gunicorn_log.Logger"


def child_exit(server, worker):
    """A worker process ended: its live metrics are forgotten (its counts stay)."""
    from callcenter.ops import metrics

    metrics.mark_dead(worker.pid)
