"""The audit view in the API: a ticket's, a unit's and a user's history, filters, keyset
pages and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from callcenter.extensions import db
from callcenter.models import Event
from callcenter.services import clock
from tests.helpers import ticket_payload


def test_a_tickets_full_history_paged_newest_first(client, factory):
    dispatcher = factory.headers("dispatcher")
    supervisor = factory.headers("supervisor")
    factory.unit(callsign="KPJ-1")
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=dispatcher).get_json()
    client.post(
        f"/api/v1/tickets/{ticket['id']}/cancel", json={"reason": "test"}, headers=dispatcher
    )
    everything = factory.events()
    mine = sorted((e.id for e in everything if e.ticket_id == ticket["id"]), reverse=True)
    assert len(mine) >= 2
    seen, before = [], None
    while True:
        query = f"/api/v1/audit?ticket={ticket['number']}&limit=1" + (
            f"&before={before}" if before else ""
        )
        body = client.get(query, headers=supervisor).get_json()
        seen += [e["id"] for e in body["events"]]
        assert all(e["ticket_number"] == ticket["number"] for e in body["events"])
        before = body["next"]
        if before is None:
            break
    assert seen == mine


def test_filters_by_type_actor_user_and_time(client, factory, app):
    admin_user = factory.user("admin", username="kasium")
    admin = {"Authorization": f"Bearer {factory.token(admin_user)}"}
    target = factory.user("dispatcher", username="dewi")
    client.post(f"/api/v1/users/{target['id']}/unlock", headers=admin, json={})
    client.delete(f"/api/v1/users/{target['id']}", headers=admin)
    by_user = client.get("/api/v1/audit?user=dewi", headers=admin).get_json()["events"]
    assert [e["type"] for e in by_user] == ["user.deactivated", "user.unlocked", "user.created"]
    by_actor = client.get("/api/v1/audit?actor=kasium&type=user.", headers=admin).get_json()
    assert [e["type"] for e in by_actor["events"]] == ["user.deactivated", "user.unlocked"]
    assert all(e["actor"] == "kasium" for e in by_actor["events"])
    exact = client.get("/api/v1/audit?type=user.unlocked,user.created", headers=admin).get_json()
    assert {e["type"] for e in exact["events"]} == {"user.unlocked", "user.created"}
    # A time range: move one event a day back.
    with app.app_context():
        old = db.session.scalars(db.select(Event).where(Event.type == "user.unlocked")).one()
        old.at = clock.now() - timedelta(days=1)
        db.session.commit()
        db.session.remove()
    today = clock.to_wib(clock.now()).date().isoformat()
    recent = client.get(f"/api/v1/audit?user=dewi&from={today}", headers=admin).get_json()
    assert "user.unlocked" not in [e["type"] for e in recent["events"]]
    yesterday = (clock.to_wib(clock.now()) - timedelta(days=1)).date().isoformat()
    only = client.get(f"/api/v1/audit?user=dewi&from={yesterday}&to={yesterday}", headers=admin)
    assert [e["type"] for e in only.get_json()["events"]] == ["user.unlocked"]


def test_bad_filters_are_refused(client, factory):
    supervisor = factory.headers("supervisor")
    response = client.get(
        "/api/v1/audit?ticket=nope&type=DROP TABLE&from=yesterday&limit=9999&before=x",
        headers=supervisor,
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {
        "ticket",
        "type",
        "from",
        "limit",
        "before",
    }


def test_csv_export(client, factory):
    supervisor = factory.headers("supervisor")
    factory.unit(callsign="KPJ-7")
    dispatcher = factory.headers("dispatcher")
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=dispatcher).get_json()
    response = client.get(f"/api/v1/audit.csv?ticket={ticket['id']}", headers=supervisor)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = [e for e in factory.events() if e.ticket_id == ticket["id"]]
    assert [int(r["id"]) for r in rows] == sorted((e.id for e in expected), reverse=True)
    assert rows[-1]["type"] == "ticket.created"
    assert rows[-1]["ticket_number"] == ticket["number"]
    assert rows[-1]["at_wib"].endswith("+07:00")
