"""Simulated patrol units and the invariant checks the system tests share."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import defaultdict

from callcenter.extensions import db
from callcenter.models import Assignment, Event, Ticket, Unit

OPENING = {"assignment.offered"}
CLOSING = {
    "assignment.declined",
    "assignment.expired",
    "assignment.cancelled",
    "assignment.completed",
}


def wait_for(predicate, timeout=30.0, interval=0.1, message="condition not met in time"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message)


class UnitSimulator(threading.Thread):
    """One patrol unit's device: polls its assignment and answers at random.

    ``accept``/``decline`` probabilities; the rest of the offers are left to expire. An
    accepted job is worked through en route, on scene and cleared. A unit whose offer expired
    (marked unavailable) signs back in as available after a pause.
    """

    def __init__(
        self,
        app,
        headers: dict,
        seed: int,
        *,
        accept=0.6,
        decline=0.25,
        stop: threading.Event,
        errors: list,
    ):
        super().__init__(daemon=True)
        self.app = app
        self.headers = headers
        self.rng = random.Random(seed)
        self.accept_p, self.decline_p = accept, decline
        self.stop_event = stop
        self.errors = errors
        self.ignored: set[int] = set()
        self.answers = defaultdict(int)

    def call(self, method, path, body=None, ok=(200, 201, 204, 409)):
        with self.app.test_client() as c:
            response = c.open(path, method=method, json=body, headers=self.headers)
        if response.status_code not in ok:
            self.errors.append((method, path, response.status_code, response.get_data(True)))
        return response

    def run(self):
        while not self.stop_event.is_set():
            try:
                self.step()
            except Exception as exc:  # recorded, the test fails on it
                self.errors.append(("exception", repr(exc)))
            time.sleep(self.rng.uniform(0.05, 0.2))

    def step(self):
        state = self.call("GET", "/api/v1/units/me/assignment").get_json()
        unit, assignment = state["unit"], state["assignment"]
        if assignment is None:
            if unit["status"] == "unavailable":
                time.sleep(self.rng.uniform(0.2, 0.6))
                self.call("PUT", "/api/v1/units/me/status", {"status": "available"})
            return
        aid = assignment["id"]
        if assignment["status"] == "offered" and aid not in self.ignored:
            roll = self.rng.random()
            if roll < self.accept_p:
                time.sleep(self.rng.uniform(0, 0.3))
                r = self.call("POST", f"/api/v1/assignments/{aid}/accept")
                self.answers["accept" if r.status_code == 200 else "accept_late"] += 1
            elif roll < self.accept_p + self.decline_p:
                self.call("POST", f"/api/v1/assignments/{aid}/decline", {"reason": "busy"})
                self.answers["decline"] += 1
            else:
                self.ignored.add(aid)  # let it expire
                self.answers["ignore"] += 1
        elif assignment["status"] == "accepted":
            step = {"acknowledged": "en_route", "en_route": "on_scene"}.get(
                state["ticket"]["status"], "cleared"
            )
            body = {"status": step}
            if step == "cleared":
                body["resolution"] = "handled"
            time.sleep(self.rng.uniform(0.1, 0.4))
            self.call("POST", f"/api/v1/assignments/{aid}/progress", body)


def check_invariants(app) -> dict:
    """Check, from the events and the tables, that no unit and no ticket ever held two open
    offers or assignments at once, and that the tables agree with the events."""
    with app.app_context():
        events = list(
            db.session.scalars(
                db.select(Event).where(Event.type.in_(OPENING | CLOSING)).order_by(Event.id)
            )
        )
        assignments = {a.id: a for a in db.session.scalars(db.select(Assignment))}
        tickets = list(db.session.scalars(db.select(Ticket)))
        units = list(db.session.scalars(db.select(Unit)))
        db.session.expunge_all()
        db.session.remove()

    open_by_unit: dict[int, set] = defaultdict(set)
    open_by_ticket: dict[int, set] = defaultdict(set)
    for e in events:
        aid = e.data["assignment_id"]
        if e.type in OPENING:
            open_by_unit[e.unit_id].add(aid)
            open_by_ticket[e.ticket_id].add(aid)
            assert len(open_by_unit[e.unit_id]) == 1, f"unit {e.unit_id} held two: event {e.id}"
            assert len(open_by_ticket[e.ticket_id]) == 1, (
                f"ticket {e.ticket_id} had two: event {e.id}"
            )
        else:
            open_by_unit[e.unit_id].discard(aid)
            open_by_ticket[e.ticket_id].discard(aid)

    # The tables agree with the replay.
    active = [a for a in assignments.values() if a.status in ("offered", "accepted")]
    assert {a.id for a in active} == set().union(*open_by_unit.values())
    # Intervals per unit never overlap.
    by_unit = defaultdict(list)
    for a in assignments.values():
        by_unit[a.unit_id].append(a)
    for rows in by_unit.values():
        rows.sort(key=lambda a: a.offered_at)
        for before, after in itertools.pairwise(rows):
            assert before.ended_at is not None and before.ended_at <= after.offered_at, (
                before.id,
                after.id,
            )
    # A unit marked busy has exactly its one open assignment, and the reverse.
    busy = {u.id for u in units if u.status in ("dispatched", "en_route", "on_scene")}
    assert busy == {a.unit_id for a in active}
    return {
        "tickets": len(tickets),
        "assignments": len(assignments),
        "offers": sum(1 for e in events if e.type == "assignment.offered"),
        "by_status": _count(t.status for t in tickets),
        "assignment_status": _count(a.status for a in assignments.values()),
    }


def _count(values) -> dict:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return dict(out)


def settled(app) -> bool:
    """No ticket waits for routing: none is ``new``, and none is ``dispatched`` with an
    offer whose answer is still awaited."""
    with app.app_context():
        waiting = db.session.scalar(
            db.select(db.func.count()).select_from(Ticket).where(Ticket.status == "new")
        )
        db.session.remove()
    return waiting == 0


def ticket_outcomes_ok(app) -> list[str]:
    """Every ticket ended acknowledged (or further), or explicitly queued/escalated."""
    problems = []
    with app.app_context():
        for t in db.session.scalars(db.select(Ticket)):
            if t.acknowledged_at is not None:
                continue
            if t.status == "queued" and (t.status_reason or t.escalated_at):
                continue
            problems.append(f"{t.number}: {t.status} {t.status_reason}")
        db.session.remove()
    return problems
