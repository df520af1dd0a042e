"""Small SQL helpers that differ by dialect."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from .errors import ValidationError


def insert_ignore(model, values: dict) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, for PostgreSQL and SQLite."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    db.session.execute(module.insert(model).values(**values).on_conflict_do_nothing())


def insert_ignore_returning(model, values: dict, column):
    """INSERT ... ON CONFLICT DO NOTHING RETURNING ``column``: its value, or None when a
    conflicting row was already there."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(model).values(**values).on_conflict_do_nothing().returning(column)
    return db.session.execute(statement).scalar_one_or_none()


def flush_unique(message, fields: dict) -> None:
    """Flush the pending rows. If they break a unique constraint (a callsign, code or name
    someone took first, perhaps at the same moment), roll back and raise
    ``ValidationError(message, fields)``: the database, not a check before, decides."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ValidationError(message, fields=fields) from None


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def upsert(model, values: dict, update: list[str]) -> None:
    """INSERT ... ON CONFLICT (primary key) DO UPDATE SET ``update`` columns."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(model).values(**values)
    keys = [c.name for c in model.__table__.primary_key.columns]
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in update}
    )
    db.session.execute(statement)
