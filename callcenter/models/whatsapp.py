"""The WhatsApp Center: one thread per reporter number, its messages and their statuses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

THREAD_STATUSES = ("open", "closed")
# What a reporter can send that we show as such; anything else is kept as "unsupported".
INBOUND_KINDS = ("text", "location", "image", "audio", "video", "document")
MEDIA_KINDS = ("image", "audio", "video", "document")
OUTBOUND_KINDS = ("text", "template")
# An outgoing message: queued -> sending -> accepted (the Graph API took it) -> sent ->
# delivered -> read; "retrying" between attempts; "failed" and "refused" are final.
OUTBOUND_STATUSES = (
    "queued",
    "sending",
    "retrying",
    "accepted",
    "sent",
    "delivered",
    "read",
    "failed",
    "refused",
)
# Delivery reports only move a message forward (they may arrive out of order).
DELIVERY_RANK = {"accepted": 1, "sent": 2, "delivered": 3, "read": 4}
MEDIA_STATUSES = ("pending", "fetching", "retrying", "stored", "rejected", "failed", "skipped")
AUTO_KINDS = ("ack", "ticket", "en_route", "closed")


class WaThread(db.Model):
    """A conversation with one reporter number; a new one starts after it was closed."""

    __tablename__ = "wa_threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    wa_id: Mapped[str] = mapped_column(String(32))  # as WhatsApp names the sender
    profile_name: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(8), default="open")
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The reporter's last message opens WhatsApp's 24-hour customer-service window.
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The oldest message nobody answered yet; None once a reply was sent.
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unread: Mapped[int] = mapped_column(default=0)
    message_count: Mapped[int] = mapped_column(default=0)
    flooded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    close_reason: Mapped[str | None] = mapped_column(String(16))  # closed, prank, idle

    claimed_by = relationship("User", foreign_keys=[claimed_by_id], lazy="joined")
    ticket = relationship("Ticket", lazy="joined")

    __table_args__ = (
        # One open thread per reporter number, whatever two webhook deliveries race.
        Index(
            "uq_wa_threads_open_phone",
            "phone",
            unique=True,
            postgresql_where=sql_text("status = 'open'"),
            sqlite_where=sql_text("status = 'open'"),
        ),
        Index("ix_wa_threads_status_waiting", "status", "waiting_since"),
        Index("ix_wa_threads_ticket", "ticket_id"),
        Index("ix_wa_threads_phone", "phone", "id"),
    )

    @property
    def is_open(self) -> bool:
        return self.status == "open"


class WaMessage(db.Model):
    """One message, from the reporter (``in``) or to them (``out``)."""

    __tablename__ = "wa_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("wa_threads.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    # WhatsApp's id (wamid...): an inbound one arrives with it; an outbound one gets it when
    # the Graph API accepts it. Unique: a redelivered webhook stores nothing twice.
    wa_message_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    raw_type: Mapped[str | None] = mapped_column(String(32))  # WhatsApp's type, when unsupported
    text: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    place: Mapped[str | None] = mapped_column(String(300))  # a pin's name and address
    media_id: Mapped[str | None] = mapped_column(String(128))
    media_mime: Mapped[str | None] = mapped_column(String(100))
    media_sha256: Mapped[str | None] = mapped_column(String(100))
    media_filename: Mapped[str | None] = mapped_column(String(200))
    media_size: Mapped[int | None]
    media_status: Mapped[str | None] = mapped_column(String(12))
    media_path: Mapped[str | None] = mapped_column(String(300))  # under the media folder
    # Inbound: beyond the per-number rate; kept, but it wakes nobody and fetches nothing.
    throttled: Mapped[bool] = mapped_column(default=False)
    wa_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Outbound.
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str | None] = mapped_column(String(10))
    auto_kind: Mapped[str | None] = mapped_column(String(10))
    quick_reply: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    thread: Mapped[WaThread] = relationship(lazy="joined")
    sender = relationship("User", lazy="joined")

    __table_args__ = (
        Index("ix_wa_messages_thread", "thread_id", "id"),
        Index("ix_wa_messages_thread_in", "thread_id", "direction", "created_at"),
        Index("ix_wa_messages_status_next", "status", "next_attempt_at"),
        Index("ix_wa_messages_media_status", "media_status"),
        # An automatic update is sent once per thread, never twice.
        Index(
            "uq_wa_messages_auto",
            "thread_id",
            "auto_kind",
            unique=True,
            postgresql_where=sql_text("auto_kind IS NOT NULL"),
            sqlite_where=sql_text("auto_kind IS NOT NULL"),
        ),
    )


class WaStatus(db.Model):
    """A delivery report for an outgoing message, as WhatsApp sent it.

    Kept by WhatsApp's message id, so a report that overtakes the Graph API's answer (the
    message's id not stored yet) is applied once the id is known.
    """

    __tablename__ = "wa_statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    wa_message_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("wa_message_id", "status", name="uq_wa_statuses_message_status"),
    )


class WaCursor(db.Model):
    """How far a reader of the events table got (the automatic updates' reader)."""

    __tablename__ = "wa_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)


class WaSetting(db.Model):
    """A supervisor's switch of an automatic update (``ack``, ``en_route``, ``closed``);
    without a row the ``CALLCENTER_WA_AUTO_*`` setting decides."""

    __tablename__ = "wa_settings"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool]
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
