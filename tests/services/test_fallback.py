"""Broker trouble and silent workers: intake still answers, the web process routes the
tickets itself (exactly once), and the console's status says dispatch is degraded while
it lasts."""

import pytest

from callcenter import create_app
from callcenter.extensions import db
from callcenter.services import fallback
from tests.faults import HangingProxy
from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.processes import free_port
from tests.system.sim import check_invariants, wait_for


@pytest.fixture
def make_app(app_config):
    """Another app (a web process of its own) on the same database, with ``overrides``."""
    made = []

    def make(**overrides):
        web = create_app({**app_config, "TESTING": True, **overrides})
        made.append(web)
        return web

    yield make
    for web in made:
        fallback.get(web).stop()  # its thread must not sweep the next tests' tables
        with web.app_context():
            db.engine.dispose()


def status(web, headers):
    with web.test_client() as c:
        response = c.get("/api/v1/dispatch/status", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def log_call(web, headers, **payload):
    with web.test_client() as c:
        response = c.post("/api/v1/tickets", json=ticket_payload(**payload), headers=headers)
    assert response.status_code == 201, response.get_data(True)
    return response.get_json()["id"]


def test_a_hung_broker_trips_the_breaker_and_the_web_process_routes(
    production_stack, app, factory, make_app
):
    proxy = HangingProxy(("127.0.0.1", 6379), hung=True)  # accepts, never answers
    try:
        web = make_app(CALLCENTER_BROKER_URL=proxy.url)
        unit = factory.unit(point=offset(KEPANJEN, 300, 0))
        headers = factory.headers("dispatcher")
        assert status(web, headers)["degraded"] is False
        ticket_id = log_call(web, headers)
        wait_for(lambda: factory.ticket(ticket_id).status == "dispatched", timeout=15)
        assert [a.unit_id for a in factory.assignments(ticket_id)] == [unit]
        seen = status(web, headers)
        assert seen["degraded"] is True and seen["broker"]["ok"] is False
        assert seen["broker"]["error"]
        # Calls logged while it lasts are routed too, without touching the broker.
        second_unit = factory.unit(point=offset(KEPANJEN, 900, 0))
        second = log_call(web, headers, summary="while degraded")
        wait_for(lambda: factory.ticket(second).status == "dispatched", timeout=15)
        assert [a.unit_id for a in factory.assignments(second)] == [second_unit]
        proxy.recover()
        wait_for(lambda: not status(web, headers)["degraded"], timeout=15)
        check_invariants(app)
    finally:
        proxy.close()


def test_redis_down_at_intake(production_stack, app, factory, make_app):
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    web = make_app(REDIS_URL=closed, CALLCENTER_BROKER_URL=closed)
    units = [factory.unit(point=offset(KEPANJEN, 200 * (i + 1), 0)) for i in range(3)]
    headers = factory.headers("dispatcher")
    tickets = [log_call(web, headers, summary=f"down {i}") for i in range(3)]
    wait_for(
        lambda: all(factory.ticket(t).status == "dispatched" for t in tickets),
        timeout=20,
        message="tickets not routed with Redis down",
    )
    assert sorted(a.unit_id for a in factory.assignments()) == sorted(units)
    assert status(web, headers)["broker"]["ok"] is False
    check_invariants(app)


def test_silent_workers_degrade_dispatch_until_one_reports(app, factory, make_app, start_worker):
    """No worker has written a heartbeat: the web process sweeps and routes by itself,
    and says so; a worker starting clears it."""
    web = make_app(CALLCENTER_HEARTBEAT_MAX_AGE_S=3, CALLCENTER_STUCK_NEW_S=1)
    unit = factory.unit(point=offset(KEPANJEN, 300, 0))
    headers = factory.headers("dispatcher")
    seen = status(web, headers)
    assert seen["degraded"] is True and seen["worker"]["ok"] is False
    assert seen["broker"]["ok"] is True
    ticket_id = log_call(web, headers)  # the message waits in the broker: no worker
    wait_for(lambda: factory.ticket(ticket_id).status == "dispatched", timeout=20)
    assert [a.unit_id for a in factory.assignments(ticket_id)] == [unit]
    start_worker(concurrency=1)
    wait_for(lambda: not status(web, headers)["degraded"], timeout=20)
    # The queued message reached the worker too: still one offer, one unit.
    summary = check_invariants(app)
    assert summary["by_status"] == {"dispatched": 1}
