"""Finding any ticket, open or closed: by number, by the caller's phone in any form, by words
of what was said and where, by WIB dates, status, category, sector and unit.

Results come newest first, one page at a time (``limit`` tickets, never more are loaded; a
word search may first read the ids of up to ``FEW_MATCHES`` matches); the cursor is the id of
the last row of the previous page. On PostgreSQL the words are matched
with a full-text index (``ix_tickets_search``, a GIN index on ``TICKET_TSV``); on SQLite
with ``LIKE``, which is slow on a large table but right.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import literal_column, text
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Assignment, Sector, Ticket, TicketNote, Unit
from ..models.notes import NOTES_TSV
from ..models.ticket import SEARCH_TSV
from . import catalog, clock, phones, sql, tickets
from .errors import ValidationError
from .validation import Errors

SEARCH_PARAMS = ("q", "from", "to", "category", "sector", "unit", "cursor")
MAX_WORDS = 8
MAX_Q = 200

# The text a ticket is found by: the very expression of the index ``ix_tickets_search``.
TICKET_TSV = SEARCH_TSV
_NUMBER = re.compile(r"(?:110-)?(\d{8})-(\d{1,5})")
_PHONE_CHARS = re.compile(r"[+(\d][\d\s().\-/]{5,}")


def text_sources() -> list[tuple]:
    """Where the words of a ticket are: ``(ticket id column, PostgreSQL tsvector expression,
    text columns for the SQLite fallback)``, one entry per table.

    This is the one place to add a table of text about tickets, with a GIN index on its
    expression in a migration.
    """
    return [*TEXT_SOURCES_OF_TICKETS]


TEXT_SOURCES_OF_TICKETS = [
    (Ticket.id, TICKET_TSV, (Ticket.summary, Ticket.address)),
    (TicketNote.ticket_id, NOTES_TSV, (TicketNote.text,)),
]


@dataclass
class Query:
    number: str | None = None
    phone: str | None = None
    words: list[str] = field(default_factory=list)
    since: datetime | None = None  # inclusive, UTC
    until: datetime | None = None  # exclusive, UTC
    statuses: list[str] | None = None
    categories: list[str] | None = None
    sector_id: int | None = None
    unit_id: int | None = None
    cursor: int | None = None


def wanted(args) -> bool:
    """True when the query string asks for a search (rather than the plain list by id)."""
    return any(args.get(name) not in (None, "") for name in SEARCH_PARAMS)


def page(args, limit: int, after: int | None) -> tuple[list[Ticket], dict, int | None]:
    """The ticket list's page: a search when ``args`` asks for one (``wanted``), newest
    first, else tickets in id order after ``after`` (a search pages with its cursor only).
    Returns ``(tickets, their crews by id, the next page's cursor or None)``."""
    next_cursor = None
    if wanted(args):
        if after is not None:
            raise ValidationError(
                _l("Invalid query parameters."),
                fields={"after": _l("A search pages with cursor, not after.")},
            )
        rows, next_cursor = find(parse(args), limit)
    else:
        rows = tickets.list_tickets(tickets.parse_statuses(args.get("status")), limit, after)
    return rows, tickets.crews(rows), next_cursor


def parse(args) -> Query:
    """The search asked for by a query string, or ``ValidationError`` naming each bad field."""
    errors = Errors()
    query = Query()
    raw = (args.get("q") or "").strip()
    if len(raw) > MAX_Q:
        errors.add("q", _l("At most %(n)s characters.", n=MAX_Q))
    elif raw:
        _parse_q(raw, query)

    query.since = _day(args.get("from"), "from", errors)
    until = _day(args.get("to"), "to", errors)
    if until is not None:
        query.until = until + timedelta(days=1)
    if query.since and query.until and query.since >= query.until:
        errors.add("to", _l("The end date is before the start date."))

    try:
        query.statuses = tickets.parse_statuses(args.get("status"))
    except ValidationError as exc:
        errors.update(exc.fields)

    if args.get("category"):
        query.categories = [c.strip() for c in args["category"].split(",") if c.strip()]
        if not query.categories or any(catalog.get(c) is None for c in query.categories):
            errors.add("category", _l("Choose a category from the catalog."))

    if args.get("sector"):
        ref = args["sector"].strip()
        sector = db.session.scalars(
            db.select(Sector).where(
                db.or_(
                    Sector.code == ref.upper(),
                    Sector.id == (int(ref) if ref.isdigit() else -1),
                )
            )
        ).first()
        if sector is None:
            errors.add("sector", _l("No such sector."))
        else:
            query.sector_id = sector.id

    if args.get("unit"):
        ref = args["unit"].strip()
        unit = db.session.scalars(
            db.select(Unit).where(
                db.or_(Unit.callsign == ref.upper(), Unit.id == (int(ref) if ref.isdigit() else -1))
            )
        ).first()
        if unit is None:
            errors.add("unit", _l("No such unit."))
        else:
            query.unit_id = unit.id

    cursor = args.get("cursor")
    if cursor not in (None, ""):
        if not cursor.isdigit():
            errors.add("cursor", _l("Must be a whole number."))
        else:
            query.cursor = int(cursor)
    if errors:
        raise ValidationError(_l("Invalid query parameters."), fields=errors)
    return query


def _parse_q(raw: str, query: Query) -> None:
    """A ticket number, else a phone number, else words."""
    match = _NUMBER.fullmatch(raw)
    if match:
        query.number = f"110-{match.group(1)}-{int(match.group(2)):05d}"
        return
    if _PHONE_CHARS.fullmatch(raw):
        e164 = phones.normalise(raw)
        if e164:
            query.phone = e164
            return
    words = [w for w in re.findall(r"\w+", raw.lower()) if w]
    query.words = [w[:40] for w in words[:MAX_WORDS]]


def _day(raw, name: str, errors: Errors) -> datetime | None:
    """The start of a WIB day ``YYYY-MM-DD``, in UTC."""
    if raw in (None, ""):
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors.add(name, _l("A date as YYYY-MM-DD (WIB)."))
        return None
    return datetime.combine(day, time(0), tzinfo=clock.WIB)


def find(query: Query, limit: int) -> tuple[list[Ticket], int | None]:
    """One page of matching tickets, newest first, and the cursor of the next page (None
    on the last page)."""
    where = conditions(query)
    statement = db.select(Ticket).options(selectinload(Ticket.emergency)).order_by(Ticket.id.desc())
    few = _few_matches(where) if query.words and sql.is_postgresql() else None
    if few is not None:
        wanted = sorted(few, reverse=True)[: limit + 1]
        rows = list(db.session.scalars(statement.where(Ticket.id.in_(wanted)))) if wanted else []
    else:
        rows = list(db.session.scalars(statement.where(*where).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


# Words matched by fewer tickets than this are found through the text index alone; more,
# and walking the newest tickets back finds a page sooner.
FEW_MATCHES = 5000


def _few_matches(where: list) -> list[int] | None:
    """The ids of every matching ticket when fewer than ``FEW_MATCHES`` match, read through
    the text index (ids only, no ticket); None when more match.

    PostgreSQL guesses how many tickets hold two words as if the words were independent;
    when it guesses many but few match, it walks every ticket from the newest, recomputing
    its text for each (seconds at 500,000 tickets). Reading the index first, stopped at
    ``FEW_MATCHES``, makes the choice on a fact."""
    with _bitmap_only():
        ids = list(db.session.scalars(db.select(Ticket.id).where(*where).limit(FEW_MATCHES)))
    return ids if len(ids) < FEW_MATCHES else None


@contextmanager
def _bitmap_only():
    """Within this transaction, read tickets through bitmap index scans only (the text index
    and the others, combined), never by walking an index in order."""
    for name in _PLAN_SETTINGS:
        db.session.execute(text(f"SET LOCAL {name} = off"))
    try:
        yield
    finally:
        for name in _PLAN_SETTINGS:
            db.session.execute(text(f"SET LOCAL {name} = on"))


_PLAN_SETTINGS = ("enable_indexscan", "enable_indexonlyscan", "enable_seqscan")


def conditions(query: Query) -> list:
    """The WHERE clauses of a search (shared with the benchmark's EXPLAIN)."""
    where = []
    if query.number:
        where.append(Ticket.number == query.number)
    if query.phone:
        where.append(Ticket.caller_phone == query.phone)
    if query.words:
        where.append(_words_match(query.words))
    if query.since:
        where.append(Ticket.created_at >= query.since)
    if query.until:
        where.append(Ticket.created_at < query.until)
    if query.statuses:
        where.append(Ticket.status.in_(query.statuses))
    if query.categories:
        where.append(Ticket.category.in_(query.categories))
    if query.unit_id is not None:
        where.append(
            db.exists().where(
                Assignment.ticket_id == Ticket.id, Assignment.unit_id == query.unit_id
            )
        )
    if query.sector_id is not None:
        where.append(
            db.exists().where(
                Assignment.ticket_id == Ticket.id,
                Assignment.unit_id == Unit.id,
                Unit.sector_id == query.sector_id,
            )
        )
    if query.cursor is not None:
        where.append(Ticket.id < query.cursor)
    return where


def _words_match(words: list[str]):
    """Every word (as a prefix) in one of the text sources of the ticket."""
    sources = text_sources()
    if sql.is_postgresql():
        tsquery = " & ".join(f"{w}:*" for w in words)  # words are \w+ only: nothing to escape
        matches = [
            (id_column, literal_column(tsv).op("@@")(db.func.to_tsquery("simple", tsquery)))
            for id_column, tsv, _ in sources
        ]
    else:
        matches = [
            (
                id_column,
                db.and_(
                    *(
                        db.or_(
                            *(
                                db.func.lower(db.func.coalesce(c, "")).like(
                                    "%" + _escape_like(w) + "%", escape="\\"
                                )
                                for c in columns
                            )
                        )
                        for w in words
                    )
                ),
            )
            for id_column, _, columns in sources
        ]
    if len(matches) == 1 and matches[0][0] is Ticket.id:
        return matches[0][1]
    return Ticket.id.in_(
        db.union(
            *(db.select(id_column).where(match).correlate(None) for id_column, match in matches)
        )
    )


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
