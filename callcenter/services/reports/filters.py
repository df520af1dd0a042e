"""What a report covers: a WIB date range, and optionally one Polsek, category, priority
and channel. Bad input is refused with every field named; nothing is guessed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Sector, Ticket
from ...models.ticket import CHANNELS
from .. import catalog, clock
from ..errors import ValidationError
from ..validation import Errors, whole_number

MAX_DAYS = 366
FILTER_NAMES = ("from", "to", "sector", "category", "priority", "channel")


@dataclass(frozen=True)
class Filters:
    start_day: date  # first WIB day, inclusive
    end_day: date  # last WIB day, inclusive
    sector_id: int | None = None
    category: str | None = None
    priority: int | None = None
    channel: str | None = None

    @property
    def start(self) -> datetime:
        """The first moment covered (UTC-aware)."""
        return datetime.combine(self.start_day, time.min, tzinfo=clock.WIB)

    @property
    def end(self) -> datetime:
        """The first moment no longer covered."""
        return datetime.combine(self.end_day + timedelta(days=1), time.min, tzinfo=clock.WIB)

    def conditions(self) -> list:
        """The WHERE conditions on ``tickets``: logged in the range, and the filters."""
        found = [Ticket.created_at >= self.start, Ticket.created_at < self.end]
        if self.sector_id is not None:
            found.append(Ticket.sector_id == self.sector_id)
        if self.category is not None:
            found.append(Ticket.category == self.category)
        if self.priority is not None:
            found.append(Ticket.priority == self.priority)
        if self.channel is not None:
            found.append(Ticket.channel == self.channel)
        return found

    def to_query(self) -> dict:
        """The filters as query parameters (for links to the same report)."""
        query = {"from": self.start_day.isoformat(), "to": self.end_day.isoformat()}
        for name, value in (
            ("sector", self.sector_id),
            ("category", self.category),
            ("priority", self.priority),
            ("channel", self.channel),
        ):
            if value is not None:
                query[name] = str(value)
        return query


# Days a report may name: the range reads up to the midnight after its last day, which the
# calendar's last day does not have.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def _day(raw, name: str, errors: Errors) -> date | None:
    try:
        day = date.fromisoformat(raw)
    except (TypeError, ValueError):
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        errors.add(name, _l("A date as YYYY-MM-DD."))
        return None
    return day


def parse_filters(args) -> Filters:
    """Filters from query parameters (``from``, ``to`` as WIB dates ``YYYY-MM-DD``,
    ``sector`` as id or code, ``category``, ``priority`` 1-4, ``channel``). Without dates:
    this month so far. Empty values mean "all". Raises ``ValidationError``."""
    errors = Errors()
    raw = {name: (args.get(name) or "").strip() for name in FILTER_NAMES}
    today = clock.to_wib(clock.now()).date()
    end = _day(raw["to"], "to", errors) if raw["to"] else today
    start = _day(raw["from"], "from", errors) if raw["from"] else None
    if start is None and "from" not in errors and end is not None:
        start = end.replace(day=1)
    if start and end:
        if start > end:
            errors.add("to", _l("The end of the range is before its start."))
        elif (end - start).days + 1 > MAX_DAYS:
            errors.add("to", _l("At most %(n)s days at once.", n=MAX_DAYS))

    sector_id = None
    if raw["sector"]:
        ref = raw["sector"]
        query = db.select(Sector.id)
        query = (
            query.where(Sector.id == int(ref))
            if whole_number(ref)
            else query.where(Sector.code == ref)
        )
        sector_id = db.session.scalar(query)
        if sector_id is None:
            errors.add("sector", _l("No such sector."))
    category = raw["category"] or None
    if category is not None and catalog.get(category) is None:
        errors.add("category", _l("Choose a category from the catalog."))
    priority = None
    if raw["priority"]:
        if raw["priority"] in ("1", "2", "3", "4"):
            priority = int(raw["priority"])
        else:
            errors.add(
                "priority", _l("Must be a whole number from %(low)s to %(high)s.", low=1, high=4)
            )
    channel = raw["channel"] or None
    if channel is not None and channel not in CHANNELS:
        errors.add("channel", _l("One of: %(choices)s.", choices=", ".join(CHANNELS)))
    if errors:
        raise ValidationError(
            _l("The report was not made. Check the marked fields."), fields=errors
        )
    return Filters(start, end, sector_id, category, priority, channel)
