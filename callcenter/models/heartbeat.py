"""Heartbeats: when a background part last proved it works, kept in the database so every
web process (and /readyz) sees them whatever else is down."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class Heartbeat(db.Model):
    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)  # "worker"
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    host: Mapped[str | None] = mapped_column(String(255))
