"""The concurrency invariant under load: 200 tickets, 20 units, 4 worker processes, units
accepting, declining and timing out at random."""

import random
import threading
import time

from callcenter.extensions import db
from callcenter.models import Ticket
from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.system.sim import UnitSimulator, check_invariants, ticket_outcomes_ok, wait_for

TICKETS = 200
UNITS = 20
SETTINGS = {
    "CALLCENTER_OFFER_TIMEOUT_S": 2,
    "CALLCENTER_SWEEP_INTERVAL_S": 0.5,
    "CALLCENTER_POSITION_MAX_AGE_S": 900,
    "CALLCENTER_STUCK_NEW_S": 2,
}


def finished(app) -> bool:
    """Every ticket is acknowledged (or further), or escalated to the dispatcher."""
    with app.app_context():
        pending = db.session.scalar(
            db.select(db.func.count())
            .select_from(Ticket)
            .where(
                Ticket.acknowledged_at.is_(None),
                db.or_(
                    Ticket.escalation_reason.is_(None), Ticket.escalation_reason != "max_offers"
                ),
            )
        )
        db.session.remove()
    return pending == 0


def test_no_unit_or_ticket_ever_holds_two_offers(
    production_stack, factory, start_worker, monkeypatch
):
    app = production_stack
    for key, value in SETTINGS.items():
        monkeypatch.setitem(app.config, key, value)
    rng = random.Random(2024)
    unit_headers = []
    for i in range(UNITS):
        point = offset(KEPANJEN, rng.uniform(-5000, 5000), rng.uniform(-5000, 5000))
        unit_id = factory.unit(callsign=f"SIM-{i}", point=point)
        unit_headers.append(factory.unit_user(unit_id))
    dispatcher = factory.headers("dispatcher")

    start_worker(concurrency=2, beat=True, name="w1", **SETTINGS)
    start_worker(concurrency=2, beat=False, name="w2", **SETTINGS)

    stop, errors = threading.Event(), []
    sims = [
        UnitSimulator(app, h, seed=i, stop=stop, errors=errors) for i, h in enumerate(unit_headers)
    ]
    for sim in sims:
        sim.start()

    started = time.monotonic()
    with app.test_client() as client:
        for i in range(TICKETS):
            point = offset(KEPANJEN, rng.uniform(-4000, 4000), rng.uniform(-4000, 4000))
            body = ticket_payload(
                location={"lat": point[0], "lon": point[1]},
                priority=rng.randint(1, 4),
                summary=f"load {i}",
                category=rng.choice(["theft", "fight", "noise", "assault"]),
            )
            response = client.post("/api/v1/tickets", json=body, headers=dispatcher)
            assert response.status_code == 201, response.get_json()
            time.sleep(0.02)

    try:
        wait_for(
            lambda: finished(app),
            timeout=240,
            interval=0.5,
            message="tickets still waiting for a unit",
        )
    finally:
        stop.set()
        for sim in sims:
            sim.join(10)
    elapsed = time.monotonic() - started

    assert errors == []
    summary = check_invariants(app)
    assert ticket_outcomes_ok(app) == []
    answers = {}
    for sim in sims:
        for k, v in sim.answers.items():
            answers[k] = answers.get(k, 0) + v
    print(
        f"\n{TICKETS} tickets, {UNITS} units, 4 worker processes, {elapsed:.1f} s: "
        f"{summary} answers={answers}"
    )
    # The run exercised every path: accepts, declines and expiries all happened.
    assert summary["tickets"] == TICKETS
    assert summary["assignment_status"].get("declined", 0) > 0
    assert summary["assignment_status"].get("expired", 0) > 0
    assert summary["assignment_status"].get("completed", 0) > 0
