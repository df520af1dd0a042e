"""Every figure of the targets report, aggregated in the database (a handful of queries over
the tickets of the range; no ticket is loaded into Python).

What is measured (seconds, from the milestones on each ticket, models/ticket.py):

- **answer**: ``answered_at - received_at`` (calls whose phone system or console gave both);
- **answer → first offer**: ``dispatched_at - answered``;
- **processing**: ``accepted_offer_at - answered``: to the first offer that a unit accepted, so
  a declined or expired first offer does not count as processed;
- **first offer → accept**: ``acknowledged_at - dispatched_at``;
- **accept → on scene**: ``on_scene_at - acknowledged_at``;
- **call → on scene**: ``on_scene_at - call``;

where *answered* is ``answered_at``, or ``created_at`` when no answer time was given, and
*call* is the first known of ``received_at``, ``answered_at``, ``created_at``.

The dispatch figures (all but the answer time) count **incidents** (categories that send a
unit) that were not cancelled and came from a call (not found by a unit on patrol). Targets:
answer within ``CALLCENTER_ANSWER_TARGET_S`` (10 s) of the calls with an answer time; processing
within ``CALLCENTER_PROCESSING_TARGET_S`` (60 s) of the incidents offered to a unit; on scene
within ``CALLCENTER_ONSCENE_TARGET_S`` (10 min) of the incidents a unit accepted. Each boundary
is inclusive: exactly 10 s meets the 10 s target.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, case, func, select

from ...extensions import db
from ...models import Assignment, Sector, Ticket, Unit
from .. import catalog
from .filters import Filters
from .timing import (
    US,
    day_text,
    duration_us,
    is_postgresql,
    median_aggregate,
    percentiles,
    percentiles_of,
    wib_day,
    wib_hour,
)

# The calls that are not incidents, as the report names them ("dropped" comes with call-backs).
NON_EMERGENCY = ("prank", "silent_call", "information", "wrong_number", "dropped")
INTERVALS = (
    "answer",
    "answer_to_offer",
    "processing",
    "offer_to_accept",
    "accept_to_scene",
    "call_to_scene",
)
QUANTILES = (0.5, 0.9)
TOP_PRANK_NUMBERS = 10


def targets() -> dict:
    cfg = current_app.config
    return {
        "answer_s": cfg["CALLCENTER_ANSWER_TARGET_S"],
        "processing_s": cfg["CALLCENTER_PROCESSING_TARGET_S"],
        "on_scene_s": cfg["CALLCENTER_ONSCENE_TARGET_S"],
    }


def base(filters: Filters):
    """The tickets of the report with their durations (µs) and what they count in."""
    t = Ticket
    answered = func.coalesce(t.answered_at, t.created_at)
    call = func.coalesce(t.received_at, t.answered_at, t.created_at)
    incident = t.category.not_in((*catalog.DISPOSITIONS, "dropped"))
    measured = and_(incident, t.status != "cancelled", t.channel != "on_view")
    return (
        select(
            t.id,
            t.number,
            t.category,
            t.channel,
            t.priority,
            t.status,
            t.sector_id,
            t.caller_phone,
            t.created_at,
            wib_hour(t.created_at).label("hour"),
            wib_day(t.created_at).label("day"),
            case((incident, 1), else_=0).label("incident"),
            case((measured, 1), else_=0).label("measured"),
            duration_us(t.answered_at, t.received_at).label("answer"),
            duration_us(t.dispatched_at, answered).label("answer_to_offer"),
            duration_us(t.accepted_offer_at, answered).label("processing"),
            duration_us(t.acknowledged_at, t.dispatched_at).label("offer_to_accept"),
            duration_us(t.on_scene_at, t.acknowledged_at).label("accept_to_scene"),
            duration_us(t.on_scene_at, call).label("call_to_scene"),
            case((t.dispatched_at.is_not(None), 1), else_=0).label("offered"),
            case((t.acknowledged_at.is_not(None), 1), else_=0).label("accepted"),
        )
        .where(*filters.conditions())
        .cte("base")
    )


def _share(met, of) -> dict:
    return {"met": met, "of": of, "share": round(met / of, 4) if of else None}


def _met(column, limit_s: int):
    return column <= limit_s * US


def _totals(b, goal: dict) -> dict:
    measured = b.c.measured == 1
    row = db.session.execute(
        select(
            func.count().label("calls"),
            func.coalesce(func.sum(b.c.incident), 0).label("incidents"),
            func.count(b.c.answer).label("answer_of"),
            func.count(case((_met(b.c.answer, goal["answer_s"]), 1))).label("answer_met"),
            func.count(case((and_(measured, b.c.offered == 1), 1))).label("processing_of"),
            func.count(case((and_(measured, _met(b.c.processing, goal["processing_s"])), 1))).label(
                "processing_met"
            ),
            func.count(case((and_(measured, b.c.accepted == 1), 1))).label("on_scene_of"),
            func.count(
                case(
                    (
                        and_(
                            measured, b.c.accepted == 1, _met(b.c.call_to_scene, goal["on_scene_s"])
                        ),
                        1,
                    )
                )
            ).label("on_scene_met"),
            func.count(case((b.c.status == "cancelled", 1))).label("cancelled"),
        )
    ).one()
    return {
        "calls": row.calls,
        "incidents": int(row.incidents),
        "cancelled": row.cancelled,
        "targets": {
            "answer": _share(row.answer_met, row.answer_of),
            "processing": _share(row.processing_met, row.processing_of),
            "on_scene": _share(row.on_scene_met, row.on_scene_of),
        },
    }


def _intervals(b) -> dict:
    measured = b.c.measured == 1
    columns = {name: (b.c[name], None if name == "answer" else measured) for name in INTERVALS}
    found = percentiles_of(b, columns, QUANTILES)
    return {
        name: {
            "n": found[name]["n"],
            "p50_s": _seconds(found[name][0.5]),
            "p90_s": _seconds(found[name][0.9]),
        }
        for name in INTERVALS
    }


def _seconds(us: int | None) -> float | None:
    return None if us is None else us / US


def _calendar(b, filters: Filters) -> dict:
    """Calls and incidents by WIB hour and by day, and the non-emergency calls by category,
    from one grouped query (at most days x 24 x categories rows come back)."""
    hours = {h: [0, 0] for h in range(24)}
    days = {d: [0, 0] for d in _days(filters)}
    categories: dict[str, int] = {}
    rows = db.session.execute(
        select(
            b.c.day,
            b.c.hour,
            b.c.category,
            func.count().label("calls"),
            func.coalesce(func.sum(b.c.incident), 0).label("incidents"),
        ).group_by(b.c.day, b.c.hour, b.c.category)
    )
    for row in rows:
        for bucket in (
            hours.setdefault(row.hour, [0, 0]),
            days.setdefault(day_text(row.day), [0, 0]),
        ):
            bucket[0] += row.calls
            bucket[1] += int(row.incidents)
        categories[row.category] = categories.get(row.category, 0) + row.calls
    return {
        "by_hour": [{"key": k, "calls": v[0], "incidents": v[1]} for k, v in hours.items()],
        "by_day": [{"key": k, "calls": v[0], "incidents": v[1]} for k, v in days.items()],
        "categories": categories,
    }


def _days(filters: Filters) -> list[str]:
    count = (filters.end_day - filters.start_day).days + 1
    return [(filters.start_day + timedelta(days=i)).isoformat() for i in range(count)]


def _non_emergency(counts: dict, calls: int) -> list[dict]:
    return [
        {
            "category": code,
            "calls": counts.get(code, 0),
            "share": round(counts.get(code, 0) / calls, 4) if calls else None,
        }
        for code in NON_EMERGENCY
    ]


def _units(b) -> list[dict]:
    a = Assignment
    joined = select(
        a.unit_id,
        a.status,
        a.responded_at,
        duration_us(a.on_scene_at, a.responded_at).label("to_scene"),
    ).join(b, b.c.id == a.ticket_id)
    rows = joined.subquery("ua")
    took = and_(rows.c.responded_at.is_not(None), rows.c.status != "declined")
    aggregates = [
        func.count().label("offers"),
        func.count(case((rows.c.status == "declined", 1))).label("declines"),
        func.count(case((rows.c.status == "expired", 1))).label("expiries"),
        func.count(case((took, 1))).label("jobs"),
    ]
    on_pg = is_postgresql()
    if on_pg:  # the median in the same pass
        aggregates.append(median_aggregate(rows.c.to_scene, took).label("median"))
    counts = db.session.execute(select(rows.c.unit_id, *aggregates).group_by(rows.c.unit_id)).all()
    if not counts:
        return []
    if on_pg:
        medians = {r.unit_id: {0.5: r.median} for r in counts}
    else:
        medians = percentiles(
            select(rows.c.unit_id.label("key"), rows.c.to_scene.label("value")).where(took),
            (0.5,),
        )
    names = dict(
        db.session.execute(
            select(Unit.id, Unit.callsign).where(Unit.id.in_([r.unit_id for r in counts]))
        ).all()
    )
    out = [
        {
            "unit_id": r.unit_id,
            "callsign": names.get(r.unit_id),
            "offers": r.offers,
            "declines": r.declines,
            "expiries": r.expiries,
            "jobs": r.jobs,
            "to_scene_p50_s": _seconds(medians.get(r.unit_id, {}).get(0.5)),
        }
        for r in counts
    ]
    return sorted(out, key=lambda u: (-u["jobs"], -u["offers"], u["callsign"] or ""))


def _sectors(b, goal: dict) -> list[dict]:
    measured_accepted = and_(b.c.measured == 1, b.c.accepted == 1)
    rows = db.session.execute(
        select(
            b.c.sector_id,
            func.coalesce(func.sum(b.c.incident), 0).label("incidents"),
            func.count(case((measured_accepted, 1))).label("of"),
            func.count(
                case((and_(measured_accepted, _met(b.c.call_to_scene, goal["on_scene_s"])), 1))
            ).label("met"),
        )
        .where(b.c.incident == 1)
        .group_by(b.c.sector_id)
    ).all()
    names = dict(db.session.execute(select(Sector.id, Sector.name)).all())
    out = [
        {
            "sector_id": r.sector_id,
            "name": names.get(r.sector_id),
            "incidents": int(r.incidents),
            "on_scene": _share(r.met, r.of),
        }
        for r in rows
    ]
    return sorted(out, key=lambda s: (s["sector_id"] is None, s["name"] or ""))


def _prank_numbers(b) -> list[dict]:
    rows = db.session.execute(
        select(b.c.caller_phone, func.count().label("calls"))
        .where(b.c.category == "prank", b.c.caller_phone.is_not(None))
        .group_by(b.c.caller_phone)
        .having(func.count() >= 2)
        .order_by(func.count().desc(), b.c.caller_phone)
        .limit(TOP_PRANK_NUMBERS)
    ).all()
    return [{"phone": r.caller_phone, "calls": r.calls} for r in rows]


def handoffs_and_callbacks(b) -> dict | None:
    """Hand-offs to other agencies and call-backs of silent and dropped calls: the place for
    their figures once those records exist (hand-offs acknowledged in time, call-backs made
    and their outcomes). None until then, and the report leaves the section out."""
    return None


def kpis(filters: Filters) -> dict:
    """Every figure of the report for ``filters``; durations in seconds."""
    goal = targets()
    b = base(filters)
    totals = _totals(b, goal)
    calendar = _calendar(b, filters)
    figures = {
        "range": {
            "from": filters.start_day.isoformat(),
            "to": filters.end_day.isoformat(),
            "timezone": "Asia/Jakarta",
        },
        "filters": {
            "sector": filters.sector_id,
            "category": filters.category,
            "priority": filters.priority,
            "channel": filters.channel,
        },
        "target_seconds": goal,
        **totals,
        "intervals": _intervals(b),
        "non_emergency": _non_emergency(calendar["categories"], totals["calls"]),
        "by_hour": calendar["by_hour"],
        "by_day": calendar["by_day"],
        "units": _units(b),
        "sectors": _sectors(b, goal),
        "prank_numbers": _prank_numbers(b),
    }
    later = handoffs_and_callbacks(b)
    if later is not None:
        figures["handoffs_callbacks"] = later
    return figures
