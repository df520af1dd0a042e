"""The report's page with its tables, the CSV of the tickets behind each figure, and
refusals of bad filters. The figures are those worked out in test_kpis.py for
tests/reports/dataset.py."""

import csv
import io

import pytest

from tests.auth.test_pages import page_sign_in
from tests.reports import dataset

RANGE = {"from": dataset.FROM, "to": dataset.TO}


@pytest.fixture
def ids(app):
    return dataset.build(app)


def rows_of(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def numbers(app, ids, keys):
    from tests.helpers import Factory

    factory = Factory(app)
    return sorted(factory.ticket(ids["tickets"][k]).number for k in keys)


@pytest.mark.parametrize(
    ("figure", "keys"),
    [
        ("calls", ["A", "B", "C", "D", "E", "F", "P1", "P2", "P3", "P4", "S", "W", "I"]),
        ("incidents", ["A", "B", "C", "D", "E", "F"]),
        ("answer_missed", ["B", "E"]),
        ("processing_missed", ["B"]),
        ("on_scene_missed", ["B"]),
        ("category:prank", ["P1", "P2", "P3", "P4"]),
        ("hour:8", ["A", "P1", "P3"][:2]),
        ("day:2026-03-11", ["P3"]),
        ("interval:answer", ["A", "B", "D", "E", "P1"]),
        ("interval:processing", ["A", "B", "C"]),
        ("prank:" + dataset.PRANKSTER, ["P1", "P2", "P3"]),
        ("sector:none", ["F", "P1", "P2", "P3", "P4", "S", "W", "I"]),
    ],
)
def test_the_tickets_behind_each_figure(app, client, factory, ids, figure, keys):
    factory.user("supervisor", username="kaspkt")
    page_sign_in(client, "kaspkt")
    rows = rows_of(client.get("/reports/tickets.csv", query_string={**RANGE, "figure": figure}))
    assert sorted(r["number"] for r in rows) == numbers(app, ids, keys)


def test_the_csv_keeps_the_times(app, client, factory, ids):
    factory.user("supervisor", username="kaspkt")
    page_sign_in(client, "kaspkt")
    query = {**RANGE, "figure": f"unit:{ids['units']['KPJ-4']}"}
    rows = rows_of(client.get("/reports/tickets.csv", query_string=query))
    assert sorted(r["number"] for r in rows) == numbers(app, ids, ["C", "D"])
    by_sector = client.get(
        "/reports/tickets.csv", query_string={**RANGE, "figure": f"sector:{ids['sectors']['S1']}"}
    )
    a = next(r for r in rows_of(by_sector) if r["answer_s"] == "10.000")
    assert a["processing_s"] == "60.000" and a["call_to_scene_s"] == "600.000"
    assert a["created_wib"] == "2026-03-10 08:00:20" and a["sector"] == "Polsek Kepanjen"


def test_a_bad_figure_is_refused(client, factory, ids):
    factory.user("supervisor", username="kaspkt")
    page_sign_in(client, "kaspkt")
    response = client.get("/reports/tickets.csv", query_string={**RANGE, "figure": "everything"})
    assert response.status_code == 422 and "figure" in response.get_data(as_text=True)


def test_the_page_shows_every_figure_in_tables(client, factory, ids):
    factory.user("supervisor", username="kaspkt")
    page_sign_in(client, "kaspkt")
    html = client.get("/reports/", query_string={**RANGE, "lang": "id"}).get_data(as_text=True)
    assert 'data-testid="calls">13<' in html
    assert 'data-testid="target-processing">66.7 %<' in html
    assert "0811-0000-0001" in html and "Polsek Pakisaji" in html and "KPJ-4" in html
    assert 'id="chart-hour"' in html and "vendor/chartjs/chart.umd.js" in html
    assert "figure=answer_missed" in html


def test_the_page_names_a_bad_filter(client, factory):
    factory.user("supervisor", username="kaspkt")
    page_sign_in(client, "kaspkt")
    response = client.get("/reports/", query_string={"from": "kemarin"})
    assert response.status_code == 422
    assert 'data-testid="report-error"' in response.get_data(as_text=True)


def test_the_page_is_for_supervisors_and_admins(client, factory):
    factory.user("dispatcher", username="operator")
    page_sign_in(client, "operator")
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/tickets.csv").status_code == 403
