"""Tickets (one incident each), the daily number counter and idempotency keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

TICKET_STATUSES = (
    "new",
    "queued",
    "handed_off",
    "dispatched",
    "acknowledged",
    "en_route",
    "on_scene",
    "closed",
    "cancelled",
)
# ``handed_off``: a hand-off-only ticket, waiting for the agency's acknowledgement.
OPEN_STATUSES = (
    "new",
    "queued",
    "handed_off",
    "dispatched",
    "acknowledged",
    "en_route",
    "on_scene",
)
# Waiting for its first unit.
ROUTABLE_STATUSES = ("new", "queued")
CHANNELS = ("phone", "whatsapp", "panic_button", "walk_in", "radio", "on_view")
MAX_UNITS = 10
_WAITING_SQL = text("waiting_since IS NOT NULL")
# What search matches words against (services/search.py), indexed on PostgreSQL only;
# written as PostgreSQL reflects it, so that the schema comparison sees no change.
SEARCH_TSV = (
    "to_tsvector('simple'::regconfig, (COALESCE(summary, ''::text) || ' '::text)"
    " || COALESCE(address, ''::character varying)::text)"
)


class Ticket(db.Model):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    # Why a slot waits for a unit: none_available, positions_stale, none_within_radius, ...
    status_reason: Mapped[str | None] = mapped_column(String(64))
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    priority: Mapped[int]
    # How many units the incident needs (1..10); each active assignment holds one slot.
    units_needed: Mapped[int] = mapped_column(server_default=text("1"))
    # Since when a slot has been waiting for a unit to be offered (None: every slot is
    # offered, accepted or served). Routing of waiting work and its escalation go by it.
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    category: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16))
    caller_name: Mapped[str | None] = mapped_column(String(120))
    caller_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    # No location for a silent or wrong-number call; every dispatched ticket has one.
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    address: Mapped[str | None] = mapped_column(String(300))
    resolution: Mapped[str | None] = mapped_column(String(40))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_reason: Mapped[str | None] = mapped_column(String(40))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # What the caller's number had behind it when the call was logged.
    caller_calls_30d: Mapped[int] = mapped_column(default=0)
    caller_pranks_30d: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The Polsek whose station is nearest to the location (set at intake; reports group by it).
    # Not a foreign key: the column is added without rebuilding the table (migration 0008).
    sector_id: Mapped[int | None] = mapped_column(index=True)
    # The milestones a report needs, each set once by the use case that reaches it:
    # the call rang (``received_at``, from a phone system) and was picked up (``answered_at``,
    # from the phone system or the console when the dispatcher starts typing), the ticket was
    # logged (``created_at``), first offered to a unit (``dispatched_at``), the first offer that
    # a unit went on to accept was made (``accepted_offer_at``), the first unit accepted
    # (``acknowledged_at``), the first unit reached the scene (``on_scene_at``), and the ticket
    # was closed or cancelled (``closed_at``). With several units these are per ticket: the
    # first unit to accept, the first at the scene.
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_offer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_scene_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last time a unit on the ticket asked for backup (shown in red on the board).
    backup_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    duplicate_of: Mapped[Ticket | None] = relationship(remote_side=[id], lazy="joined")
    created_by = relationship("User", lazy="joined")
    # The officer in danger, when the ticket is an emergency (see models/emergency.py).
    # Loaded when read (lists load it for all their tickets at once), not with every lock.
    emergency = relationship("Emergency", lazy="select", uselist=False, viewonly=True)

    __table_args__ = (
        CheckConstraint(f"units_needed BETWEEN 1 AND {MAX_UNITS}", name="ck_tickets_units_needed"),
        Index(
            "ix_tickets_waiting",
            "priority",
            "created_at",
            postgresql_where=_WAITING_SQL,
            sqlite_where=_WAITING_SQL,
        ),
        Index("ix_tickets_status_priority_created", "status", "priority", "created_at"),
        Index("ix_tickets_category_created", "category", "created_at"),
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_search", text(SEARCH_TSV), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketCounter(db.Model):
    """The last ticket number handed out on one day (WIB)."""

    __tablename__ = "ticket_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)  # YYYYMMDD
    last: Mapped[int] = mapped_column(default=0)


class IdempotencyKey(db.Model):
    """A client's ``Idempotency-Key`` and the ticket its first request created."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),
        Index("ix_idempotency_created", "created_at"),  # retention
    )
