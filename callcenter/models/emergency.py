"""An officer in danger: the emergency a unit raised with its panic button, and its alarm.

The emergency's ticket (priority 1, channel ``panic_button``) is routed like any other;
this row holds what only an emergency has: the unit in danger, the alarm every console shows
until a dispatcher acknowledges it, and when and why it ended. One open emergency per unit,
decided by the database (``uq_emergencies_open_unit``): two presses at once make one ticket.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

_OPEN_SQL = text("ended_at IS NULL")


class Emergency(db.Model):
    __tablename__ = "emergencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), unique=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    # The alarm: raised by a press (again by a press after it was acknowledged).
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the position the ticket shows was measured (its age is shown with the alarm).
    located_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Ended with its ticket: by the unit itself, or a dispatcher closing or cancelling it.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    end_reason: Mapped[str | None] = mapped_column(String(300))

    unit = relationship("Unit", lazy="joined")
    acknowledged_by = relationship("User", lazy="joined", foreign_keys=[acknowledged_by_id])

    __table_args__ = (
        Index(
            "uq_emergencies_open_unit",
            "unit_id",
            unique=True,
            postgresql_where=_OPEN_SQL,
            sqlite_where=_OPEN_SQL,
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def alarm_active(self) -> bool:
        """Shown on every console until a dispatcher acknowledges it (or it ends)."""
        return self.ended_at is None and self.acknowledged_at is None
