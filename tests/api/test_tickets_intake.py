"""Call intake through the API: validation, idempotency, numbering, flags, dispositions."""

import re
import threading
from datetime import UTC, datetime

import pytest

from callcenter.models import Event, IdempotencyKey, Ticket
from callcenter.services import catalog
from tests.helpers import KEPANJEN, offset, ticket_payload


@pytest.fixture
def headers(factory):
    return factory.headers("dispatcher")


def post(client, headers, body, **extra):
    return client.post("/api/v1/tickets", json=body, headers={**headers, **extra})


def test_create_ticket_contract(client, headers, factory):
    response = post(client, headers, ticket_payload())
    assert response.status_code == 201
    t = response.get_json()
    assert response.headers["Location"] == f"/api/v1/tickets/{t['id']}"
    for key in (
        "id",
        "number",
        "status",
        "priority",
        "category",
        "channel",
        "caller",
        "summary",
        "location",
        "created_at",
        "unit",
        "flags",
    ):
        assert key in t
    assert re.fullmatch(r"110-\d{8}-\d{5}", t["number"])
    assert t["status"] == "new"
    assert t["caller"]["phone"] == "+62811482000"
    assert t["location"] == {"lat": KEPANJEN[0], "lon": KEPANJEN[1], "address": "Pasar Kepanjen"}
    assert t["unit"] is None
    assert t["created_at"].endswith("+00:00")
    created = factory.events("ticket.created")
    assert len(created) == 1 and created[0].ticket_id == t["id"]


def test_priority_defaults_from_the_category(client, headers):
    body = ticket_payload(category="domestic_violence")
    del body["priority"]
    assert post(client, headers, body).get_json()["priority"] == 1


# Each refusal: the field that is named, and nothing stored.
INVALID = [
    ("lat out of range", {"location": {"lat": 91, "lon": 112.5}}, "location.lat"),
    ("lon out of range", {"location": {"lat": -8.1, "lon": 181}}, "location.lon"),
    ("lat not a number", {"location": {"lat": "south", "lon": 112.5}}, "location.lat"),
    ("lat is boolean", {"location": {"lat": True, "lon": 112.5}}, "location.lat"),
    ("lat missing", {"location": {"lon": 112.5}}, "location.lat"),
    ("Singapore", {"location": {"lat": 1.3521, "lon": 103.8198}}, "location.lat"),
    ("Kuala Lumpur", {"location": {"lat": 3.139, "lon": 101.6869}}, "location.lat"),
    ("Dili", {"location": {"lat": -8.5569, "lon": 125.5603}}, "location.lat"),
    ("Port Moresby", {"location": {"lat": -9.4438, "lon": 147.1803}}, "location.lat"),
    ("null island", {"location": {"lat": 0, "lon": 0}}, "location.lat"),
    ("no location for a dispatch call", {"location": None}, "location"),
    ("location not an object", {"location": "Jl. Raya"}, "location"),
    ("unknown location field", {"location": {"lat": -8.13, "lon": 112.57, "x": 1}}, "location.x"),
    (
        "address too long",
        {"location": {"lat": -8.13, "lon": 112.57, "address": "a" * 301}},
        "location.address",
    ),
    ("phone invalid", {"caller": {"phone": "12345"}}, "caller.phone"),
    ("phone letters", {"caller": {"phone": "call me"}}, "caller.phone"),
    ("caller not an object", {"caller": "Budi"}, "caller"),
    ("unknown caller field", {"caller": {"name": "A", "email": "a@b"}}, "caller.email"),
    ("caller name too long", {"caller": {"name": "x" * 121}}, "caller.name"),
    ("category unknown", {"category": "alien_invasion"}, "category"),
    ("category missing", {"category": None}, "category"),
    ("priority 0", {"priority": 0}, "priority"),
    ("priority 5", {"priority": 5}, "priority"),
    ("priority text", {"priority": "1"}, "priority"),
    ("priority fraction", {"priority": 1.5}, "priority"),
    ("channel unknown", {"channel": "fax"}, "channel"),
    ("channel missing", {"channel": None}, "channel"),
    ("summary too long", {"summary": "x" * 2001}, "summary"),
    ("summary not text", {"summary": ["a"]}, "summary"),
    ("unknown field", {"weather": "hujan"}, "weather"),
]


@pytest.mark.parametrize("case,change,field", INVALID, ids=[c[0] for c in INVALID])
def test_each_validation_rule_refuses_and_stores_nothing(
    client, headers, factory, case, change, field
):
    tickets_before = factory.count(Ticket)
    events_before = factory.count(Event)
    response = post(client, headers, ticket_payload(**change))
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"], error
    assert error["message"]
    assert factory.count(Ticket) == tickets_before
    assert factory.count(Event) == events_before


def test_body_must_be_a_json_object(client, headers, factory):
    assert client.post("/api/v1/tickets", data="x", headers=headers).status_code == 400
    response = client.post("/api/v1/tickets", json=[1, 2], headers=headers)
    assert response.status_code == 422
    assert factory.count(Ticket) == 0


def test_oversized_body_is_413(client, headers, factory):
    response = client.post(
        "/api/v1/tickets",
        data="{" + " " * 70_000 + "}",
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert factory.count(Ticket) == 0


def test_errors_speak_the_requested_language(client, headers):
    body = ticket_payload(priority=9)
    en = post(client, headers, body, **{"Accept-Language": "en"}).get_json()["error"]
    id_ = post(client, headers, body, **{"Accept-Language": "id"}).get_json()["error"]
    assert en["fields"]["priority"] == "Must be a whole number from 1 to 4."
    assert id_["fields"]["priority"] == "Harus bilangan bulat dari 1 sampai 4."
    assert en["message"] != id_["message"]


def test_batam_is_in_indonesia(client, headers):
    body = ticket_payload(location={"lat": 1.1301, "lon": 104.0529, "address": "Batam"})
    assert post(client, headers, body).status_code == 201


@pytest.mark.parametrize(
    "raw", ["0811-48-2000", "+62 811 482 000", "0811482000", "62811482000", "(0811) 482-000"]
)
def test_phone_numbers_normalise_to_one_caller(client, headers, raw):
    body = ticket_payload(caller={"phone": raw})
    assert post(client, headers, body).get_json()["caller"]["phone"] == "+62811482000"


def test_caller_history_and_repeat_prank_flag(client, headers):
    for _ in range(2):
        prank = post(
            client,
            headers,
            {"channel": "phone", "category": "prank", "caller": {"phone": "0811-48-2000"}},
        )
        assert prank.status_code == 201
    history = client.get(
        "/api/v1/callers/history?phone=%2B62%20811%20482%20000", headers=headers
    ).get_json()
    assert history["calls"] == 2 and history["pranks"] == 2 and history["prank_caller"]
    assert history["recent"][0]["category"] == "prank"
    t = post(client, headers, ticket_payload()).get_json()
    assert t["flags"]["repeat_caller"] is True
    assert t["flags"]["prank_caller"] is True
    assert t["flags"]["caller_pranks_30d"] == 2
    other = post(client, headers, ticket_payload(caller={"phone": "0812-3456-7890"})).get_json()
    assert other["flags"]["repeat_caller"] is False
    bad = client.get("/api/v1/callers/history?phone=abc", headers=headers)
    assert bad.status_code == 422


@pytest.mark.parametrize("code", catalog.DISPOSITIONS)
def test_dispositions_close_at_intake_and_are_never_routed(client, headers, factory, code):
    response = post(client, headers, {"channel": "phone", "category": code})
    assert response.status_code == 201
    t = response.get_json()
    assert t["status"] == "closed"
    assert t["resolution"] == code
    assert t["dispatch"] is False
    types = [e.type for e in factory.events() if e.type.startswith("ticket.")]
    assert types == ["ticket.created", "ticket.closed"]
    from callcenter.services import routing

    unit = factory.unit()
    assert factory.run(routing.route_ticket, t["id"]) == "skipped"
    assert factory.assignments() == []
    assert factory.unit_row(unit).status == "available"


def test_possible_duplicate_within_300m_and_30min(client, headers):
    first = post(client, headers, ticket_payload()).get_json()
    near = ticket_payload(location=dict(zip(("lat", "lon"), offset(KEPANJEN, 250, 0), strict=True)))
    second = post(client, headers, near).get_json()
    assert second["flags"]["possible_duplicate"] == {"id": first["id"], "number": first["number"]}
    far = ticket_payload(location=dict(zip(("lat", "lon"), offset(KEPANJEN, -400, 0), strict=True)))
    assert post(client, headers, far).get_json()["flags"]["possible_duplicate"] is None
    other_kind = ticket_payload(category="fight")
    assert post(client, headers, other_kind).get_json()["flags"]["possible_duplicate"] is None


def test_duplicate_window_is_30_minutes(client, headers, app, factory):
    from datetime import timedelta

    from callcenter.extensions import db

    first = post(client, headers, ticket_payload()).get_json()
    with app.app_context():
        row = db.session.get(Ticket, first["id"])
        row.created_at = row.created_at - timedelta(minutes=31)
        db.session.commit()
        db.session.remove()
    assert post(client, headers, ticket_payload()).get_json()["flags"]["possible_duplicate"] is None


def test_idempotency_key_returns_the_first_ticket(client, headers, factory):
    first = post(client, headers, ticket_payload(), **{"Idempotency-Key": "call-7"})
    again = post(client, headers, ticket_payload(), **{"Idempotency-Key": "call-7"})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert factory.count(Ticket) == 1
    assert len(factory.events("ticket.created")) == 1
    changed = post(
        client, headers, ticket_payload(summary="other"), **{"Idempotency-Key": "call-7"}
    )
    assert changed.status_code == 422
    assert changed.get_json()["error"]["code"] == "idempotency_key_reused"
    assert factory.count(Ticket) == 1


def _concurrently(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_concurrent_idempotent_retries_make_one_ticket(app, headers, factory):
    def attempt(_):
        with app.test_client() as c:
            r = c.post(
                "/api/v1/tickets",
                json=ticket_payload(),
                headers={**headers, "Idempotency-Key": "same-call"},
            )
            return r.status_code, r.get_json()["id"]

    results = _concurrently(8, attempt)
    assert sorted(code for code, _ in results) == [200] * 7 + [201]
    assert len({ticket_id for _, ticket_id in results}) == 1
    assert factory.count(Ticket) == 1
    assert factory.count(IdempotencyKey) == 1
    assert len(factory.events("ticket.created")) == 1


def test_concurrent_intake_numbers_are_unique_and_gap_free(app, headers, factory):
    def attempt(i):
        with app.test_client() as c:
            r = c.post(
                "/api/v1/tickets",
                json=ticket_payload(summary=f"call {i}", category="noise"),
                headers=headers,
            )
            assert r.status_code == 201, r.get_json()
            return r.get_json()["number"]

    numbers = _concurrently(16, attempt)
    assert len(set(numbers)) == 16
    sequence = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert sequence == list(range(1, 17))


def test_numbers_restart_each_wib_day(app):
    from callcenter.extensions import db
    from callcenter.services import intake

    with app.app_context():
        # 16:59 UTC is 23:59 WIB on the 14th; 17:00 UTC is already the 15th in WIB.
        late = intake.next_number(datetime(2024, 11, 14, 16, 59, tzinfo=UTC))
        early = intake.next_number(datetime(2024, 11, 14, 17, 0, tzinfo=UTC))
        again = intake.next_number(datetime(2024, 11, 15, 3, 0, tzinfo=UTC))
        db.session.rollback()
        db.session.remove()
    assert late == "110-20241114-00001"
    assert early == "110-20241115-00001"
    assert again == "110-20241115-00002"


def test_list_and_detail(client, headers, factory):
    ids = [
        post(client, headers, ticket_payload(summary=f"s{i}")).get_json()["id"] for i in range(3)
    ]
    post(client, headers, {"channel": "phone", "category": "prank"})
    listed = client.get("/api/v1/tickets?limit=2", headers=headers).get_json()
    assert [t["id"] for t in listed] == ids[:2]
    rest = client.get(f"/api/v1/tickets?after={ids[1]}", headers=headers).get_json()
    assert [t["id"] for t in rest][:1] == [ids[2]]
    closed = client.get("/api/v1/tickets?status=closed", headers=headers).get_json()
    assert [t["category"] for t in closed] == ["prank"]
    open_ = client.get("/api/v1/tickets?status=open", headers=headers).get_json()
    assert len(open_) == 3
    assert client.get("/api/v1/tickets?status=bogus", headers=headers).status_code == 422
    assert client.get("/api/v1/tickets?limit=0", headers=headers).status_code == 422
    detail = client.get(f"/api/v1/tickets/{ids[0]}", headers=headers).get_json()
    assert detail["timeline"][0]["type"] == "ticket.created"
    assert detail["assignments"] == []
    missing = client.get("/api/v1/tickets/99999", headers=headers)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"


def test_categories_catalog(client, headers):
    body = client.get("/api/v1/categories", headers=headers).get_json()
    codes = {c["code"]: c for c in body}
    for c in body:
        assert set(c) >= {"code", "label", "apco_code", "default_priority", "dispatch"}
        assert set(c["label"]) == {"id", "en"}
        assert 1 <= c["default_priority"] <= 4
    assert {c for c, v in codes.items() if not v["dispatch"]} == {
        "prank",
        "silent_call",
        "information",
        "wrong_number",
        "dropped",
    }
    assert codes["domestic_violence"]["label"]["id"].endswith("(KDRT)")
    assert codes["fire"]["handoff"] == "Damkar"


def test_apco_codes_come_from_the_standard():
    """Every category maps to a code of the APCO common incident types (NENA EIDO's list,
    copied to tests/data/apco_incident_codes.txt)."""
    import pathlib

    path = pathlib.Path(__file__).parents[1] / "data" / "apco_incident_codes.txt"
    codes = {line for line in path.read_text().split() if not line.startswith("#")}
    codes = {c for c in codes if c.isupper() or c[0].isdigit()}
    assert len(codes) > 150
    for category in catalog.CATEGORIES:
        assert category.apco_code in codes, category.code
