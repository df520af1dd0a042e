"""Administration through the API: users, units, crews, sectors and the catalog's local
defaults. Every operation, every refusal, and an audit event for every change."""

from __future__ import annotations

import urllib.error

import pytest

from callcenter.extensions import db
from tests.api.test_stream_fanout import ends, streams  # noqa: F401  (fixture)
from tests.helpers import KEPANJEN, PASSWORD, assert_odd_values_answered, ticket_payload


def sign_in(client, username, password=PASSWORD, addr="127.0.0.1"):
    return client.post(
        "/api/v1/auth/tokens",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": addr},
    )


@pytest.fixture
def admin(factory):
    return factory.headers("admin", username="kasium")


def test_create_list_and_show_users_with_last_sign_in(client, factory, admin):
    created = client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "Dewi", "password": "operator-dewi-110", "role": "dispatcher"},
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["username"] == "dewi" and body["last_sign_in_at"] is None
    assert sign_in(client, "dewi", "operator-dewi-110").status_code == 201
    listed = {u["username"]: u for u in client.get("/api/v1/users", headers=admin).get_json()}
    assert listed["dewi"]["last_sign_in_at"] is not None
    assert listed["dewi"]["locked_out"] is False
    shown = client.get(f"/api/v1/users/{body['id']}", headers=admin).get_json()
    assert shown["role"] == "dispatcher"
    assert client.get("/api/v1/users/999", headers=admin).status_code == 404
    assert [e.data["username"] for e in factory.events("user.created")][-1] == "dewi"


def test_change_role_and_unit(client, factory, admin):
    unit_a = factory.unit(callsign="KPJ-1")
    unit_b = factory.unit(callsign="KPJ-2")
    user = factory.user("unit", unit_id=unit_a)
    token = factory.token(user)
    response = client.patch(
        f"/api/v1/users/{user['id']}", headers=admin, json={"unit": "kpj-2", "full_name": "Budi"}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["unit_id"] == unit_b
    assert response.get_json()["unit_callsign"] == "KPJ-2"
    # Moving to another unit ends the device's old sign-in.
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    response = client.patch(
        f"/api/v1/users/{user['id']}", headers=admin, json={"role": "dispatcher"}
    )
    assert response.status_code == 200
    assert response.get_json()["role"] == "dispatcher" and response.get_json()["unit_id"] is None
    [first, second] = factory.events("user.updated")
    assert first.data["changes"]["unit_id"] == {"from": unit_a, "to": unit_b}
    assert first.data["changes"]["full_name"] == {"from": None, "to": "Budi"}
    assert second.data["changes"]["role"] == {"from": "unit", "to": "dispatcher"}


@pytest.mark.parametrize(
    "body,field",
    [
        ({"role": "king"}, "role"),
        ({"role": "unit"}, "unit_id"),  # a unit user needs a unit
        ({"unit_id": 999}, "unit_id"),
        ({"password": "x"}, "password"),  # not changed here: reset-password
        ({"active": "no"}, "active"),
        ({"full_name": "x" * 121}, "full_name"),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(client, factory, admin, body, field):
    user = factory.user("dispatcher")
    response = client.patch(f"/api/v1/users/{user['id']}", headers=admin, json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert factory.events("user.updated") == []


def test_an_admin_cannot_demote_or_deactivate_themselves(client, factory):
    me = factory.user("admin")
    headers = {"Authorization": f"Bearer {factory.token(me)}"}
    assert (
        client.patch(
            f"/api/v1/users/{me['id']}", headers=headers, json={"role": "dispatcher"}
        ).status_code
        == 422
    )
    assert client.delete(f"/api/v1/users/{me['id']}", headers=headers).status_code == 422
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200


def test_deactivation_kills_the_open_stream_and_the_next_request(client, factory, admin, streams):  # noqa: F811
    user = factory.user("dispatcher")
    headers = {"Authorization": f"Bearer {factory.token(user)}"}
    stream = streams(headers, timeout=15)
    response = client.delete(f"/api/v1/users/{user['id']}", headers=admin)
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert ends(stream)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    with pytest.raises(urllib.error.HTTPError) as refused:
        streams(headers)
    assert refused.value.code == 401
    assert sign_in(client, user["username"]).status_code == 401
    [event] = factory.events("user.deactivated")
    assert event.data["tokens_revoked"] == 1
    # Reactivating does not bring the old token back.
    response = client.patch(f"/api/v1/users/{user['id']}", headers=admin, json={"active": True})
    assert response.get_json()["active"] is True
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert sign_in(client, user["username"]).status_code == 201
    assert len(factory.events("user.activated")) == 1


def test_reset_password_generated_and_set(client, factory, admin, app, streams):  # noqa: F811
    user = factory.user("dispatcher")
    headers = {"Authorization": f"Bearer {factory.token(user)}"}
    stream = streams(headers, timeout=15)
    response = client.post(f"/api/v1/users/{user['id']}/reset-password", headers=admin, json={})
    assert response.status_code == 200
    generated = response.get_json()["password"]
    assert len(generated) >= 10
    assert ends(stream)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert sign_in(client, user["username"]).status_code == 401
    assert sign_in(client, user["username"], generated).status_code == 201
    # Set by the admin: nothing is shown back, and the rules apply.
    weak = client.post(
        f"/api/v1/users/{user['id']}/reset-password",
        headers=admin,
        json={"password": "password123"},
    )
    assert weak.status_code == 422 and "password" in weak.get_json()["error"]["fields"]
    extra = client.post(
        f"/api/v1/users/{user['id']}/reset-password", headers=admin, json={"pw": "x"}
    )
    assert extra.status_code == 422
    chosen = client.post(
        f"/api/v1/users/{user['id']}/reset-password",
        headers=admin,
        json={"password": "a-long-new-secret"},
    )
    assert chosen.status_code == 200 and chosen.get_json() == {}
    assert sign_in(client, user["username"], "a-long-new-secret").status_code == 201
    events = factory.events("user.password_reset")
    assert [e.data["generated"] for e in events] == [True, False]
    assert all(generated not in str(e.data) for e in factory.events())


def test_revoke_sessions_of_a_lost_phone(client, factory, admin):
    unit_id = factory.unit(callsign="KPJ-9")
    user = factory.user("unit", unit_id=unit_id)
    phone = {"Authorization": f"Bearer {factory.token(user)}"}
    response = client.post(f"/api/v1/users/{user['id']}/revoke-sessions", headers=admin, json={})
    assert response.get_json() == {"tokens_revoked": 1}
    assert client.get("/api/v1/units/me", headers=phone).status_code == 401
    assert sign_in(client, user["username"]).status_code == 201  # the account still works


def test_unlock(client, factory, admin):
    user = factory.user("dispatcher", username="sari")
    for _ in range(5):
        sign_in(client, "sari", "wrong-password", addr="10.0.0.7")
    assert sign_in(client, "sari", addr="10.0.0.7").status_code == 429
    listed = {u["username"]: u for u in client.get("/api/v1/users", headers=admin).get_json()}
    assert listed["sari"]["locked_out"] is True
    supervisor = factory.headers("supervisor")
    response = client.post(f"/api/v1/users/{user['id']}/unlock", headers=supervisor, json={})
    assert response.get_json() == {"unlocked": 1}
    assert sign_in(client, "sari", addr="10.0.0.7").status_code == 201
    assert factory.events("user.unlocked")[0].data["addresses"] == 1


def test_supervisors_may_not_change_accounts(client, factory):
    supervisor = factory.headers("supervisor")
    user = factory.user("dispatcher")
    assert (
        client.patch(f"/api/v1/users/{user['id']}", headers=supervisor, json={}).status_code == 403
    )
    # They still create dispatcher and unit accounts, never admin or supervisor ones.
    assert (
        client.post(
            "/api/v1/users",
            headers=supervisor,
            json={"username": "baru", "password": "operator-baru-1", "role": "dispatcher"},
        ).status_code
        == 201
    )


def test_register_a_unit(client, factory, admin):
    sector = client.post(
        "/api/v1/sectors",
        headers=admin,
        json={"code": "KPJ", "name": "Polsek Kepanjen", "lat": KEPANJEN[0], "lon": KEPANJEN[1]},
    ).get_json()
    created = client.post(
        "/api/v1/units", headers=admin, json={"callsign": " kpj-7 ", "name": "R2", "sector": "kpj"}
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["callsign"], body["kind"], body["status"]) == ("KPJ-7", "car", "off_duty")
    assert body["sector"]["id"] == sector["id"]
    [event] = factory.events("unit.created")
    assert event.unit_id == body["id"]
    assert event.data == {"callsign": "KPJ-7", "name": "R2", "kind": "car", "sector": "KPJ"}
    before = len(factory.events())
    taken = client.post("/api/v1/units", headers=admin, json={"callsign": "KPJ-7", "name": "R3"})
    assert taken.status_code == 422 and list(taken.get_json()["error"]["fields"]) == ["callsign"]
    nowhere = client.post(
        "/api/v1/units", headers=admin, json={"callsign": "KPJ-8", "name": "R3", "sector": "XX"}
    )
    assert nowhere.status_code == 422 and "sector" in nowhere.get_json()["error"]["fields"]
    assert len(factory.events()) == before
    assert [u["callsign"] for u in client.get("/api/v1/units", headers=admin).get_json()] == [
        "KPJ-7"
    ]


def test_edit_a_unit(client, factory, admin, app):
    unit_id = factory.unit(callsign="KPJ-1")
    factory.unit(callsign="KPJ-2")
    with app.app_context():
        from callcenter.models import Sector
        from callcenter.services import demo  # noqa: F401

        db.session.add(Sector(code="KPJ", name="Polsek Kepanjen", lat=KEPANJEN[0], lon=KEPANJEN[1]))
        db.session.commit()
        db.session.remove()
    response = client.patch(
        f"/api/v1/units/{unit_id}",
        headers=admin,
        json={"callsign": "kpj-10", "kind": "motorcycle", "sector": "KPJ", "name": "R2 Kepanjen"},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["callsign"], body["kind"], body["sector"]["code"]) == (
        "KPJ-10",
        "motorcycle",
        "KPJ",
    )
    taken = client.patch(f"/api/v1/units/{unit_id}", headers=admin, json={"callsign": "KPJ-2"})
    assert taken.status_code == 422 and "callsign" in taken.get_json()["error"]["fields"]
    bad = client.patch(f"/api/v1/units/{unit_id}", headers=admin, json={"kind": "tank", "x": 1})
    assert set(bad.get_json()["error"]["fields"]) == {"kind", "x"}
    assert client.patch("/api/v1/units/999", headers=admin, json={}).status_code == 404
    [event] = factory.events("unit.updated")
    assert event.data["changes"]["callsign"] == {"from": "KPJ-1", "to": "KPJ-10"}
    assert factory.unit_row(unit_id).callsign == "KPJ-10"


def test_retire_a_unit(client, factory, admin):
    unit_id = factory.unit(callsign="KPJ-3")
    user = factory.user("unit", unit_id=unit_id)
    device = {"Authorization": f"Bearer {factory.token(user)}"}
    response = client.delete(f"/api/v1/units/{unit_id}", headers=admin)
    assert response.status_code == 200
    assert response.get_json()["retired"] is True and response.get_json()["status"] == "off_duty"
    assert client.get("/api/v1/units/me", headers=device).status_code == 401
    dispatcher = factory.headers("dispatcher")
    listed = client.get("/api/v1/units", headers=dispatcher).get_json()
    assert unit_id not in [
        u["id"] for u in (listed if isinstance(listed, list) else listed["units"])
    ]
    # A call near it is not offered to it.
    created = client.post("/api/v1/tickets", json=ticket_payload(), headers=dispatcher).get_json()
    assert factory.assignments(created["id"]) == []
    assert [e.type for e in factory.events() if e.type in ("unit.retired", "user.deactivated")] == [
        "unit.retired",
        "user.deactivated",
    ]
    assert (
        client.patch(f"/api/v1/units/{unit_id}", headers=admin, json={"name": "x"}).status_code
        == 409
    )


def test_a_unit_on_a_job_is_not_retired(client, factory, admin):
    unit_id = factory.unit(callsign="KPJ-4", status="dispatched")
    response = client.delete(f"/api/v1/units/{unit_id}", headers=admin)
    assert response.status_code == 409
    assert factory.unit_row(unit_id).retired_at is None


def test_set_the_crew_on_duty(client, factory, app):
    unit_id = factory.unit(callsign="KPJ-5")
    supervisor = factory.headers("supervisor")
    crew = [
        {"name": "Bripka Agus Salim", "nrp": "85010123"},
        {"name": "Brigpol Rina", "nrp": "9203 0456"},
    ]
    response = client.post(
        f"/api/v1/units/{unit_id}/shifts", headers=supervisor, json={"officers": crew, "hours": 8}
    )
    assert response.status_code == 201, response.get_json()
    shift = response.get_json()
    assert shift["officers"][1]["nrp"] == "92030456"
    listed = client.get(f"/api/v1/units/{unit_id}/shifts", headers=supervisor).get_json()
    assert [s["id"] for s in listed] == [shift["id"]]
    for body, field in (
        ({"officers": []}, "officers"),
        ({"officers": [{"name": "Agus", "nrp": "123"}]}, "officers.0.nrp"),
        ({"officers": [{"nrp": "85010123"}]}, "officers.0.name"),
        ({"officers": crew[:1] * 2}, "officers.1.nrp"),
        ({"officers": crew, "hours": 30}, "hours"),
        ({"officers": crew, "starts_at": "yesterday"}, "starts_at"),
    ):
        bad = client.post(f"/api/v1/units/{unit_id}/shifts", headers=supervisor, json=body)
        assert bad.status_code == 422 and field in bad.get_json()["error"]["fields"], body
    [event] = factory.events("unit.crew_set")
    assert event.unit_id == unit_id and len(event.data["officers"]) == 2
    with app.app_context():
        from callcenter.services import fleet

        assert fleet.current_crews()[unit_id].id == shift["id"]
        db.session.remove()


def test_sectors(client, factory, admin):
    created = client.post(
        "/api/v1/sectors",
        headers=admin,
        json={
            "code": "pkj",
            "name": "Polsek Pakisaji",
            "lat": -8.06,
            "lon": 112.6,
            "phone": "(0341) 395110",
        },
    )
    assert created.status_code == 201, created.get_json()
    sector = created.get_json()
    assert sector["code"] == "PKJ" and sector["phone"] == "+62341395110"
    changed = client.patch(
        f"/api/v1/sectors/{sector['id']}",
        headers=admin,
        json={"phone": "0341-395111", "lat": -8.07, "lon": 112.61},
    )
    assert changed.get_json()["lat"] == -8.07
    bad = client.patch(
        f"/api/v1/sectors/{sector['id']}", headers=admin, json={"phone": "12", "lat": 50, "lon": 0}
    )
    assert bad.status_code == 422 and {"phone", "lat"} <= set(bad.get_json()["error"]["fields"])
    dup = client.post("/api/v1/sectors", headers=admin, json={"code": "PKJ", "name": "Other"})
    assert dup.status_code == 422 and list(dup.get_json()["error"]["fields"]) == ["code"]
    other = client.post("/api/v1/sectors", headers=admin, json={"code": "KPJ", "name": "Kepanjen"})
    taken = client.patch(
        f"/api/v1/sectors/{other.get_json()['id']}", headers=admin, json={"code": "pkj"}
    )
    assert taken.status_code == 422 and list(taken.get_json()["error"]["fields"]) == ["code"]
    codes = sorted(s["code"] for s in client.get("/api/v1/sectors", headers=admin).get_json())
    assert codes == ["KPJ", "PKJ"]
    assert [e.type for e in factory.events() if e.type.startswith("sector.")] == [
        "sector.created",
        "sector.updated",
        "sector.created",
    ]


def test_a_username_is_taken_once_whatever_its_case(client, factory, admin):
    body = {"username": "dewi", "password": "operator-dewi-110", "role": "dispatcher"}
    assert client.post("/api/v1/users", headers=admin, json=body).status_code == 201
    again = client.post("/api/v1/users", headers=admin, json={**body, "username": " Dewi "})
    assert again.status_code == 422
    assert again.get_json()["error"]["fields"] == {"username": "Nama pengguna ini sudah dipakai."}
    assert [u["username"] for u in client.get("/api/v1/users", headers=admin).get_json()] == [
        "dewi",
        "kasium",
    ]
    assert len(factory.events("user.created")) == 2


def test_category_local_defaults_apply_to_new_tickets(client, factory, admin):
    dispatcher = factory.headers("dispatcher")
    response = client.patch(
        "/api/v1/categories/theft", headers=admin, json={"default_priority": 2, "default_units": 3}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["default_priority"], body["default_units"], body["catalog_priority"]) == (2, 3, 3)
    listed = {c["code"]: c for c in client.get("/api/v1/categories", headers=dispatcher).get_json()}
    assert listed["theft"]["default_units"] == 3
    payload = ticket_payload()
    payload.pop("priority")
    ticket = client.post("/api/v1/tickets", json=payload, headers=dispatcher).get_json()
    assert (ticket["priority"], ticket["units_needed"]) == (2, 3)
    # null restores the catalog's value.
    client.patch("/api/v1/categories/theft", headers=admin, json={"default_units": None})
    listed = {c["code"]: c for c in client.get("/api/v1/categories", headers=dispatcher).get_json()}
    assert listed["theft"]["default_units"] == 1 and listed["theft"]["default_priority"] == 2
    for path, body, status in (
        ("/api/v1/categories/prank", {"default_units": 2}, 422),  # never sends a unit
        ("/api/v1/categories/theft", {"default_units": 11}, 422),
        ("/api/v1/categories/theft", {"default_priority": 0}, 422),
        ("/api/v1/categories/nothing", {"default_priority": 2}, 404),
    ):
        assert client.patch(path, headers=admin, json=body).status_code == status, path
    events = factory.events("category.updated")
    assert len(events) == 2
    assert events[0].data["from"] == {"default_priority": 3, "default_units": 1}


def test_odd_values_in_every_field_are_answered_with_the_error_shape(client, factory, admin):
    """Each field of each administration body, given a value of the wrong kind or out of
    range: taken, or a 4xx in the API's error shape (a 422 names its fields), never a 500."""
    unit_id = factory.unit(callsign="KPJ-1")
    user = factory.user("dispatcher")
    sector = client.post(
        "/api/v1/sectors", headers=admin, json={"code": "PKJ", "name": "Polsek Pakisaji"}
    ).get_json()
    bodies = [
        (
            "POST",
            "/api/v1/users",
            {"username": "odd", "password": "a-long-secret-1", "role": "admin"},
        ),
        ("PATCH", f"/api/v1/users/{user['id']}", {"full_name": "Dewi", "active": True}),
        ("POST", f"/api/v1/users/{user['id']}/reset-password", {"password": "a-long-secret-2"}),
        ("POST", "/api/v1/units", {"callsign": "KPJ-9", "name": "R4", "kind": "car"}),
        ("PATCH", f"/api/v1/units/{unit_id}", {"name": "R4 Kepanjen", "sector": "PKJ"}),
        ("POST", f"/api/v1/units/{unit_id}/shifts", {"officers": [], "hours": 8}),
        ("POST", "/api/v1/sectors", {"code": "XYZ", "name": "Polsek", "lat": -8.0, "lon": 112.6}),
        ("PATCH", f"/api/v1/sectors/{sector['id']}", {"phone": "0341-395111"}),
        ("PATCH", "/api/v1/categories/theft", {"default_priority": 2, "default_units": 1}),
    ]
    assert_odd_values_answered(client, admin, bodies)
