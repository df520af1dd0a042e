"""How this app's Redis clients treat a Redis in trouble."""

from __future__ import annotations


def no_retry(retries: int = 0):
    """A redis-py retry policy of ``retries`` immediate attempts (redis-py's default is 3
    with backoff, which turns a 0.1 s timeout on a hung server into seconds)."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return Retry(NoBackoff(), retries)
