"""Broker transports: kombu's own, with two adjustments.

- The embedded broker (kombu's SQLAlchemy transport on a SQLite file) polls every 20 ms
  instead of every second, so that a ticket logged on the embedded default reaches a worker
  at once.
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

from kombu.transport import redis as kombu_redis
from kombu.transport.sqlalchemy import Transport as _SQLAlchemyTransport

log = logging.getLogger(__name__)


class Transport(_SQLAlchemyTransport):
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
    QoS = _RedisQoS


class RedisTransport(kombu_redis.Transport):
    Channel = _RedisChannel
