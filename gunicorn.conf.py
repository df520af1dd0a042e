"""Gunicorn settings for the web part.

The live screens hold one long-lived Server-Sent Events response each. The ``gthread``
worker gives every stream a thread of its own (no monkey-patching, safe with psycopg and
redis-py), so a worker with 64 threads holds up to ~60 screens while still answering API
calls. Streams end after CALLCENTER_STREAM_MAX_S and the browser reconnects with
Last-Event-ID, so threads are recycled and nothing is missed. ``timeout`` is the worker
heartbeat, not a request limit, so long streams are not killed.

Size GUNICORN_WORKERS x GUNICORN_THREADS above the number of open consoles and unit
screens plus a margin for API calls (a stream holds its thread, not a database
connection: it takes one from the pool only while it polls). Behind a proxy, keep its
read timeout above CALLCENTER_STREAM_KEEPALIVE_S and do not buffer the stream.

Environment: GUNICORN_WORKERS (default 2), GUNICORN_THREADS (default 64).
"""

import os

worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "64"))
timeout = 60
graceful_timeout = 10
keepalive = 75  # longer than a proxy's idle timeout, so the proxy closes first
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
