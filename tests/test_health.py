"""Liveness answers without signing in and without touching any dependency."""


def test_healthz_answers_without_a_session(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


# --- readiness ------------------------------------------------------------------------------

import pytest  # noqa: E402

from callcenter import create_app  # noqa: E402
from callcenter.extensions import db  # noqa: E402
from callcenter.services import fallback  # noqa: E402
from tests.faults import HangingProxy  # noqa: E402
from tests.processes import free_port  # noqa: E402
from tests.system.sim import wait_for  # noqa: E402


def ready(web):
    with web.test_client() as c:
        response = c.get("/readyz")
    return response.status_code, response.get_json()


@pytest.fixture
def web(app_config):
    """A web app of its own that expects a worker heartbeat younger than 3 s."""
    made = []

    def make(**overrides):
        created = create_app(
            {**app_config, "TESTING": True, "CALLCENTER_HEARTBEAT_MAX_AGE_S": 3, **overrides}
        )
        made.append(created)
        return created

    yield make
    for created in made:
        fallback.get(created).stop()  # its thread must not sweep the next tests' tables
        with created.app_context():
            db.engine.dispose()


def test_readyz_with_a_worker_then_the_worker_stopped(app, web, start_worker):
    app_ = web()
    status, body = ready(app_)
    assert status == 503  # no worker has ever reported
    assert body["status"] == "not_ready"
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["error"] == "no heartbeat"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert ("redis" in body["checks"]) == bool(app.config["REDIS_URL"])

    worker = start_worker(concurrency=1)
    status, body = wait_for(lambda: (r := ready(app_))[0] == 200 and r, timeout=20)
    assert body["status"] == "ready" and body["dispatch"] == "normal"
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["worker"]["age_s"] <= 3

    worker.stop()
    status, body = wait_for(lambda: (r := ready(app_))[0] == 503 and r, timeout=20)
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["age_s"] >= 3  # rounded to a tenth
    assert "last heartbeat" in body["checks"]["worker"]["error"]


def test_readyz_with_redis_hung_or_down(production_stack, web):
    proxy = HangingProxy(("127.0.0.1", 6379), hung=True)
    closed = f"redis://127.0.0.1:{free_port()}/0"
    try:
        for url in (proxy.url, closed):
            status, body = ready(web(REDIS_URL=url, CALLCENTER_BROKER_URL=url))
            assert status == 503
            assert body["checks"]["redis"]["ok"] is False
            assert body["checks"]["broker"]["ok"] is False
            assert body["checks"]["database"]["ok"] is True
            assert body["dispatch"] == "degraded"
    finally:
        proxy.close()


def test_readyz_with_the_database_gone(web, tmp_path):
    """A database that cannot be opened is a failed check, not an error page."""
    status, body = ready(
        web(
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/nothing",
            CALLCENTER_BROKER_URL=f"sqla+sqlite:///{tmp_path}/broker.sqlite",
            REDIS_URL="",
        )
    )
    assert status == 503
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["worker"]["ok"] is False
