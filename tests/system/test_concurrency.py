"""The concurrency invariants under load: 96 tickets (a third of them needing 2 or 3 units),
14 units, 4 worker processes, units accepting, declining and timing out at random.

The size is what two cores carry in about a minute: every unit's device is a thread of this
process, polling through the whole app. The invariants are about races, not volume: the run
must only keep several offers, answers and expiries in flight at once, which this size does
(the summary asserts that every path was taken)."""

import random
import threading
import time

import pytest

from callcenter.extensions import db
from callcenter.models import Ticket
from tests.helpers import KEPANJEN, offset, ticket_payload
from tests.system.sim import (
    UnitSimulator,
    check_invariants,
    crews,
    served,
    ticket_outcomes_ok,
)

TICKETS = 96
UNITS = 14
SETTINGS = {
    "CALLCENTER_OFFER_TIMEOUT_S": 2,
    "CALLCENTER_SWEEP_INTERVAL_S": 0.5,
    "CALLCENTER_POSITION_MAX_AGE_S": 900,
    "CALLCENTER_STUCK_NEW_S": 2,
}


def unfinished(app) -> list[str]:
    """The tickets not yet done with: done is served (all its units accepted or cleared, or
    closed), or a slot of it reached the failed-offer limit and waits for the dispatcher."""
    held = crews(app)
    with app.app_context():
        tickets = list(db.session.scalars(db.select(Ticket)))
        db.session.remove()
    return [
        f"{t.number} {t.status} {held.get(t.id, (0, 0))}/{t.units_needed}"
        for t in tickets
        if not (served(t, *held.get(t.id, (0, 0))) or t.escalation_reason == "max_offers")
    ]


@pytest.mark.timeout(480)  # a hang guard: the run takes 90-150 s on two cores
def test_no_unit_or_ticket_ever_holds_more_than_it_may(
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
                units_needed=(2, 3)[i % 2] if i % 3 == 0 else 1,
            )
            response = client.post("/api/v1/tickets", json=body, headers=dispatcher)
            assert response.status_code == 201, response.get_json()
            time.sleep(0.02)

    intake_s = time.monotonic() - started

    try:
        # Every ticket is offered, answered and worked within a minute or two of the last
        # call (on two cores, shared with other tests); what is still open after four minutes
        # names the tickets it is stuck on.
        deadline = time.monotonic() + 240
        while (left := unfinished(app)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert left == [], f"tickets still waiting for a unit: {left[:20]}"
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
        f"\n{TICKETS} tickets, {UNITS} units, 4 worker processes, {elapsed:.1f} s "
        f"(intake {intake_s:.1f} s): "
        f"{summary} answers={answers}"
    )
    # The run exercised every path: several units on one ticket at once, accepts,
    # declines and expiries.
    assert summary["tickets"] == TICKETS
    assert summary["by_units_needed"] == {1: 64, 2: 16, 3: 16}
    assert summary["most_units_at_once"] == 3
    assert summary["assignment_status"].get("declined", 0) > 0
    assert summary["assignment_status"].get("expired", 0) > 0
    assert summary["assignment_status"].get("completed", 0) > 0
