"""The day's figures for supervisors: calls by category and channel, non-emergency share,
response times against Polri's targets, and the numbers that keep calling in pranks."""

from __future__ import annotations

import statistics
from datetime import date, datetime, time, timedelta

from ..extensions import db
from ..models import Ticket
from . import catalog, clock


def parse_day(raw: str | None) -> date:
    """``YYYY-MM-DD`` (a WIB day), today in WIB when missing or malformed."""
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            day = None
        # The report reads up to the next midnight: the last day a calendar has names none.
        if day is not None and date(2000, 1, 1) <= day < date(9999, 12, 31):
            return day
    return clock.to_wib(clock.now()).date()


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def daily(day: date) -> dict:
    """Figures for one WIB day."""
    start = datetime.combine(day, time.min, tzinfo=clock.WIB)
    end = start + timedelta(days=1)
    rows = list(
        db.session.scalars(
            db.select(Ticket).where(Ticket.created_at >= start, Ticket.created_at < end)
        )
    )
    by_category: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    for t in rows:
        by_category[t.category] = by_category.get(t.category, 0) + 1
        by_channel[t.channel] = by_channel.get(t.channel, 0) + 1
    non_dispatch = sum(n for code, n in by_category.items() if code in catalog.DISPOSITIONS)

    def seconds(a, b):
        return [
            (getattr(t, b) - getattr(t, a)).total_seconds()
            for t in rows
            if getattr(t, a) and getattr(t, b)
        ]

    to_dispatch = seconds("created_at", "dispatched_at")
    to_ack = seconds("created_at", "acknowledged_at")
    to_scene = seconds("created_at", "on_scene_at")
    pranks: dict[str, int] = {}
    for t in rows:
        if t.category == "prank" and t.caller_phone:
            pranks[t.caller_phone] = pranks.get(t.caller_phone, 0) + 1
    return {
        "total": len(rows),
        "non_dispatch": non_dispatch,
        "by_category": sorted(by_category.items(), key=lambda kv: -kv[1]),
        "by_channel": sorted(by_channel.items(), key=lambda kv: -kv[1]),
        "dispatch_p50_s": statistics.median(to_dispatch) if to_dispatch else None,
        "dispatch_p90_s": _percentile(to_dispatch, 0.9),
        "dispatched_within_60s": sum(1 for s in to_dispatch if s <= 60),
        "dispatched": len(to_dispatch),
        "ack_p50_s": statistics.median(to_ack) if to_ack else None,
        "on_scene_p50_s": statistics.median(to_scene) if to_scene else None,
        "on_scene_within_10min": sum(1 for s in to_scene if s <= 600),
        "on_scene": len(to_scene),
        "escalated": sum(1 for t in rows if t.escalated_at),
        "prank_numbers": sorted(pranks.items(), key=lambda kv: -kv[1])[:20],
    }
