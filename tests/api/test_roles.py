"""Every endpoint checks its role on the server."""

import pytest

from callcenter.models.user import ROLES

# (method, path, body, the roles allowed)
ENDPOINTS = [
    ("GET", "/api/v1/categories", None, ROLES),
    ("GET", "/api/v1/resolutions", None, ROLES),
    ("GET", "/api/v1/decline-reasons", None, ROLES),
    ("GET", "/api/v1/sectors", None, ROLES),
    ("GET", "/api/v1/auth/me", None, ROLES),
    ("POST", "/api/v1/tickets", {}, ("dispatcher", "supervisor")),
    ("GET", "/api/v1/tickets", None, ("dispatcher", "supervisor", "admin")),
    ("GET", "/api/v1/dispatch/status", None, ("dispatcher", "supervisor", "admin")),
    ("GET", "/api/v1/tickets/999", None, ("dispatcher", "supervisor", "admin")),
    ("PATCH", "/api/v1/tickets/999", {}, ("dispatcher", "supervisor")),
    ("GET", "/api/v1/tickets/999/suggestions", None, ("dispatcher", "supervisor", "admin")),
    ("POST", "/api/v1/tickets/999/assign", {}, ("dispatcher", "supervisor")),
    ("POST", "/api/v1/tickets/999/cancel", {}, ("dispatcher", "supervisor")),
    ("POST", "/api/v1/tickets/999/close", {}, ("dispatcher", "supervisor")),
    ("POST", "/api/v1/tickets/999/alarm/ack", {}, ("dispatcher", "supervisor")),
    ("POST", "/api/v1/tickets/999/calls", {}, ("dispatcher", "supervisor")),
    ("POST", "/api/v1/calls/999/split", {}, ("dispatcher", "supervisor")),
    ("POST", "/api/v1/tickets/999/notes", {}, ("dispatcher", "supervisor", "unit")),
    (
        "GET",
        "/api/v1/tickets/possible-duplicate?category=theft&lat=-8.13&lon=112.57",
        None,
        ("dispatcher", "supervisor", "admin"),
    ),
    ("GET", "/api/v1/agencies", None, ("dispatcher", "supervisor", "admin")),
    ("GET", "/api/v1/tickets/999/eido", None, ("dispatcher", "supervisor", "admin")),
    ("POST", "/api/v1/eido", {}, ("supervisor", "admin")),
    ("GET", "/api/v1/tickets/999/handoffs", None, ("dispatcher", "supervisor", "admin")),
    ("POST", "/api/v1/tickets/999/handoffs", {}, ("dispatcher", "supervisor")),
    ("POST", "/api/v1/handoffs/999/acknowledge", {}, ("dispatcher", "supervisor")),
    ("GET", "/api/v1/callbacks", None, ("dispatcher", "supervisor", "admin")),
    ("GET", "/api/v1/callbacks/999", None, ("dispatcher", "supervisor", "admin")),
    ("POST", "/api/v1/callbacks/999/attempts", {}, ("dispatcher", "supervisor")),
    (
        "GET",
        "/api/v1/callers/history?phone=0811482000",
        None,
        ("dispatcher", "supervisor", "admin"),
    ),
    (
        "POST",
        "/api/v1/callers/history",
        {"phone": "0811482000"},
        ("dispatcher", "supervisor", "admin"),
    ),
    ("GET", "/api/v1/units", None, ("dispatcher", "supervisor", "admin")),
    ("GET", "/api/v1/units/999", None, ("dispatcher", "supervisor", "admin")),
    ("GET", "/api/v1/units/positions", None, ("dispatcher", "supervisor", "admin")),
    ("POST", "/api/v1/units", {}, ("admin", "supervisor")),
    ("GET", "/api/v1/users", None, ("admin", "supervisor")),
    ("GET", "/api/v1/reports/kpis", None, ("supervisor", "admin")),
    ("POST", "/api/v1/users", {}, ("admin", "supervisor")),
    ("GET", "/api/v1/users/999", None, ("admin", "supervisor")),
    ("PATCH", "/api/v1/users/999", {}, ("admin",)),
    ("DELETE", "/api/v1/users/999", None, ("admin",)),
    ("POST", "/api/v1/users/999/unlock", {}, ("admin", "supervisor")),
    ("POST", "/api/v1/users/999/reset-password", {}, ("admin",)),
    ("POST", "/api/v1/users/999/revoke-sessions", {}, ("admin",)),
    ("PATCH", "/api/v1/units/999", {}, ("admin",)),
    ("DELETE", "/api/v1/units/999", None, ("admin",)),
    ("GET", "/api/v1/units/999/shifts", None, ("admin", "supervisor")),
    ("POST", "/api/v1/units/999/shifts", {}, ("admin", "supervisor")),
    ("POST", "/api/v1/sectors", {}, ("admin",)),
    ("PATCH", "/api/v1/sectors/999", {}, ("admin",)),
    ("PATCH", "/api/v1/categories/999", {}, ("admin",)),
    ("PATCH", "/api/v1/agencies/999", {}, ("admin",)),
    ("GET", "/api/v1/audit", None, ("admin", "supervisor")),
    ("GET", "/api/v1/audit.csv", None, ("admin", "supervisor")),
    ("GET", "/api/v1/units/me", None, ("unit",)),
    ("POST", "/api/v1/units/me/location", {}, ("unit",)),
    ("PUT", "/api/v1/units/me/status", {}, ("unit",)),
    ("GET", "/api/v1/units/me/assignment", None, ("unit",)),
    ("GET", "/api/v1/units/me/jobs", None, ("unit",)),
    ("GET", "/api/v1/units/me/tickets/999", None, ("unit",)),
    ("POST", "/api/v1/units/me/tickets", {}, ("unit",)),
    ("POST", "/api/v1/units/me/emergency", {"lat": "x"}, ("unit",)),
    ("POST", "/api/v1/units/me/emergency/end", {}, ("unit",)),
    ("POST", "/api/v1/assignments/999/accept", {}, ("unit", "dispatcher", "supervisor")),
    ("POST", "/api/v1/assignments/999/decline", {}, ("unit", "dispatcher", "supervisor")),
    ("POST", "/api/v1/assignments/999/progress", {}, ("unit", "dispatcher", "supervisor")),
    ("POST", "/api/v1/assignments/999/backup", {}, ("unit", "dispatcher", "supervisor")),
    ("POST", "/api/v1/assignments/999/release", {}, ("dispatcher", "supervisor")),
    ("GET", "/api/v1/events", None, ROLES),
    ("GET", "/api/v1/wa/threads", None, ("dispatcher", "supervisor", "admin")),
    ("GET", "/api/v1/wa/threads/999", None, ("dispatcher", "supervisor", "admin")),
    ("POST", "/api/v1/wa/threads/999/claim", {}, ("dispatcher", "supervisor")),
    ("POST", "/api/v1/wa/threads/999/release", {}, ("dispatcher", "supervisor")),
    ("POST", "/api/v1/wa/threads/999/read", {}, ("dispatcher", "supervisor")),
    ("POST", "/api/v1/wa/threads/999/messages", {}, ("dispatcher", "supervisor")),
    ("POST", "/api/v1/wa/threads/999/close", {}, ("dispatcher", "supervisor")),
    ("POST", "/api/v1/wa/threads/999/ticket", {}, ("dispatcher", "supervisor")),
    ("POST", "/api/v1/wa/threads/999/location", {}, ("dispatcher", "supervisor")),
    ("GET", "/api/v1/wa/quick-replies", None, ("dispatcher", "supervisor", "admin")),
    ("GET", "/api/v1/wa/media/999", None, ("dispatcher", "supervisor", "admin")),
    ("GET", "/api/v1/wa/settings", None, ("dispatcher", "supervisor", "admin")),
    ("PATCH", "/api/v1/wa/settings", {"ack": True}, ("supervisor", "admin")),
    ("GET", "/api/v1/events/stream/check", None, ROLES),
    ("POST", "/api/v1/events/stream/release", {}, ROLES),
]


@pytest.fixture
def tokens(factory):
    unit_id = factory.unit(callsign="ROLE-1")
    headers = {}
    for role in ROLES:
        headers[role] = factory.headers(role, unit_id=unit_id if role == "unit" else None)
    return headers


@pytest.mark.parametrize(
    "method,path,body,allowed", ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS]
)
def test_role_matrix(client, tokens, method, path, body, allowed):
    anonymous = client.open(path, method=method, json=body)
    assert anonymous.status_code == 401, "anonymous must be refused"
    assert anonymous.get_json()["error"]["code"] == "unauthorized"
    for role in ROLES:
        response = client.open(path, method=method, json=body, headers=tokens[role])
        if role in allowed:
            assert response.status_code != 403, f"{role} should pass the role check"
            assert response.status_code != 401
        else:
            assert response.status_code == 403, f"{role} must be refused on {method} {path}"
            assert response.get_json()["error"]["code"] == "forbidden"


def test_unit_token_cannot_create_tickets(client, factory):
    from tests.helpers import ticket_payload

    unit_id = factory.unit()
    response = client.post(
        "/api/v1/tickets", json=ticket_payload(), headers=factory.unit_user(unit_id)
    )
    assert response.status_code == 403
    assert factory.count(__import__("callcenter.models", fromlist=["Ticket"]).Ticket) == 0


def test_dispatcher_cannot_create_users(client, factory):
    response = client.post(
        "/api/v1/users",
        headers=factory.headers("dispatcher"),
        json={"username": "intruder", "password": "long-enough-pw", "role": "admin"},
    )
    assert response.status_code == 403


def test_supervisor_cannot_create_an_admin(client, factory):
    response = client.post(
        "/api/v1/users",
        headers=factory.headers("supervisor"),
        json={"username": "newadmin", "password": "long-enough-pw", "role": "admin"},
    )
    assert response.status_code == 403


def test_stream_requires_sign_in(client):
    assert client.get("/api/v1/events/stream").status_code == 401


def test_the_matrix_covers_every_api_endpoint(app):
    """A new endpoint must be added to ENDPOINTS above, with its roles."""
    import re

    covered = {(m, re.sub(r"/\d+", "/<id>", p.split("?")[0])) for m, p, _, _ in ENDPOINTS}
    covered |= {
        ("POST", "/api/v1/auth/tokens"),
        ("DELETE", "/api/v1/auth/tokens/current"),
        ("GET", "/api/v1/events/stream"),
        # Asked by the push engine only, with a signed ticket instead of a sign-in.
        ("GET", "/api/v1/events/stream/next/<id>"),
        ("GET", "/api/v1/events/stream/held/<id>"),
        # The published contract: public.
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/reference"),
    }
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<[^>]+>", "<id>", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, path) not in covered:
                missing.append(f"{method} {path}")
    assert missing == []
