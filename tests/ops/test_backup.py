"""Backup and restore bring back tickets, events and users exactly, on both backends, through
the CLI an operator uses."""

from __future__ import annotations

import os

from sqlalchemy import text

from callcenter.extensions import db
from callcenter.services import routing
from tests.helpers import KEPANJEN, offset, ticket_payload

TABLES = ("users", "tickets", "events", "assignments", "units")


def snapshot(app) -> dict:
    with app.app_context():
        out = {
            table: [
                tuple(row)
                for row in db.session.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()
            ]
            for table in TABLES
        }
        db.session.remove()
    return out


def test_backup_and_restore_bring_everything_back(app, client, factory, tmp_path):
    unit = factory.unit(callsign="BK-1", point=offset(KEPANJEN, 300, 0))
    unit_headers = factory.unit_user(unit)
    headers = factory.headers("dispatcher")
    first = client.post("/api/v1/tickets", json=ticket_payload(), headers=headers).get_json()
    client.post(
        "/api/v1/tickets",
        json={"channel": "phone", "category": "prank", "caller": {"phone": "0811482000"}},
        headers=headers,
    )
    factory.run(routing.route_ticket, first["id"])
    offer = factory.assignments(first["id"])[0]
    assert (
        client.post(f"/api/v1/assignments/{offer.id}/accept", headers=unit_headers).status_code
        == 200
    )
    before = snapshot(app)
    assert all(before[t] for t in TABLES)

    path = str(tmp_path / "nested" / "cc.backup")
    runner = app.test_cli_runner()
    made = runner.invoke(args=["backup", path])
    assert made.exit_code == 0, made.output
    assert os.path.getsize(path) > 0

    # Life goes on after the backup: more tickets, a user, a cleared job.
    client.post("/api/v1/tickets", json=ticket_payload(summary="later"), headers=headers)
    factory.user("supervisor")
    client.post(
        f"/api/v1/assignments/{offer.id}/progress",
        json={"status": "cleared", "resolution": "handled"},
        headers=unit_headers,
    )
    assert snapshot(app) != before

    refused = runner.invoke(args=["restore", path], input="n\n")
    assert refused.exit_code != 0 and snapshot(app) != before  # asked, and nothing changed
    restored = runner.invoke(args=["restore", path, "--yes"])
    assert restored.exit_code == 0, restored.output
    with app.app_context():
        db.engine.dispose()  # connections opened before the restore
    assert snapshot(app) == before

    # The restored database works: the next ticket takes the next number.
    again = client.post("/api/v1/tickets", json=ticket_payload(summary="after"), headers=headers)
    assert again.status_code == 201
    assert again.get_json()["id"] == max(r[0] for r in before["tickets"]) + 1


def test_a_missing_or_broken_backup_changes_nothing(app, client, factory, tmp_path):
    factory.headers("dispatcher")
    before = snapshot(app)
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["restore", str(tmp_path / "nope.backup"), "--yes"])
    assert missing.exit_code != 0 and "no backup" in missing.output
    broken = tmp_path / "broken.backup"
    broken.write_bytes(b"this is not a backup" * 100)
    bad = runner.invoke(args=["restore", str(broken), "--yes"])
    assert bad.exit_code != 0
    with app.app_context():
        db.engine.dispose()
    assert snapshot(app) == before
