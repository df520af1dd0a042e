"""Finding any ticket: number, phone in any form, words, WIB dates, filters, cursor paging."""

from datetime import UTC, datetime

import pytest

from callcenter.extensions import db
from callcenter.models import Assignment, Sector, Ticket, Unit
from tests.helpers import ticket_payload


@pytest.fixture
def headers(factory):
    return factory.headers("dispatcher")


def log(client, headers, **overrides) -> dict:
    response = client.post("/api/v1/tickets", json=ticket_payload(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def set_created(factory, ticket_id: int, moment: datetime) -> None:
    def change():
        db.session.get(Ticket, ticket_id).created_at = moment
        db.session.commit()

    factory.run(change)


def search(client, headers, **params):
    response = client.get("/api/v1/tickets", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response


def numbers(response) -> list[str]:
    return [t["number"] for t in response.get_json()]


def test_by_number_and_by_phone_in_any_form(client, headers):
    wanted = log(client, headers, caller={"name": "Sri", "phone": "0811-48-2000"})
    other = log(client, headers, caller={"name": "Ani", "phone": "0812-3456-7890"})
    assert numbers(search(client, headers, q=wanted["number"])) == [wanted["number"]]
    # Without the 110- prefix and without the leading zeros of the sequence.
    day, seq = other["number"].split("-")[1:]
    assert numbers(search(client, headers, q=f"{day}-{int(seq)}")) == [other["number"]]
    for form in ("0811 48 2000", "+62 811-482-000", "62811482000", "(0811) 482000"):
        assert numbers(search(client, headers, q=form)) == [wanted["number"]], form


def test_by_words_of_summary_and_address_as_prefixes(client, headers):
    a = log(
        client,
        headers,
        summary="Motor Honda Beat hilang di parkiran",
        location={"lat": -8.13, "lon": 112.57, "address": "Pasar Kepanjen"},
    )
    b = log(
        client,
        headers,
        summary="Pencopetan di angkot",
        location={"lat": -8.13, "lon": 112.57, "address": "Jl. Panglima Sudirman"},
    )
    assert numbers(search(client, headers, q="motor kepanjen")) == [a["number"]]
    assert numbers(search(client, headers, q="HILANG pasar")) == [a["number"]]
    assert numbers(search(client, headers, q="pencop sudirm")) == [b["number"]]
    assert numbers(search(client, headers, q="motor sudirman")) == []
    # LIKE's own wildcards are plain characters.
    assert numbers(search(client, headers, q="%")) == sorted(
        [a["number"], b["number"]], reverse=True
    )
    assert numbers(search(client, headers, q="mot_r")) == []


def test_by_words_of_a_running_note(client, headers):
    noted = log(client, headers, summary="Keributan di warung")
    log(client, headers, summary="Keributan di terminal")
    added = client.post(
        f"/api/v1/tickets/{noted['id']}/notes",
        json={"text": "Pelaku kabur ke arah Sumberpucung naik Vario merah"},
        headers=headers,
    )
    assert added.status_code == 201, added.get_json()
    assert numbers(search(client, headers, q="sumberpuc vario")) == [noted["number"]]
    assert numbers(search(client, headers, q="keributan")) != [noted["number"]]


def test_closed_tickets_are_found_and_the_newest_comes_first(client, headers):
    silent = log(client, headers, category="silent_call", summary="Hening lalu ditutup")
    older = log(client, headers, summary="Hening di pasar")
    found = search(client, headers, q="hening").get_json()
    assert [t["id"] for t in found] == [older["id"], silent["id"]]
    assert found[1]["status"] == "closed"


def test_from_and_to_are_whole_days_in_wib(client, headers, factory):
    # 2026-11-27 00:30 WIB is 2026-11-26 17:30 UTC; 23:30 WIB is 16:30 UTC.
    early = log(client, headers, summary="Awal hari")
    late = log(client, headers, summary="Akhir hari")
    before = log(client, headers, summary="Hari sebelumnya")
    set_created(factory, early["id"], datetime(2026, 11, 26, 17, 30, tzinfo=UTC))
    set_created(factory, late["id"], datetime(2026, 11, 27, 16, 30, tzinfo=UTC))
    set_created(factory, before["id"], datetime(2026, 11, 26, 16, 30, tzinfo=UTC))
    day = search(client, headers, **{"from": "2026-11-27", "to": "2026-11-27"})
    assert sorted(numbers(day)) == sorted([early["number"], late["number"]])
    both = search(client, headers, **{"from": "2026-11-26", "to": "2026-11-27"})
    assert len(both.get_json()) == 3
    assert numbers(search(client, headers, to="2026-11-26")) == [before["number"]]


def test_status_category_unit_and_sector(client, headers, factory):
    theft = log(client, headers, category="theft")
    fight = log(client, headers, category="fight")
    prank = log(client, headers, category="prank")
    unit_id = factory.unit(callsign="SGS-1")

    def place():
        sector = Sector(code="SGS", name="Polsek Singosari")
        db.session.add(sector)
        db.session.flush()
        unit = db.session.get(Unit, unit_id)
        unit.sector_id = sector.id
        db.session.add(
            Assignment(
                ticket_id=fight["id"],
                unit_id=unit_id,
                status="declined",
                slot=1,
                deadline_at=datetime.now(UTC),
            )
        )
        db.session.commit()

    factory.run(place)
    assert numbers(search(client, headers, q="dompet", status="closed")) == [prank["number"]]
    assert numbers(search(client, headers, category="theft,prank")) == [
        prank["number"],
        theft["number"],
    ]
    assert numbers(search(client, headers, unit="sgs-1")) == [fight["number"]]
    assert numbers(search(client, headers, unit=str(unit_id))) == [fight["number"]]
    assert numbers(search(client, headers, sector="SGS")) == [fight["number"]]


def test_cursor_pages_never_overlap_and_end(client, headers):
    made = [log(client, headers, summary=f"Laporan nomor {i}")["id"] for i in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"q": "laporan", "limit": 2} | ({"cursor": cursor} if cursor else {})
        response = search(client, headers, **params)
        page = [t["id"] for t in response.get_json()]
        assert len(page) <= 2
        seen += page
        pages += 1
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            assert "Link" not in response.headers
            break
        assert (
            'rel="next"' in response.headers["Link"]
            and f"cursor={cursor}" in (response.headers["Link"])
        )
    assert seen == sorted(made, reverse=True) and pages == 3


def test_the_plain_list_keeps_its_order_and_after_cursor(client, headers):
    ids = [log(client, headers)["id"] for _ in range(3)]
    listed = client.get("/api/v1/tickets", headers=headers).get_json()
    assert [t["id"] for t in listed] == ids
    assert "X-Next-Cursor" not in client.get("/api/v1/tickets", headers=headers).headers


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "27-11-2026"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "2026-11-28", "to": "2026-11-27"}, "to"),
        ({"category": "nonsense"}, "category"),
        ({"unit": "NOPE-9"}, "unit"),
        ({"sector": "NOPE"}, "sector"),
        ({"q": "x", "status": "bogus"}, "status"),
        ({"cursor": "abc"}, "cursor"),
        ({"q": "x", "after": "3"}, "after"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_search_parameters_are_refused_by_name(client, headers, params, field):
    response = client.get("/api/v1/tickets", query_string=params, headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_units_cannot_search(client, factory):
    unit_headers = factory.unit_user(factory.unit())
    assert client.get("/api/v1/tickets?q=x", headers=unit_headers).status_code == 403


def test_a_page_loads_no_more_than_its_rows(client, headers, app, factory):
    """The query asks the database for limit + 1 rows, whatever the table holds."""
    from sqlalchemy import event

    for i in range(4):
        log(client, headers, summary=f"Banyak {i}")
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        search(client, headers, q="banyak", limit=2)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # One read of whole tickets: by LIMIT (limit + 1), or by the ids of the page (PostgreSQL
    # reads the ids of a word search through its text index first).
    selects = [
        s
        for s in statements
        if s[0].startswith("SELECT tickets.id, tickets.number")
        and "ORDER BY tickets.id DESC" in s[0]
    ]
    assert len(selects) == 1
    statement, params = selects[0]
    values = list(params.values()) if isinstance(params, dict) else list(params)
    if "LIMIT" in statement:
        assert 3 in values
    else:
        assert "tickets.id IN" in statement and len(values) == 3


def test_words_from_several_text_sources_are_found_through_one_union(client, headers, monkeypatch):
    """How running notes join the search: a second source of text, matched in a union."""
    from sqlalchemy.orm import aliased

    from callcenter.services import search as search_service

    other = aliased(Ticket, name="other_tickets")
    second = (
        other.id,
        "to_tsvector('simple', coalesce(other_tickets.caller_name, ''))",
        (other.caller_name,),
    )
    monkeypatch.setattr(
        search_service, "text_sources", lambda: [*search_service.TEXT_SOURCES_OF_TICKETS, second]
    )
    by_name = log(client, headers, caller={"name": "Sulastri Wulandari", "phone": "0811-48-2000"})
    by_summary = log(client, headers, summary="Sulastri melapor motor hilang")
    assert numbers(search(client, headers, q="sulastri")) == [
        by_summary["number"],
        by_name["number"],
    ]
    assert numbers(search(client, headers, q="wulandari")) == [by_name["number"]]
