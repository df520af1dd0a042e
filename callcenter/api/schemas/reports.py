"""The targets report (`GET /reports/kpis`): response times against the center's targets,
volumes by hour and day, units, sectors and prank numbers."""

from __future__ import annotations

from pydantic import Field

from ...models.ticket import CHANNELS
from .common import Out, Query, or_blank


class KpisQuery(Query):
    """The report's range (WIB days) and filters. Every bad filter is named at once (422);
    an empty value means "all"."""

    from_: str | None = Field(
        None,
        alias="from",
        description="The first WIB day, `YYYY-MM-DD` (default: the first of `to`'s month).",
        json_schema_extra=or_blank({"format": "date"}),
    )
    to: str | None = Field(
        None,
        description="The last WIB day, `YYYY-MM-DD`, inclusive (default: today). At most "
        "366 days from `from`.",
        json_schema_extra=or_blank({"format": "date"}),
    )
    sector: str | None = Field(None, description="A sector's id or code.")
    category: str | None = Field(None, description="A category code.")
    priority: str | None = Field(
        None, description="1 to 4.", json_schema_extra=or_blank({"enum": ["1", "2", "3", "4"]})
    )
    channel: str | None = Field(None, json_schema_extra=or_blank({"enum": list(CHANNELS)}))


class ReportRange(Out):
    from_: str = Field(alias="from", description="The first WIB day, `YYYY-MM-DD`.")
    to: str = Field(description="The last WIB day, inclusive.")
    timezone: str = Field(description="`Asia/Jakarta`.")


class ReportFilters(Out):
    sector: int | None = Field(description="The sector's id.")
    category: str | None
    priority: int | None
    channel: str | None


class TargetSeconds(Out):
    answer_s: float = Field(description="Answer within this many seconds.")
    processing_s: float = Field(description="From the answer to an accepted offer.")
    on_scene_s: float = Field(description="From the call to a unit on scene.")


class Share(Out):
    met: int = Field(description="How many met the target.")
    of: int = Field(description="How many were measured.")
    share: float | None = Field(description="`met / of` (0..1); null when `of` is 0.")


class Targets(Out):
    answer: Share = Field(description="Calls with an answer time, answered in time.")
    processing: Share = Field(description="Incidents offered to a unit, processed in time.")
    on_scene: Share = Field(description="Incidents a unit accepted, reached in time.")


class Interval(Out):
    n: int = Field(description="How many tickets have both milestones.")
    p50_s: float | None = Field(description="The median, in seconds.")
    p90_s: float | None = Field(description="The 90th percentile, in seconds.")


class Intervals(Out):
    """Durations between milestones (nearest-rank percentiles)."""

    answer: Interval
    answer_to_offer: Interval
    processing: Interval
    offer_to_accept: Interval
    accept_to_scene: Interval
    call_to_scene: Interval


class NonEmergency(Out):
    category: str = Field(description="`prank`, `silent_call`, `information`, ...")
    calls: int
    share: float | None = Field(description="Of all calls (0..1); null without calls.")


class HourCount(Out):
    key: int = Field(description="The WIB hour, 0-23.")
    calls: int
    incidents: int


class DayCount(Out):
    key: str = Field(description="The WIB day, `YYYY-MM-DD`.")
    calls: int
    incidents: int


class UnitFigures(Out):
    unit_id: int
    callsign: str | None
    offers: int
    declines: int
    expiries: int
    jobs: int = Field(description="Offers it took (accepted and did not decline).")
    to_scene_p50_s: float | None = Field(description="Median from accepting to on scene.")


class SectorFigures(Out):
    sector_id: int | None = Field(description="Null: tickets outside every sector.")
    name: str | None
    incidents: int
    on_scene: Share


class PrankNumber(Out):
    phone: str = Field(description="E.164.")
    phone_display: str | None = Field(description="The number as people write it.")
    calls: int


class Kpis(Out):
    """Every figure of the report; durations in seconds, shares as fractions of 1."""

    range: ReportRange
    filters: ReportFilters
    target_seconds: TargetSeconds
    calls: int = Field(description="Every ticket logged in the range.")
    incidents: int = Field(description="Those of categories that send a unit.")
    cancelled: int
    targets: Targets
    intervals: Intervals
    non_emergency: list[NonEmergency]
    by_hour: list[HourCount]
    by_day: list[DayCount]
    units: list[UnitFigures]
    sectors: list[SectorFigures]
    prank_numbers: list[PrankNumber] = Field(description="Numbers with 2 or more prank calls.")
    handoffs_callbacks: dict | None = Field(
        None, description="Hand-off and call-back figures (not reported yet: absent)."
    )
