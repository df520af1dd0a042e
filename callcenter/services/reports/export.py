"""The tickets behind any figure of the report, as CSV rows streamed from the database."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from ...extensions import db
from ...models import Assignment, Sector
from .. import catalog, clock
from ..errors import ValidationError
from .filters import Filters
from .kpis import INTERVALS, NON_EMERGENCY, base, targets
from .timing import US, is_postgresql

COLUMNS = (
    "number",
    "created_wib",
    "category",
    "priority",
    "channel",
    "status",
    "sector",
    "caller_phone",
    *(f"{name}_s" for name in INTERVALS),
)
_FIGURE = re.compile(
    r"^(calls|incidents|answer_missed|processing_missed|on_scene_missed"
    r"|category:[a-z_]+|hour:\d{1,2}|day:\d{4}-\d{2}-\d{2}|interval:[a-z_]+"
    r"|unit:\d+|sector:(\d+|none)|prank:\+\d{6,16})$"
)


def _condition(b, figure: str):
    """The WHERE condition on the report's tickets that gives the tickets of ``figure``."""
    goal = targets()
    measured = b.c.measured == 1
    kind, _, value = figure.partition(":")
    if kind == "calls":
        return None
    if kind == "incidents":
        return b.c.incident == 1
    if kind == "answer_missed":
        return b.c.answer > goal["answer_s"] * US
    if kind == "processing_missed":
        return and_(
            measured,
            b.c.offered == 1,
            (b.c.processing.is_(None)) | (b.c.processing > goal["processing_s"] * US),
        )
    if kind == "on_scene_missed":
        return and_(
            measured,
            b.c.accepted == 1,
            (b.c.call_to_scene.is_(None)) | (b.c.call_to_scene > goal["on_scene_s"] * US),
        )
    if kind == "category" and (value in NON_EMERGENCY or catalog.get(value)):
        return b.c.category == value
    if kind == "hour" and 0 <= int(value) <= 23:
        return b.c.hour == int(value)
    if kind == "day":
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise _refused() from None
        return b.c.day == (day if is_postgresql() else value)
    if kind == "interval" and value in INTERVALS:
        column = b.c[value]
        return column.is_not(None) if value == "answer" else and_(measured, column.is_not(None))
    if kind == "unit":
        offered = select(Assignment.ticket_id).where(Assignment.unit_id == int(value))
        return b.c.id.in_(offered)
    if kind == "sector":
        return b.c.sector_id.is_(None) if value == "none" else b.c.sector_id == int(value)
    if kind == "prank":
        return and_(b.c.category == "prank", b.c.caller_phone == value)
    raise _refused()


def _refused() -> ValidationError:
    return ValidationError(
        _l("No such figure to export."), fields={"figure": _l("No such figure to export.")}
    )


def check_figure(figure: str | None) -> str:
    """The figure asked for (``calls`` when none), or ``ValidationError``."""
    figure = (figure or "calls").strip()
    if not _FIGURE.match(figure):
        raise _refused()
    return figure


def csv_lines(filters: Filters, figure: str) -> Iterator[str]:
    """The CSV text, a header and then one line per ticket, read from the database in
    batches (never all at once); times in WIB, durations in seconds."""
    b = base(filters)
    condition = _condition(b, figure)
    query = (
        select(b, Sector.name.label("sector_name"))
        .outerjoin(Sector, Sector.id == b.c.sector_id)
        .order_by(b.c.created_at, b.c.id)
    )
    if condition is not None:
        query = query.where(condition)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    yield _take(out)
    for row in db.session.execute(query.execution_options(yield_per=1000)):
        writer.writerow(
            [
                row.number,
                clock.to_wib(row.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                row.category,
                row.priority,
                row.channel,
                row.status,
                row.sector_name or "",
                row.caller_phone or "",
                *(
                    "" if row._mapping[name] is None else f"{row._mapping[name] / US:.3f}"
                    for name in INTERVALS
                ),
            ]
        )
        if out.tell() > 64_000:
            yield _take(out)
    yield _take(out)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
