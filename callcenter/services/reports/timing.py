"""Time in report SQL, the same on PostgreSQL and SQLite.

Durations are whole microseconds (``BIGINT``), computed exactly on both databases, so a call
answered in exactly 10 s counts as 10 000 000 µs on both and meets a 10 s target.

**The percentile method** (one definition, both databases): the nearest rank, that is the
smallest value ``v`` such that at least a share ``q`` of the values are ``<= v`` — the value at
rank ``ceil(q * n)`` of the ``n`` values in ascending order (rank 1 for ``q = 0``). This is
PostgreSQL's ``percentile_disc``; on SQLite it is the smallest value whose ``ROW_NUMBER()``
over the ordered values is at least ``q * n`` (``COUNT(*)`` over the same window). Both
compare the same IEEE product ``q * n``, so they agree exactly. The median is ``q = 0.5``:
with an even count it is the lower middle value, never an average of two.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)

from ...extensions import db

WIB_ZONE = "Asia/Jakarta"
WIB_OFFSET = "+7 hours"  # WIB keeps no daylight saving time
US = 1_000_000


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def duration_us(later, earlier):
    """``later - earlier`` in whole microseconds; NULL when either is NULL."""
    if is_postgresql():
        # date_part is a double (EXTRACT's numeric costs twice as much per row); rounded to
        # the microsecond it is exact for any interval a report meets.
        return cast(func.round(func.date_part("epoch", later - earlier) * US), BigInteger)

    def whole(moment):
        return cast(func.strftime("%s", moment), BigInteger)

    def micro(moment):  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff"
        return cast(func.substr(moment, 21, 6), BigInteger)

    return (whole(later) - whole(earlier)) * US + (micro(later) - micro(earlier))


def wib_hour(moment):
    """The hour of day (0-23) in WIB."""
    if is_postgresql():
        return cast(func.date_part("hour", func.timezone(WIB_ZONE, moment)), Integer)
    return cast(func.strftime("%H", moment, WIB_OFFSET), Integer)


def wib_day(moment):
    """The WIB calendar day (a date on PostgreSQL, ``YYYY-MM-DD`` text on SQLite: read it
    with ``day_text``)."""
    if is_postgresql():
        return cast(func.timezone(WIB_ZONE, moment), Date)
    return cast(func.date(moment, WIB_OFFSET), String)


def day_text(value) -> str:
    return value if isinstance(value, str) else value.isoformat()


def median_aggregate(column, condition):
    """PostgreSQL only: the nearest-rank median of ``column`` as an aggregate, to sit beside
    other aggregates of a GROUP BY (the same method as ``percentiles``)."""
    return (
        func.percentile_disc(0.5).within_group(column).filter(and_(condition, column.is_not(None)))
    )


def percentiles(values, quantiles: tuple[float, ...]) -> dict:
    """Nearest-rank percentiles (see the module's docstring) of a selectable with columns
    ``key`` and ``value`` (NULL values are left out), per key:
    ``{key: {"n": count, q: value, ...}}``; keys without a value are absent."""
    rows = values.subquery("v")
    known = rows.c.value.is_not(None)
    if is_postgresql():
        columns = [
            func.percentile_disc(q).within_group(rows.c.value).label(f"q{i}")
            for i, q in enumerate(quantiles)
        ]
        query = (
            select(rows.c.key, func.count(rows.c.value).label("n"), *columns)
            .where(known)
            .group_by(rows.c.key)
        )
    else:
        ranked = (
            select(
                rows.c.key,
                rows.c.value,
                func.row_number()
                .over(partition_by=rows.c.key, order_by=rows.c.value)
                .label("rank"),
                func.count().over(partition_by=rows.c.key).label("n"),
            )
            .where(known)
            .subquery("r")
        )
        columns = [
            func.min(case((ranked.c.rank >= literal(q) * ranked.c.n, ranked.c.value))).label(
                f"q{i}"
            )
            for i, q in enumerate(quantiles)
        ]
        query = select(ranked.c.key, func.max(ranked.c.n).label("n"), *columns).group_by(
            ranked.c.key
        )
    found = {}
    for row in db.session.execute(query):
        found[row.key] = {"n": row.n} | {
            q: (int(getattr(row, f"q{i}")) if getattr(row, f"q{i}") is not None else None)
            for i, q in enumerate(quantiles)
        }
    return found


def percentiles_of(source, columns: dict, quantiles: tuple[float, ...]) -> dict:
    """Nearest-rank percentiles of several columns of one selectable, each over its own rows:
    ``columns`` maps a name to ``(column, condition or None)``; returns
    ``{name: {"n": count, q: value, ...}}`` (values None when no row has one).

    PostgreSQL reads the rows once (ordered-set aggregates with ``FILTER``); SQLite ranks each
    column's rows with the window functions of ``percentiles``."""
    if is_postgresql():
        parts = []
        for name, (column, condition) in columns.items():
            where = (
                column.is_not(None) if condition is None else and_(condition, column.is_not(None))
            )
            parts.append(func.count().filter(where).label(f"{name}__n"))
            parts.extend(
                func.percentile_disc(q).within_group(column).filter(where).label(f"{name}__{i}")
                for i, q in enumerate(quantiles)
            )
        row = db.session.execute(select(*parts).select_from(source)).one()._mapping
        return {
            name: {"n": row[f"{name}__n"]}
            | {
                q: (int(row[f"{name}__{i}"]) if row[f"{name}__{i}"] is not None else None)
                for i, q in enumerate(quantiles)
            }
            for name in columns
        }
    unions = [
        select(literal(name).label("key"), column.label("value"))
        .select_from(source)
        .where(*([] if condition is None else [condition]))
        for name, (column, condition) in columns.items()
    ]
    found = percentiles(union_all(*unions), quantiles)
    empty = {"n": 0} | {q: None for q in quantiles}
    return {name: found.get(name, empty) for name in columns}
