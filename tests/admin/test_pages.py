"""The administration pages: forms with CSRF, messages in both languages, role limits."""

from __future__ import annotations

import re

import pytest

from tests.auth.test_pages import csrf_from, page_sign_in
from tests.helpers import PASSWORD, ticket_payload


@pytest.fixture
def admin_client(app, factory):
    factory.user("admin", username="kasium")
    client = app.test_client()
    assert page_sign_in(client, "kasium").status_code == 302
    return client


def post(client, path, data, page="/admin/users"):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def test_pages_render_for_admins_and_supervisors_only(app, factory, admin_client):
    unit_id = factory.unit(callsign="KPJ-1")
    user = factory.user("unit", unit_id=unit_id)
    pages = [
        "/admin/",
        "/admin/users",
        f"/admin/users/{user['id']}",
        "/admin/units",
        f"/admin/units/{unit_id}",
        "/admin/sectors",
        "/admin/categories",
        "/admin/agencies",
        "/admin/audit",
    ]
    for path in pages:
        assert admin_client.get(path).status_code in (200, 302), path
    html = admin_client.get(f"/admin/users/{user['id']}").get_data(as_text=True)
    assert 'data-testid="deactivate"' in html and 'data-testid="reset-password"' in html
    assert 'data-testid="edit-unit"' in admin_client.get(f"/admin/units/{unit_id}").get_data(
        as_text=True
    )
    factory.user("supervisor", username="spv")
    supervisor = app.test_client()
    page_sign_in(supervisor, "spv")
    html = supervisor.get(f"/admin/users/{user['id']}").get_data(as_text=True)
    assert 'data-testid="unlock"' in html and 'data-testid="deactivate"' not in html
    factory.user("dispatcher", username="ops")
    dispatcher = app.test_client()
    page_sign_in(dispatcher, "ops")
    for path in pages:
        assert dispatcher.get(path).status_code == 403, path
    anonymous = app.test_client()
    assert anonymous.get("/admin/users").status_code == 302


def test_create_a_user_and_see_the_errors(admin_client, factory):
    bad = post(
        admin_client,
        "/admin/users",
        {"username": "dewi", "password": "password123", "role": "dispatcher"},
    )
    assert bad.status_code == 302
    html = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Kata sandi ini terlalu umum" in html
    ok = post(
        admin_client,
        "/admin/users",
        {"username": "dewi", "password": "operator-dewi-110", "role": "dispatcher"},
    )
    assert ok.status_code == 302 and "/admin/users/" in ok.headers["Location"]
    assert [e.data["username"] for e in factory.events("user.created")][-1] == "dewi"


def test_form_without_csrf_is_refused(admin_client, factory):
    response = admin_client.post(
        "/admin/users", data={"username": "x1", "password": "long-pass-xyz", "role": "dispatcher"}
    )
    assert response.status_code == 400
    assert factory.events("user.created")[-1].data["username"] == "kasium"


def test_indonesian_messages(admin_client):
    admin_client.post(
        "/lang/id",
        data={"csrf_token": csrf_from(admin_client.get("/admin/users").get_data(as_text=True))},
    )
    post(admin_client, "/admin/users", {"username": "d", "password": "x", "role": "dispatcher"})
    html = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Pengguna" in html and "Minimal 10 karakter" in html


def test_reset_password_is_shown_once(admin_client, factory, client):
    user = factory.user("dispatcher", username="sari")
    page = f"/admin/users/{user['id']}"
    response = post(admin_client, f"{page}/reset-password", {"password": ""}, page=page)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    shown = re.search(r'data-testid="new-password".*?<code>([^<]+)</code>', html, re.S).group(1)
    assert "Set-Cookie" not in response.headers or shown not in response.headers["Set-Cookie"]
    assert shown not in admin_client.get(page).get_data(as_text=True)  # once
    signed = client.post("/api/v1/auth/tokens", json={"username": "sari", "password": shown})
    assert signed.status_code == 201
    assert (
        client.post(
            "/api/v1/auth/tokens", json={"username": "sari", "password": PASSWORD}
        ).status_code
        == 401
    )


def test_supervisor_limits_on_pages(app, factory):
    factory.user("supervisor", username="spv")
    target = factory.user("dispatcher")
    supervisor = app.test_client()
    page_sign_in(supervisor, "spv")
    page = f"/admin/users/{target['id']}"
    assert post(supervisor, f"{page}/active", {"active": "0"}, page=page).status_code == 403
    assert post(supervisor, f"{page}/unlock", {}, page=page).status_code == 302
    assert post(supervisor, "/admin/units", {"callsign": "KPJ-8", "name": "R4"}).status_code == 302
    assert factory.events("unit.created")


def test_unit_pages_crew_and_retire(admin_client, factory):
    response = post(
        admin_client, "/admin/units", {"callsign": "kpj-9", "name": "R4 Kepanjen", "kind": "car"}
    )
    unit_page = response.headers["Location"]
    unit_id = int(unit_page.rsplit("/", 1)[1])
    crew = {
        "name0": "Bripka Agus",
        "nrp0": "85010123",
        "name1": "Brigpol Rina",
        "nrp1": "92030456",
        "hours": "8",
    }
    post(admin_client, f"{unit_page}/crew", crew, page=unit_page)
    html = admin_client.get(unit_page).get_data(as_text=True)
    assert "Bripka Agus (NRP 85010123)" in html
    post(admin_client, f"{unit_page}/crew", {"name0": "X", "nrp0": "12"}, page=unit_page)
    assert "NRP" in admin_client.get(unit_page + "?lang=en").get_data(as_text=True)
    post(admin_client, f"{unit_page}/retire", {}, page=unit_page)
    assert factory.unit_row(unit_id).retired_at is not None
    listing = admin_client.get("/admin/units").get_data(as_text=True)
    assert 'class="retired"' in listing


def test_sector_and_category_forms(admin_client, factory):
    post(
        admin_client,
        "/admin/sectors",
        {
            "code": "PKJ",
            "name": "Polsek Pakisaji",
            "lat": "-8,06",
            "lon": "112.6",
            "phone": "0341 395110",
        },
        page="/admin/sectors",
    )
    html = admin_client.get("/admin/sectors").get_data(as_text=True)
    assert 'data-code="PKJ"' in html and "-8.06" in html
    post(
        admin_client,
        "/admin/categories/theft",
        {"default_priority": "2", "default_units": ""},
        page="/admin/categories",
    )
    [event] = factory.events("category.updated")
    assert event.data["to"] == {"default_priority": 2, "default_units": 1}


def test_agencies_page_sets_a_local_number_and_takes_one_out_of_service(app, admin_client, factory):
    page = "/admin/agencies"
    html = admin_client.get(page).get_data(as_text=True)
    assert 'data-code="bpbd"' in html and 'href="/admin/agencies" aria-current="page"' in html
    done = post(admin_client, "/admin/agencies/bpbd", {"phone": "0341 392525", "active": "1"}, page)
    assert done.status_code == 302
    post(admin_client, "/admin/agencies/dishub", {"phone": ""}, page)  # the box left unticked
    [first, second] = factory.events("agency.updated")
    assert first.data["changes"] == {"phone": {"from": None, "to": "+62341392525"}}
    assert second.data["changes"] == {"active": {"from": True, "to": False}}
    html = admin_client.get(page).get_data(as_text=True)
    assert 'value="(0341) 392525"' in html
    assert re.search(r'<tr data-code="dishub" class="retired">', html)

    bad = post(admin_client, "/admin/agencies/damkar", {"phone": "12", "active": "1"}, page)
    assert bad.status_code == 302
    shown = admin_client.get(page).get_data(as_text=True)
    assert "Instansi tidak diubah." in shown and "Nomor pendek (113)" in shown
    assert len(factory.events("agency.updated")) == 2

    factory.user("supervisor", username="spv-agencies")
    supervisor = app.test_client()
    page_sign_in(supervisor, "spv-agencies")
    html = supervisor.get(page).get_data(as_text=True)
    assert "(0341) 392525" in html and 'action="/admin/agencies/bpbd"' not in html
    token = csrf_from(supervisor.get("/admin/users").get_data(as_text=True))
    refused = supervisor.post("/admin/agencies/bpbd", data={"phone": "", "csrf_token": token})
    assert refused.status_code == 403


def test_audit_page_filters_pages_and_csv(admin_client, factory):
    dispatcher = factory.headers("dispatcher")
    ticket = admin_client.post(
        "/api/v1/tickets", json=ticket_payload(), headers=dispatcher
    ).get_json()
    html = admin_client.get(f"/admin/audit?ticket={ticket['number']}").get_data(as_text=True)
    assert 'data-type="ticket.created"' in html and 'data-type="user.created"' not in html
    first = admin_client.get("/admin/audit?type=user.&limit=1").get_data(as_text=True)
    assert first.count('data-type="user.created"') == 1
    older = re.search(r'href="([^"]+)" data-testid="audit-older"', first).group(1)
    second = admin_client.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('data-type="user.created"') == 1 and second != first
    bad = admin_client.get("/admin/audit?from=not-a-day")
    assert bad.status_code == 422
    csv_text = admin_client.get("/admin/audit.csv?type=auth.").get_data(as_text=True)
    assert csv_text.lstrip("\ufeff").startswith("id,at_wib,type")
    assert "auth.signed_in" in csv_text
