"""Small SQL helpers that differ by dialect."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db


def insert_ignore(model, values: dict) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, for PostgreSQL and SQLite."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    db.session.execute(module.insert(model).values(**values).on_conflict_do_nothing())


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"
