"""The targets report as JSON (``GET /api/v1/reports/kpis``) for dashboards: the figures
worked out in tests/reports/test_kpis.py, filters, refusals and roles."""

import pytest

from tests.reports import dataset

RANGE = {"from": dataset.FROM, "to": dataset.TO}


@pytest.fixture
def ids(app):
    return dataset.build(app)


@pytest.fixture
def supervisor(factory):
    return factory.headers("supervisor")


def test_kpis_json(client, ids, supervisor):
    response = client.get("/api/v1/reports/kpis", query_string=RANGE, headers=supervisor)
    assert response.status_code == 200
    body = response.get_json()
    assert body["calls"] == 13 and body["incidents"] == 6
    assert body["targets"]["processing"] == {"met": 2, "of": 3, "share": 0.6667}
    assert body["intervals"]["call_to_scene"] == {"n": 3, "p50_s": 600.0, "p90_s": 700.0}
    assert body["range"] == {"from": "2026-03-10", "to": "2026-03-11", "timezone": "Asia/Jakarta"}
    assert body["prank_numbers"] == [
        {"phone": dataset.PRANKSTER, "phone_display": "0811-0000-0001", "calls": 3}
    ]
    filtered = client.get(
        "/api/v1/reports/kpis",
        query_string={**RANGE, "sector": "KPJ", "priority": "2"},
        headers=supervisor,
    ).get_json()
    assert filtered["calls"] == 1  # B
    assert filtered["filters"] == {
        "sector": ids["sectors"]["S1"],
        "category": None,
        "priority": 2,
        "channel": None,
    }


def test_kpis_refuses_bad_filters_by_name(client, supervisor):
    response = client.get(
        "/api/v1/reports/kpis",
        query_string={"from": "2026-03-12", "to": "2026-03-01", "channel": "fax"},
        headers=supervisor,
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"to", "channel"}


def test_kpis_is_for_supervisors_and_admins(client, factory):
    assert (
        client.get("/api/v1/reports/kpis", headers=factory.headers("dispatcher")).status_code == 403
    )
    assert client.get("/api/v1/reports/kpis", headers=factory.headers("admin")).status_code == 200
