"""Request ids, JSON logs that follow a ticket into the worker, and no phone numbers in the
access log."""

from __future__ import annotations

import json
import urllib.request

from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.processes import WebServer, free_port, process_env
from tests.system.sim import wait_for


def test_every_answer_carries_a_request_id(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first and second and first != second
    mine = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.2"})
    assert mine.headers["X-Request-ID"] == "lb-7f3a.2"
    # Not a sensible id (spaces, newlines, too long): replaced, never echoed.
    for bad in ("a b", "x" * 65, "inject\r\nSet-Cookie: a=b"):
        got = client.get("/healthz", headers={"X-Request-ID": bad.replace("\r\n", " ")})
        assert got.headers["X-Request-ID"] not in (bad, bad.replace("\r\n", " "))
        assert len(got.headers["X-Request-ID"]) == 32


def test_caller_history_by_post_keeps_the_number_out_of_the_url(client, factory):
    headers = factory.headers("dispatcher")
    client.post(
        "/api/v1/tickets",
        json={"channel": "phone", "category": "prank", "caller": {"phone": "0811-48-2000"}},
        headers=headers,
    )
    by_post = client.post(
        "/api/v1/callers/history", json={"phone": "0811 482 000"}, headers=headers
    )
    assert by_post.status_code == 200
    body = by_post.get_json()
    assert body["phone"] == "+62811482000" and body["calls"] == 1 and body["pranks"] == 1
    # The old form still answers the same.
    by_get = client.get("/api/v1/callers/history?phone=0811482000", headers=headers)
    assert by_get.get_json() == body
    bad = client.post("/api/v1/callers/history", json={"phone": "abc"}, headers=headers)
    assert bad.status_code == 422 and "phone" in bad.get_json()["error"]["fields"]
    extra = client.post(
        "/api/v1/callers/history", json={"phone": "0811482000", "x": 1}, headers=headers
    )
    assert extra.status_code == 422 and "x" in extra.get_json()["error"]["fields"]
    assert client.post("/api/v1/callers/history", data="0811", headers=headers).status_code == 400


def _gunicorn(app_config, tmp_path, **env):
    """The web part under gunicorn with gunicorn.conf.py's logging, the access log to a
    file, JSON format."""
    import subprocess
    import sys

    from tests.processes import ROOT

    port = free_port()
    log_path = tmp_path / "web.log"
    access_path = tmp_path / "access.log"
    proc_env = process_env(
        app_config, CALLCENTER_LOG_FORMAT="json", GUNICORN_WORKERS="1", GUNICORN_THREADS="4", **env
    )
    log = open(log_path, "ab")  # noqa: SIM115  (closed by server.stop)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(access_path),
            "wsgi:app",
        ],
        env=proc_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )
    server = WebServer.__new__(WebServer)
    server.url, server.log, server.proc = f"http://127.0.0.1:{port}", log, proc
    return server.wait_ready(), access_path


def _get(url, headers):
    req = urllib.request.Request(url)
    for k, v in headers.items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, dict(r.headers)


def test_the_access_log_never_carries_a_phone_number(app_config, factory, tmp_path):
    """Reproduced first: ``/callers/history?phone=...`` put the number in the access log."""
    headers = factory.headers("dispatcher")
    server, access = _gunicorn(app_config, tmp_path)
    try:
        status, answer = _get(
            server.url + "/api/v1/callers/history?phone=0811-482-000",
            {**headers, "X-Request-ID": "trace-phone-1"},
        )
        assert status == 200
        _get(server.url + "/api/v1/tickets?limit=5&after=3", headers)
        lines = wait_for(lambda: access.read_text().splitlines() if access.exists() else None)
        wait_for(lambda: len(access.read_text().splitlines()) >= 2)
    finally:
        server.stop()
    entries = [json.loads(line) for line in access.read_text().splitlines()]
    # Nothing of the requests is logged with the number. The server's own figures (a random
    # request id, the time, the process id, sizes and durations) may hold any digits.
    made_here = {"time", "request_id", "process", "bytes", "duration_ms"}
    for entry in entries:
        said = json.dumps({k: v for k, v in entry.items() if k not in made_here})
        assert "482" not in said and "0811" not in said, said
    history = next(e for e in entries if e["path"].startswith("/api/v1/callers/history"))
    assert history["path"] == "/api/v1/callers/history?phone=[redacted]"
    assert history["request_id"] == "trace-phone-1" == answer["X-Request-ID"]
    assert history["status"] == 200 and history["method"] == "GET"
    listing = next(e for e in entries if e["path"].startswith("/api/v1/tickets"))
    assert listing["path"] == "/api/v1/tickets?limit=5&after=3"  # nothing else is touched
    assert len(lines) >= 1


def test_a_request_id_follows_a_ticket_into_the_worker(client, factory, start_worker):
    factory.unit(callsign="RID-1", point=offset(KEPANJEN, 300, 0))
    worker = start_worker(CALLCENTER_LOG_FORMAT="json")
    headers = factory.headers("dispatcher")
    response = client.post(
        "/api/v1/tickets",
        json=ticket_payload(),
        headers={**headers, "X-Request-ID": "call-110-abc"},
    )
    assert response.headers["X-Request-ID"] == "call-110-abc"
    ticket_id = response.get_json()["id"]
    wait_for(lambda: factory.assignments(ticket_id))

    def routed_line():
        with open(worker.log_path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
        for line in lines:
            if line.startswith("{") and "routed" in line:
                entry = json.loads(line)
                if entry.get("ticket_id") == ticket_id:
                    return entry
        return None

    entry = wait_for(routed_line)
    assert entry["request_id"] == "call-110-abc"
    assert entry["message"] == f"ticket {ticket_id} routed: offered"
    assert entry["level"] == "INFO" and "time" in entry
