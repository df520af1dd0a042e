"""/metrics: who may read it, what it counts, and the counts of every process under gunicorn
and Celery (prometheus-client's multiprocess mode)."""

from __future__ import annotations

import os
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from callcenter.services import routing
from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.processes import WebServer, free_port, process_env
from tests.system.sim import wait_for


def samples(text: str) -> dict:
    """``{(name, frozenset(labels)): value}`` of a scrape."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(scrape: dict, name: str, **labels) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


def scrape(client, **kwargs) -> dict:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain"
    return samples(response.get_data(as_text=True))


def test_only_this_host_reads_metrics_without_a_token(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 404
    # Through the push engine (or any proxy) a request carries X-Forwarded-For: refused.
    forwarded = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert forwarded.status_code == 404


def test_a_metrics_token_is_required_when_set(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "CALLCENTER_METRICS_TOKEN", "scrape-secret-1")
    assert client.get("/metrics").status_code == 404
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 404
    right = client.get(
        "/metrics",
        headers={"Authorization": "Bearer scrape-secret-1", "X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert right.status_code == 200
    assert b"callcenter_tickets" in right.data


def test_counts_follow_a_ticket_from_intake_to_accept(client, factory, app):
    before = scrape(client)
    unit = factory.unit(callsign="MET-1", point=offset(KEPANJEN, 400, 0))
    factory.unit(callsign="MET-2", point=offset(KEPANJEN, 900, 0), status="off_duty")
    unit_headers = factory.unit_user(unit)
    headers = factory.headers("dispatcher")
    ticket = client.post("/api/v1/tickets", json=ticket_payload(), headers=headers).get_json()
    mid = scrape(client)
    assert value(mid, "callcenter_tickets", status="new") == 1
    assert value(mid, "callcenter_tickets_waiting") == 1
    assert value(mid, "callcenter_units", status="available") == 1
    assert value(mid, "callcenter_units", status="off_duty") == 1

    # Routing as the worker runs it (the worker itself is in the multiprocess test below).
    assert factory.run(routing.route_ticket, ticket["id"]) == "offered"
    offer = factory.assignments(ticket["id"])[0]
    accepted = client.post(f"/api/v1/assignments/{offer.id}/accept", headers=unit_headers)
    assert accepted.status_code == 200
    reported = client.post(
        "/api/v1/units/me/location",
        json={"lat": KEPANJEN[0], "lon": KEPANJEN[1], "accuracy_m": 5},
        headers=unit_headers,
    )
    assert reported.status_code in (200, 201)
    refused = client.post("/api/v1/units/me/location", json={"lat": 99}, headers=unit_headers)
    assert refused.status_code == 422

    after = scrape(client)
    assert value(after, "callcenter_tickets", status="acknowledged") == 1
    assert value(after, "callcenter_tickets", status="new") == 0
    assert value(after, "callcenter_units", status="dispatched") == 1
    for name in (
        "callcenter_intake_to_offer_seconds_count",
        "callcenter_offer_to_accept_seconds_count",
    ):
        assert value(after, name) == value(before, name) + 1
    broker = "callcenter_broker_publish_seconds_count"
    assert value(after, broker) >= value(before, broker) + 1  # the route_ticket message
    positions = "callcenter_position_reports_total"
    assert (
        value(after, positions, outcome="applied")
        == value(before, positions, outcome="applied") + 1
    )
    assert (
        value(after, positions, outcome="refused")
        == value(before, positions, outcome="refused") + 1
    )
    assert ("callcenter_streams_open", frozenset()) in after


def test_every_process_is_counted_under_gunicorn_and_celery(
    app, app_config, factory, start_worker, tmp_path
):
    """Two gunicorn workers and a Celery worker write to one PROMETHEUS_MULTIPROC_DIR; any
    web process answers /metrics with the sum, including what the Celery worker observed."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    unit = factory.unit(callsign="MP-1", point=offset(KEPANJEN, 300, 0))
    unit_headers = factory.unit_user(unit)
    headers = factory.headers("dispatcher")
    start_worker(PROMETHEUS_MULTIPROC_DIR=str(folder))
    port = free_port()
    web = WebServer(
        process_env(app_config, PROMETHEUS_MULTIPROC_DIR=str(folder)),
        str(tmp_path / "web.log"),
        port,
        workers="2",
        threads="4",
    ).wait_ready()
    try:

        def call(method, path, hdrs, body=None):
            import json

            data = json.dumps(body).encode() if body is not None else None
            req = urllib.request.Request(web.url + path, data=data, method=method)
            for k, v in hdrs.items():
                req.add_header(k, v)
            if data is not None:
                req.add_header("Content-Type", "application/json")
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read()

        status, _ = call("POST", "/api/v1/tickets", headers, ticket_payload())
        assert status == 201
        offered = wait_for(lambda: factory.assignments())
        assert call("POST", f"/api/v1/assignments/{offered[0].id}/accept", unit_headers)[0] == 200
        for i in range(4):  # spread over both web processes (keep-alive is not used)
            point = offset(KEPANJEN, 10 * i, 0)
            call(
                "POST",
                "/api/v1/units/me/location",
                unit_headers,
                {"lat": point[0], "lon": point[1]},
            )
        files = os.listdir(folder)
        # Files of at least three processes: the two web workers and the Celery pool.
        assert len({f.rsplit("_", 1)[-1] for f in files}) >= 3, files

        texts = [call("GET", "/metrics", {})[1].decode() for _ in range(4)]
        for text in texts:  # whichever process answered, the sums are the same
            got = samples(text)
            assert value(got, "callcenter_intake_to_offer_seconds_count") == 1
            assert value(got, "callcenter_offer_to_accept_seconds_count") == 1
            assert value(got, "callcenter_position_reports_total", outcome="applied") == 4
            assert value(got, "callcenter_tickets", status="acknowledged") == 1
    finally:
        web.stop()


@pytest.mark.parametrize("query", ["phone=0811482000", "x=1&phone=%2B62811482000"])
def test_the_redaction_helper_never_keeps_a_number(query):
    from callcenter.ops.logs import redact_query

    assert "811482000" not in redact_query(query)
    assert "redacted" in redact_query(query)
