"""Hand-offs to other agencies: the catalog, handing off, the acknowledgement, refusals, and
hand-off-only categories that send no police unit."""

import pytest

from callcenter.extensions import db
from callcenter.models import Assignment, Event, Handoff
from tests.helpers import ticket_payload


@pytest.fixture
def headers(factory):
    return factory.headers("dispatcher")


def log(client, headers, **overrides) -> dict:
    response = client.post("/api/v1/tickets", json=ticket_payload(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def hand_off(client, headers, ticket_id, **body):
    return client.post(f"/api/v1/tickets/{ticket_id}/handoffs", json=body, headers=headers)


def test_the_agency_catalog_of_malang_in_both_languages(client, headers):
    listed = client.get("/api/v1/agencies", headers=headers).get_json()
    by_code = {a["code"]: a for a in listed}
    for code in ("damkar", "psc119", "bpbd", "basarnas", "pln", "pdam", "dishub"):
        assert code in by_code
    assert by_code["damkar"]["phone"] == "113" and by_code["psc119"]["phone"] == "119"
    assert by_code["psc119"]["name"]["en"].startswith("PSC 119")
    assert {"spkt-kpj", "spkt-sgs", "polresta-malang-kota", "polres-batu"} <= set(by_code)
    assert [a["code"] for a in listed][:2] == ["damkar", "psc119"]
    english = client.get(
        "/api/v1/agencies", headers={**headers, "Accept-Language": "en"}
    ).get_json()
    assert english[0]["label"] == "Malang Regency Fire Service"


def test_a_ticket_with_units_is_also_handed_off(client, headers, factory):
    ticket = log(client, headers, category="traffic_accident_injury")
    response = hand_off(client, headers, ticket["id"], agency="psc119", note="2 korban luka")
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "pending" and body["agency"]["code"] == "psc119"
    assert body["note"] == "2 korban luka" and body["acknowledged_at"] is None
    detail = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()
    assert detail["status"] == "new"  # still routed to police units
    assert [h["agency"]["code"] for h in detail["handoffs"]] == ["psc119"]
    assert "handoff.created" in [e["type"] for e in detail["timeline"]]


def test_a_category_with_an_agency_is_handed_to_it_at_intake(client, headers):
    ticket = log(client, headers, category="fire")
    detail = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()
    assert detail["status"] == "new"
    assert [(h["agency"]["code"], h["status"]) for h in detail["handoffs"]] == [
        ("damkar", "pending")
    ]


def test_acknowledgement_records_who_their_reference_and_when(client, headers, factory):
    ticket = log(client, headers)
    handoff = hand_off(client, headers, ticket["id"], agency="damkar").get_json()
    url = f"/api/v1/handoffs/{handoff['id']}/acknowledge"
    missing = client.post(url, json={"reference": "X"}, headers=headers)
    assert missing.status_code == 422 and "by" in missing.get_json()["error"]["fields"]
    at = handoff["created_at"]
    done = client.post(
        url,
        json={"by": "Pak Joko (piket Damkar)", "reference": "DMK-0042", "at": at},
        headers=headers,
    )
    assert done.status_code == 200
    body = done.get_json()
    assert body["status"] == "acknowledged"
    assert (body["acknowledged_by"], body["reference"]) == ("Pak Joko (piket Damkar)", "DMK-0042")
    assert body["acknowledged_at"] == at and body["recorded_at"] is not None
    events = factory.events("handoff.acknowledged")
    assert len(events) == 1 and events[0].data["reference"] == "DMK-0042"

    again = client.post(url, json={"by": "Orang lain", "reference": "LAIN"}, headers=headers)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_acknowledged"
    assert factory.run(lambda: db.session.get(Handoff, handoff["id"]).reference) == "DMK-0042"
    assert len(factory.events("handoff.acknowledged")) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"agency": "pemadam-mars"}, "agency"),
        ({}, "agency"),
        ({"agency": 99999}, "agency"),
        ({"agency": "damkar", "note": "x" * 1001}, "note"),
        ({"agency": "damkar", "colour": "red"}, "colour"),
    ],
)
def test_refused_hand_offs_change_nothing(client, headers, factory, body, field):
    ticket = log(client, headers)
    before = factory.count(Event)
    response = hand_off(client, headers, ticket["id"], **body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert factory.count(Handoff) == 0 and factory.count(Event) == before


def test_one_waiting_hand_off_per_agency_and_none_on_a_closed_ticket(client, headers, factory):
    ticket = log(client, headers)
    assert hand_off(client, headers, ticket["id"], agency="pln").status_code == 201
    twice = hand_off(client, headers, ticket["id"], agency="pln")
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "handoff_pending"
    assert hand_off(client, headers, ticket["id"], agency="pdam").status_code == 201
    closed = log(client, headers, category="prank")
    refused = hand_off(client, headers, closed["id"], agency="pln")
    assert refused.status_code == 409
    assert hand_off(client, headers, 999999, agency="pln").status_code == 404
    assert (
        client.post(
            "/api/v1/handoffs/999999/acknowledge", json={"by": "x"}, headers=headers
        ).status_code
        == 404
    )
    assert factory.count(Handoff) == 2


def test_a_hand_off_only_ticket_waits_then_closes_when_acknowledged(client, headers, factory):
    ticket = log(client, headers, category="fire_no_crime", summary="Gudang kosong terbakar")
    assert ticket["status"] == "handed_off" and ticket["waiting_since"] is None
    detail = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()
    [handoff] = detail["handoffs"]
    assert handoff["agency"]["code"] == "damkar" and handoff["status"] == "pending"
    listed = client.get("/api/v1/tickets?status=open", headers=headers).get_json()
    assert [t["id"] for t in listed] == [ticket["id"]]

    client.post(
        f"/api/v1/handoffs/{handoff['id']}/acknowledge",
        json={"by": "Regu 2 Damkar Kepanjen", "reference": "K-17"},
        headers=headers,
    )
    closed = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()
    assert closed["status"] == "closed" and closed["resolution"] == "referred"
    assert factory.count(Assignment) == 0
    types = [e["type"] for e in closed["timeline"]]
    assert types.index("handoff.acknowledged") < types.index("ticket.closed")


def test_a_hand_off_only_ticket_closes_only_when_every_agency_answered(client, headers):
    ticket = log(client, headers, category="power_line")
    extra = hand_off(client, headers, ticket["id"], agency="dishub").get_json()
    detail = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()
    pln = next(h for h in detail["handoffs"] if h["agency"]["code"] == "pln")
    client.post(f"/api/v1/handoffs/{pln['id']}/acknowledge", json={"by": "PLN"}, headers=headers)
    still = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()
    assert still["status"] == "handed_off"
    client.post(
        f"/api/v1/handoffs/{extra['id']}/acknowledge", json={"by": "Dishub"}, headers=headers
    )
    assert (
        client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()["status"]
        == "closed"
    )


def test_units_may_not_hand_off(client, factory, headers):
    ticket = log(client, headers)
    unit_headers = factory.unit_user(factory.unit())
    assert hand_off(client, unit_headers, ticket["id"], agency="pln").status_code == 403
    assert client.get("/api/v1/agencies", headers=unit_headers).status_code == 403


def test_categories_say_which_agency_and_whether_only_it(client, headers):
    cats = {c["code"]: c for c in client.get("/api/v1/categories", headers=headers).get_json()}
    assert cats["fire"]["handoff_agency"] == "damkar" and not cats["fire"]["handoff_only"]
    assert cats["fire_no_crime"]["handoff_only"] and cats["fire_no_crime"]["dispatch"]
    assert cats["dropped"]["dispatch"] is False


def test_acknowledging_at_once_from_two_desks_records_one(app, client, headers, factory):
    from tests.api.test_tickets_intake import _concurrently

    ticket = log(client, headers, category="fire_no_crime")
    [handoff] = client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).get_json()[
        "handoffs"
    ]

    def acknowledge(i):
        with app.test_client() as c:
            return c.post(
                f"/api/v1/handoffs/{handoff['id']}/acknowledge",
                json={"by": f"Petugas {i}"},
                headers=headers,
            ).status_code

    assert sorted(_concurrently(6, acknowledge)) == [200] + [409] * 5
    assert len(factory.events("handoff.acknowledged")) == 1
    assert len(factory.events("ticket.closed")) == 1


def test_the_same_hand_off_sent_at_once_is_made_once(app, client, headers, factory):
    from tests.api.test_tickets_intake import _concurrently

    ticket = log(client, headers)

    def send(_):
        with app.test_client() as c:
            return hand_off(c, headers, ticket["id"], agency="basarnas").status_code

    assert sorted(_concurrently(6, send)) == [201] + [409] * 5
    assert factory.count(Handoff) == 1


def test_a_routed_ticket_cannot_become_hand_off_only_nor_a_unit_log_one(client, headers, factory):
    ticket = log(client, headers)
    edit = client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"category": "fire_no_crime"}, headers=headers
    )
    assert edit.status_code == 422 and "category" in edit.get_json()["error"]["fields"]
    unit_headers = factory.unit_user(factory.unit())
    found = client.post(
        "/api/v1/units/me/tickets",
        json={"category": "power_line", "summary": "Kabel PLN putus melintang jalan"},
        headers=unit_headers,
    )
    assert found.status_code == 422 and "category" in found.get_json()["error"]["fields"]


def test_an_admin_enters_an_agencys_local_number_and_takes_one_out_of_service(
    client, headers, factory
):
    admin = factory.headers("admin")
    changed = client.patch("/api/v1/agencies/bpbd", json={"phone": "(0341) 392 525"}, headers=admin)
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["phone"] == "+62341392525" and body["phone_display"] == "(0341) 392525"
    [event] = factory.events("agency.updated")
    assert event.data["changes"] == {"phone": {"from": None, "to": "+62341392525"}}
    short = client.patch("/api/v1/agencies/PDAM", json={"phone": "1 500-123"}, headers=admin)
    assert short.get_json()["phone"] == "1500123"

    # The dispatcher's list and a new hand-off carry the number.
    listed = {a["code"]: a for a in client.get("/api/v1/agencies", headers=headers).get_json()}
    assert listed["bpbd"]["phone"] == "+62341392525"
    ticket = log(client, headers)
    made = hand_off(client, headers, ticket["id"], agency="bpbd").get_json()
    assert made["agency"]["phone_display"] == "(0341) 392525"

    # Out of service: no longer listed nor offered; its hand-off stays.
    out = client.patch("/api/v1/agencies/bpbd", json={"active": False}, headers=admin)
    assert out.status_code == 200 and out.get_json()["active"] is False
    listed = [a["code"] for a in client.get("/api/v1/agencies", headers=headers).get_json()]
    assert "bpbd" not in listed
    every = client.get("/api/v1/agencies?all=true", headers=headers).get_json()
    assert [a["active"] for a in every if a["code"] == "bpbd"] == [False]
    other = log(client, headers)
    refused = hand_off(client, headers, other["id"], agency="bpbd")
    assert refused.status_code == 422 and "agency" in refused.get_json()["error"]["fields"]
    assert [
        h["agency"]["code"]
        for h in client.get(f"/api/v1/tickets/{ticket['id']}/handoffs", headers=headers).get_json()
    ] == ["bpbd"]

    # Null clears a number that turned out wrong.
    cleared = client.patch("/api/v1/agencies/pdam", json={"phone": None}, headers=admin)
    assert cleared.status_code == 200 and cleared.get_json()["phone"] is None

    # Saving the same values again records nothing.
    before = len(factory.events("agency.updated"))
    same = client.patch("/api/v1/agencies/bpbd", json={"active": False}, headers=admin)
    assert same.status_code == 200 and len(factory.events("agency.updated")) == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"phone": "12"}, "phone"),
        ({"phone": "0800 not a number"}, "phone"),
        ({"phone": "x" * 41}, "phone"),
        ({"active": "no"}, "active"),
        ({"fax": "0341"}, "fax"),
    ],
)
def test_a_bad_agency_setting_is_refused_and_changes_nothing(client, factory, body, field):
    admin = factory.headers("admin")
    response = client.patch("/api/v1/agencies/damkar", json=body, headers=admin)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    damkar = [
        a for a in client.get("/api/v1/agencies", headers=admin).get_json() if a["code"] == "damkar"
    ]
    assert damkar[0]["phone"] == "113" and factory.events("agency.updated") == []


def test_only_an_admin_changes_an_agency(client, factory):
    for role in ("dispatcher", "supervisor"):
        response = client.patch(
            "/api/v1/agencies/damkar", json={"phone": "0341 1"}, headers=factory.headers(role)
        )
        assert response.status_code == 403
    missing = client.patch(
        "/api/v1/agencies/nowhere", json={"phone": "113"}, headers=factory.headers("admin")
    )
    assert missing.status_code == 404
