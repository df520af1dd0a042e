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
    "assignment.released",
}
# Events that set or change how many units a ticket needs.
NEED = {"ticket.created", "ticket.updated", "ticket.backup_requested"}


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
            # This unit's own progress (other units on the ticket may be further on).
            step = {"accepted": "en_route", "en_route": "on_scene"}.get(
                assignment["step"], "cleared"
            )
            body = {"status": step}
            if step == "cleared":
                body["resolution"] = "handled"
            time.sleep(self.rng.uniform(0.1, 0.4))
            self.call("POST", f"/api/v1/assignments/{aid}/progress", body)


def _needed(event, needed: dict) -> int | None:
    """The units a ticket needs after ``event``, if the event says."""
    data = event.data or {}
    if event.type == "ticket.created":
        return data.get("units_needed", 1)
    if event.type == "ticket.backup_requested":
        return data["units_needed"][1]
    change = (data.get("changes") or {}).get("units_needed")
    return change[1] if change else None


def check_invariants(app) -> dict:
    """Check, replaying the events, that no unit ever held two open offers or assignments at
    once, that no ticket ever held more than it needed or the same unit twice, and that the
    tables agree with the events."""
    with app.app_context():
        events = list(
            db.session.scalars(
                db.select(Event).where(Event.type.in_(OPENING | CLOSING | NEED)).order_by(Event.id)
            )
        )
        assignments = {a.id: a for a in db.session.scalars(db.select(Assignment))}
        tickets = list(db.session.scalars(db.select(Ticket)))
        units = list(db.session.scalars(db.select(Unit)))
        db.session.expunge_all()
        db.session.remove()

    open_by_unit: dict[int, set] = defaultdict(set)
    open_by_ticket: dict[int, dict] = defaultdict(dict)  # assignment id -> unit id
    needed: dict[int, int] = {}
    most = 0
    for e in events:
        if e.type in NEED:
            value = _needed(e, needed)
            if value is not None:
                needed[e.ticket_id] = value
                held = len(open_by_ticket[e.ticket_id])
                assert held <= value, f"ticket {e.ticket_id} holds {held} > {value}: event {e.id}"
            continue
        aid = e.data["assignment_id"]
        if e.type in OPENING:
            on_ticket = open_by_ticket[e.ticket_id]
            assert e.unit_id not in on_ticket.values(), (
                f"unit {e.unit_id} twice on ticket {e.ticket_id}: event {e.id}"
            )
            open_by_unit[e.unit_id].add(aid)
            on_ticket[aid] = e.unit_id
            assert len(open_by_unit[e.unit_id]) == 1, f"unit {e.unit_id} held two: event {e.id}"
            assert len(on_ticket) <= needed.get(e.ticket_id, 1), (
                f"ticket {e.ticket_id} held more than it needs: event {e.id}"
            )
            most = max(most, len(on_ticket))
        else:
            open_by_unit[e.unit_id].discard(aid)
            open_by_ticket[e.ticket_id].pop(aid, None)

    # The tables agree with the replay.
    active = [a for a in assignments.values() if a.status in ("offered", "accepted")]
    assert {a.id for a in active} == set().union(*open_by_unit.values())
    for t in tickets:
        assert t.units_needed == needed.get(t.id, t.units_needed)
        mine = [a for a in active if a.ticket_id == t.id]
        assert len(mine) <= t.units_needed
        assert len({a.slot for a in mine}) == len(mine) and len({a.unit_id for a in mine}) == len(
            mine
        )
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
        "most_units_at_once": most,
        "by_status": _count(t.status for t in tickets),
        "by_units_needed": _count(t.units_needed for t in tickets),
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


def served(ticket, accepted: int, cleared: int) -> bool:
    """Closed, or every unit it needs has accepted it (or cleared it)."""
    return ticket.status == "closed" or accepted + cleared >= ticket.units_needed


def crews(app) -> dict[int, tuple[int, int]]:
    """Per ticket: (accepted units now, units that cleared it)."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    with app.app_context():
        rows = db.session.execute(
            db.select(Assignment.ticket_id, Assignment.status).where(
                Assignment.status.in_(("accepted", "completed"))
            )
        ).all()
        db.session.remove()
    for ticket_id, status in rows:
        counts[ticket_id][0 if status == "accepted" else 1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}


def ticket_outcomes_ok(app) -> list[str]:
    """Every ticket ended served (closed, or all its units accepted or cleared), or with its
    waiting slot explicitly queued with a reason, or escalated."""
    problems = []
    held = crews(app)
    with app.app_context():
        for t in db.session.scalars(db.select(Ticket)):
            accepted, cleared = held.get(t.id, (0, 0))
            if served(t, accepted, cleared):
                continue
            if t.waiting_since is not None and (t.status_reason or t.escalated_at):
                continue
            problems.append(
                f"{t.number}: {t.status} {t.status_reason} {accepted}+{cleared}/{t.units_needed}"
            )
        db.session.remove()
    return problems
