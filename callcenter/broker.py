"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file.

Only the polling interval differs from kombu's own transport (1 s), so that a ticket
logged on the embedded default reaches a worker in tens of milliseconds.
"""

from kombu.transport.sqlalchemy import Transport as _SQLAlchemyTransport


class Transport(_SQLAlchemyTransport):
    polling_interval = 0.02
