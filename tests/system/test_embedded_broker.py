"""The embedded default started as the README's CLI section allows, on a fresh checkout:
no ``instance/`` folder, the database wherever ``DATABASE_URL`` says."""

import os
import subprocess
import sys

from callcenter import create_app
from tests.helpers import KEPANJEN, Factory, offset, ticket_payload
from tests.processes import ROOT, Worker, process_env
from tests.system.sim import wait_for


def test_a_worker_started_from_a_fresh_folder_routes_a_ticket(tmp_path):
    folder = tmp_path / "fresh" / "not-yet-made"  # neither exists
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    config = {
        "DATABASE_URL": f"sqlite:///{folder}/cc.sqlite",
        "SECRET_KEY": "fresh-checkout",
        "CALLCENTER_SWEEP_INTERVAL_S": 0.5,
    }
    env = {**process_env(config), "PYTHONPATH": ROOT}
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        env=env,
        cwd=run_dir,
        check=True,
        capture_output=True,
    )
    app = create_app(dict(config, TESTING=True))
    assert app.config["CALLCENTER_BROKER_URL"] == f"sqla+sqlite:///{folder}/cc.broker.sqlite"
    factory = Factory(app)
    unit = factory.unit(point=offset(KEPANJEN, 400, 0))
    headers = factory.headers("dispatcher")
    # The app's own schedule file (no --schedule), from a folder that is not the project's.
    worker = Worker(env, str(tmp_path / "worker.log"), concurrency=1, schedule="", cwd=str(run_dir))
    try:
        worker.wait_ready()
        with app.test_client() as client:
            response = client.post("/api/v1/tickets", json=ticket_payload(), headers=headers)
        assert response.status_code == 201
        ticket_id = response.get_json()["id"]
        wait_for(
            lambda: factory.ticket(ticket_id).status == "dispatched",
            timeout=30,
            message=worker.tail(),
        )
        assert factory.assignments(ticket_id)[0].unit_id == unit
        assert worker.proc.poll() is None
        assert {"cc.broker.sqlite", "cc.sqlite"} <= set(os.listdir(folder))
        assert any(name.startswith("cc.celerybeat-schedule") for name in os.listdir(folder))
    finally:
        worker.stop()
        with app.app_context():
            from callcenter.extensions import db

            db.engine.dispose()


def test_two_instances_with_two_databases_have_two_brokers(tmp_path):
    first = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/a/one.sqlite"})
    second = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/b/two.sqlite"})
    third = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/a/three.sqlite"})
    urls = {app.config["CALLCENTER_BROKER_URL"] for app in (first, second, third)}
    assert len(urls) == 3
    assert first.config["CALLCENTER_BROKER_URL"] == f"sqla+sqlite:///{tmp_path}/a/one.broker.sqlite"
