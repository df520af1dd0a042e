"""The console page as the server renders it, and the API parts it relies on."""

import json
import re

from callcenter.services import catalog
from tests.helpers import PASSWORD, ticket_payload


def signed_in(client, factory, role, username=None):
    username = username or f"{role}-page"
    factory.user(role, username=username)
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def page_data(html: str, element_id: str) -> dict:
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html)
    return json.loads(found.group(1))


def test_the_console_carries_what_its_script_needs(client, factory):
    headers = factory.headers("dispatcher")
    client.post("/api/v1/tickets", json=ticket_payload(), headers=headers)
    signed_in(client, factory, "dispatcher", "operator")
    html = client.get("/").get_data(as_text=True)
    page = page_data(html, "console-page")
    assert page["user"]["username"] == "operator" and page["canAct"] is True
    assert page["supervisor"] is False
    assert page["lastEventId"] == max(e.id for e in factory.events())
    codes = [c["code"] for c in page["categories"]]
    # The officer-in-danger category is raised by a unit's button only.
    assert codes == [c.code for c in catalog.CATEGORIES if c.intake]
    assert catalog.EMERGENCY not in codes
    theft = next(c for c in page["categories"] if c["code"] == "theft")
    assert "copet" in theft["keywords"] and theft["label_local"] == "Pencurian"
    brawl = next(c for c in page["categories"] if c["code"] == "brawl")
    assert brawl["default_units"] == 2  # intake's units needed start from it
    # The officer in danger is never chosen at intake, but its tickets are named on the board.
    assert page["categoryLabels"][catalog.EMERGENCY] == "Petugas butuh bantuan"
    assert "on_view" not in page["channels"] and "phone" in page["channels"]
    assert page["settings"]["maxUnits"] == 10
    assert page["settings"]["onSceneTargetS"] == 600
    strings = page_data(html, "console-strings")
    assert strings["stream.live"] == "Langsung"
    assert strings["status.on_scene"] == "Tiba di TKP"
    assert all(value for value in strings.values())
    # Our own copy of Leaflet, never a CDN.
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert not re.search(r'src="(https?:)?//', html)


def test_the_console_in_english_and_for_those_who_only_view(client, factory):
    signed_in(client, factory, "admin")
    html = client.get("/?lang=en").get_data(as_text=True)
    page = page_data(html, "console-page")
    assert page["locale"] == "en" and page["canAct"] is False and page["supervisor"] is True
    assert page_data(html, "console-strings")["stream.live"] == "Live"
    assert "Your role views the console; it does not log calls." in html
    theft = next(c for c in page["categories"] if c["code"] == "theft")
    assert theft["label_local"] == "Theft"


def test_every_string_of_the_console_is_translated(client, factory):
    signed_in(client, factory, "supervisor")
    indonesian = page_data(client.get("/").get_data(as_text=True), "console-strings")
    english = page_data(client.get("/?lang=en").get_data(as_text=True), "console-strings")
    assert indonesian.keys() == english.keys()
    same = {k for k in english if english[k] == indonesian[k]}
    # Words that read the same in both languages.
    assert same <= {
        "channel.whatsapp",
        "channel.radio",
        "detail.assignment",
        "sug.unit",
        "sug.status",
        "role.supervisor",
        "role.unit",
        "role.admin",
        "crew.plus_one",
        "crew.slot",
        "wa.kind_video",
    }, same


def test_a_ticket_timeline_names_who_did_what(client, factory):
    dispatcher = factory.user("dispatcher", username="sari")
    headers = {"Authorization": f"Bearer {factory.token(dispatcher)}"}
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=headers).get_json()
    client.patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": 1}, headers=headers)
    body = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()
    assert [e["type"] for e in body["timeline"]] == ["ticket.created", "ticket.updated"]
    for event in body["timeline"]:
        assert event["actor"] == {
            "id": dispatcher["id"],
            "username": "sari",
            "name": "sari",
            "role": "dispatcher",
        }
        assert event["actor_id"] == dispatcher["id"]


def test_a_system_event_has_no_actor(client, factory, app):
    from callcenter.extensions import db
    from callcenter.services import routing, state

    headers = factory.headers("dispatcher")
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=headers).get_json()

    def escalate():
        routing.escalate(state.lock_ticket(ticket["id"]), "queued_too_long")
        db.session.commit()

    factory.run(escalate)
    body = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()
    escalated = [e for e in body["timeline"] if e["type"] == "ticket.escalated"]
    assert escalated and escalated[0]["actor"] is None
