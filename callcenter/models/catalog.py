"""The center's own settings for the categories of the catalog."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class CategorySetting(db.Model):
    """A category's local defaults; a column left empty keeps the catalog's own value."""

    __tablename__ = "category_settings"

    code: Mapped[str] = mapped_column(String(48), primary_key=True)
    default_priority: Mapped[int | None]
    default_units: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
