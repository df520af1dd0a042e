"""Time: UTC inside, WIB (Asia/Jakarta) for people."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ..models.base import utcnow

WIB = ZoneInfo("Asia/Jakarta")

__all__ = ["WIB", "now", "to_wib", "wib_day"]


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return utcnow()


def to_wib(moment: datetime) -> datetime:
    return moment.astimezone(WIB)


def wib_day(moment: datetime) -> str:
    """The calendar day in WIB as ``YYYYMMDD`` (ticket numbers restart each WIB day)."""
    return to_wib(moment).strftime("%Y%m%d")
