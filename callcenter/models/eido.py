"""Incidents taken in from other centers as EIDO documents (NENA-STA-021).

One row per EIDO incident id: the ticket made from it, and the ``lastUpdateTimeStamp`` of
the version last applied. The unique incident id is what makes a repeated or concurrent
delivery of one incident make one ticket.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import JSONType, UTCDateTime, utcnow

EIDO_ID_MAX = 255


class EidoLink(db.Model):
    __tablename__ = "eido_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The EIDO's ``$id``: the incident's tracking identifier, globally unique.
    eido_id: Mapped[str] = mapped_column(String(EIDO_ID_MAX))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    # The agency that sent the version last applied (its ``updatedByAgencyReference``).
    source: Mapped[str | None] = mapped_column(String(EIDO_ID_MAX))
    last_update_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The ``$id``s of the document's calls and notes already taken in as rows, so that a
    # newer version adds only what is new: {"calls": [...], "notes": [...]}.
    components: Mapped[dict] = mapped_column(JSONType, default=dict)

    __table_args__ = (
        UniqueConstraint("eido_id", name="uq_eido_links_eido_id"),
        Index("ix_eido_links_ticket", "ticket_id"),
    )
