"""The migrations build the schema from empty, and come down again, on both databases."""

import os

import psycopg
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from callcenter import create_app
from callcenter.extensions import db
from tests.conftest import PG_ADMIN_URL, RUN_ID, _pg_url

EXPECTED = {
    "users",
    "api_tokens",
    "sign_in_throttle",
    "heartbeats",
    "sectors",
    "units",
    "unit_positions",
    "tickets",
    "ticket_counters",
    "idempotency_keys",
    "assignments",
    "events",
    "wa_threads",
    "wa_messages",
    "wa_statuses",
    "wa_cursors",
    "wa_settings",
    "emergencies",
    "calls",
    "ticket_notes",
    "event_recipients",
    "agencies",
    "handoffs",
    "callbacks",
    "callback_attempts",
    "unit_shifts",
    "category_settings",
    "eido_links",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield "sqlite:///" + os.path.join(tmp_path, "migrate.sqlite")
        return
    name = f"cc_migrate_{RUN_ID}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tables(app) -> set[str]:
    with app.app_context():
        names = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        db.session.remove()
        return names


def test_upgrade_from_empty_then_downgrade_and_again(empty_database):
    app = create_app({"DATABASE_URL": empty_database})
    with app.app_context():
        upgrade()
    assert _tables(app) == EXPECTED
    with app.app_context():
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("assignments")}
        assert {
            "uq_assignments_active_unit",
            "uq_assignments_active_ticket_unit",
            "uq_assignments_active_ticket_slot",
        } <= indexes
        assert "uq_assignments_active_ticket" not in indexes
        downgrade(revision="0001")
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("assignments")}
        assert {"uq_assignments_active_ticket", "uq_assignments_active_unit"} <= indexes
        assert "units_needed" not in {c["name"] for c in inspect(db.engine).get_columns("tickets")}
        upgrade()
        downgrade(revision="base")
    assert _tables(app) == set()
    with app.app_context():
        upgrade()
    assert _tables(app) == EXPECTED
    with app.app_context():
        db.engine.dispose()


def test_models_and_migrations_agree(app):
    """Autogenerate finds nothing to add: the migrations are the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        db.session.remove()
    assert diff == []
