"""Broker transports: kombu's own, with two adjustments.

- The embedded broker (kombu's SQLAlchemy transport on a SQLite file) polls every 20 ms
  instead of every second, so that a ticket logged on the embedded default reaches a worker
  at once, and creates the folder of its file (a fresh checkout has no ``instance/``).
- On Redis, when the connection is lost while messages are unacknowledged (we acknowledge
  late), kombu restores, acknowledges or rejects them over the channel it is closing, and
  the worker dies with "Unrecoverable error: AttributeError('NoneType' object has no
  attribute 'hostname')" (or 'client'). Here those calls give up instead: the messages stay
  in Redis' unacknowledged set and are redelivered once the visibility timeout passes (the
  tasks are idempotent), and whatever Redis lost is repaired by the sweep. The worker
  reconnects and goes on.
"""

from __future__ import annotations

import logging
import os

from kombu.transport import redis as kombu_redis
from kombu.transport import sqlalchemy as kombu_sqla

from .redis_policy import no_retry

log = logging.getLogger(__name__)


def make_sqlite_folder(url: str) -> None:
    """Create the folder of a ``sqlite:///path`` file, so that SQLite can create the file."""
    from .config import sqlite_path

    path = sqlite_path(url)
    if path:
        os.makedirs(os.path.dirname(path), exist_ok=True)


class _SQLAlchemyChannel(kombu_sqla.Channel):
    def _engine_from_config(self):
        make_sqlite_folder(self.connection.client.hostname)
        return super()._engine_from_config()


class Transport(kombu_sqla.Transport):
    Channel = _SQLAlchemyChannel
    polling_interval = 0.02


class _RedisQoS(kombu_redis.QoS):
    """Acknowledging, rejecting or restoring over a channel whose connection is gone gives
    up instead of killing the worker (see the module docstring)."""

    def _gone(self, what: str) -> None:
        log.warning(
            "broker connection gone: %s left for the visibility timeout and the sweep", what
        )

    def restore_unacked(self, client=None):
        try:
            return super().restore_unacked(client)
        except AttributeError:
            return self._gone("unacknowledged messages")

    def ack(self, delivery_tag):
        try:
            return super().ack(delivery_tag)
        except AttributeError:
            return self._gone("an acknowledgement")

    def reject(self, delivery_tag, requeue=False):
        try:
            return super().reject(delivery_tag, requeue=requeue)
        except AttributeError:
            return self._gone("a rejected message")


class _RedisChannel(kombu_redis.Channel):
    """``redis_retries`` (a transport option): how often redis-py itself tries a command
    again; None keeps its default (3, with backoff: a hung server costs seconds). Publishers
    set 0 and fail fast (services/queue.py)."""

    QoS = _RedisQoS
    redis_retries = None
    from_transport_options = (*kombu_redis.Channel.from_transport_options, "redis_retries")

    def _connparams(self, asynchronous=False):
        params = super()._connparams(asynchronous=asynchronous)
        if self.redis_retries is not None:
            params["retry"] = no_retry(self.redis_retries)
        return params


class RedisTransport(kombu_redis.Transport):
    Channel = _RedisChannel
