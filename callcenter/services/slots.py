"""What a ticket holds: its units, the slots still to be offered, and the status that follows.

A ticket needs ``units_needed`` units. Each active assignment (offered or accepted) holds one
numbered slot. A completed assignment (the unit cleared) has served its slot; a declined,
expired, cancelled or released one frees it. So the slots still to be offered are
``units_needed - active - completed``, and a ticket is *short* while fewer units than it
needs have accepted (or cleared).

Automatic routing offers a ticket to a unit only once: not again after the unit declined,
let the offer expire, was released by the dispatcher or cleared its part. An offer the
center withdrew (the unit was pulled to another job) does not count against the unit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..extensions import db
from ..models import Assignment, Emergency, Ticket
from ..models.assignment import ACTIVE_STATUSES, FAILED_STATUSES
from . import clock, state

# Units that have been on the ticket and left it: not offered it again automatically.
LEFT_STATUSES = (*FAILED_STATUSES, "released", "completed")
# How far a unit is, in order; the ticket takes the status of its most advanced unit.
STEP_RANK = {"offered": 0, "accepted": 1, "en_route": 2, "on_scene": 3}
TICKET_STATUS = {"accepted": "acknowledged", "en_route": "en_route", "on_scene": "on_scene"}
KEEP = object()  # follow_units: keep the reason a slot waits, if one still does


@dataclass
class Crew:
    """A ticket's active assignments (by slot) and how many units have cleared it."""

    ticket: Ticket
    active: list[Assignment] = field(default_factory=list)
    completed: int = 0

    @property
    def accepted(self) -> list[Assignment]:
        return [a for a in self.active if a.status == "accepted"]

    @property
    def offered(self) -> list[Assignment]:
        return [a for a in self.active if a.status == "offered"]

    @property
    def to_fill(self) -> int:
        """Slots that no unit holds or has served: routing offers these."""
        return max(0, self.ticket.units_needed - len(self.active) - self.completed)

    @property
    def short(self) -> bool:
        return (
            self.ticket.is_open and len(self.accepted) + self.completed < self.ticket.units_needed
        )

    def free_slots(self) -> list[int]:
        """Slot numbers no active assignment holds, lowest first."""
        held = {a.slot for a in self.active}
        return [n for n in range(1, self.ticket.units_needed + 1) if n not in held]

    def unit_ids(self) -> set[int]:
        return {a.unit_id for a in self.active}

    def lead(self) -> Assignment | None:
        """The most advanced active unit (the earliest to get there on a tie), or None."""
        if not self.active:
            return None
        return max(self.active, key=lambda a: (STEP_RANK[a.step], -a.slot))


def crew_of(ticket: Ticket, *, lock: bool = False) -> Crew:
    """The ticket's crew; ``lock`` locks its active assignments (after the ticket's lock)."""
    query = (
        db.select(Assignment)
        .where(Assignment.ticket_id == ticket.id, Assignment.status.in_(ACTIVE_STATUSES))
        .order_by(Assignment.slot)
    )
    if lock:
        query = query.with_for_update(of=Assignment).execution_options(populate_existing=True)
    active = list(db.session.scalars(query))
    completed = db.session.scalar(
        db.select(db.func.count())
        .select_from(Assignment)
        .where(Assignment.ticket_id == ticket.id, Assignment.status == "completed")
    )
    return Crew(ticket, active, completed)


def crews(tickets: list[Ticket]) -> dict[int, Crew]:
    """The crews of several tickets, in two queries (for lists)."""
    by_id = {t.id: Crew(t) for t in tickets}
    if not by_id:
        return by_id
    rows = db.session.scalars(
        db.select(Assignment)
        .where(
            Assignment.ticket_id.in_(by_id),
            Assignment.status.in_((*ACTIVE_STATUSES, "completed")),
        )
        .order_by(Assignment.slot, Assignment.id)
    )
    for a in rows:
        crew = by_id[a.ticket_id]
        if a.status == "completed":
            crew.completed += 1
        else:
            crew.active.append(a)
    return by_id


def ineligible_units(ticket: Ticket) -> set[int]:
    """Units routing must not offer this ticket: those that left it, and the officer in
    danger on their own emergency."""
    units = set(
        db.session.scalars(
            db.select(Assignment.unit_id).where(
                Assignment.ticket_id == ticket.id, Assignment.status.in_(LEFT_STATUSES)
            )
        )
    )
    in_danger = db.session.scalar(
        db.select(Emergency.unit_id).where(Emergency.ticket_id == ticket.id)
    )
    if in_danger is not None:
        units.add(in_danger)
    return units


def failures_by_slot(ticket_id: int) -> Counter:
    """Declined or expired offers of the ticket, counted per slot."""
    return Counter(
        db.session.scalars(
            db.select(Assignment.slot).where(
                Assignment.ticket_id == ticket_id, Assignment.status.in_(FAILED_STATUSES)
            )
        )
    )


def compact(crew: Crew, limit: int) -> None:
    """Move active assignments holding a slot above ``limit`` into free slots below it (the
    caller made sure they fit), and flush, so that ``units_needed`` may then be lowered."""
    free = [n for n in range(1, limit + 1) if n not in {a.slot for a in crew.active}]
    for a in sorted(crew.active, key=lambda a: a.slot):
        if a.slot > limit:
            a.slot = free.pop(0)
    db.session.flush()


def follow_units(
    ticket: Ticket, crew: Crew, *, reason=KEEP, actor=None, unit=None, data: dict | None = None
) -> bool:
    """Set the ticket's status from its units, with its audit event; False if unchanged.

    ``dispatched`` while it only has offers; ``acknowledged``, ``en_route`` or ``on_scene``
    after its most advanced accepted unit; ``queued`` when nothing is active and a slot waits
    for a unit. ``reason`` says why a slot waits (KEEP: the reason already recorded); with
    no slot waiting there is no reason. ``waiting_since`` follows the same rule. A ticket
    whose every slot is served keeps its status: closing it is the caller's decision.
    """
    lead = crew.lead()
    if lead is not None and lead.status == "accepted":
        to = TICKET_STATUS[lead.step]
    elif lead is not None:
        to = "dispatched"
    elif crew.to_fill > 0:
        to = "queued"
    else:
        to = ticket.status
    if crew.to_fill > 0:
        if reason is KEEP:
            reason = ticket.status_reason
        if ticket.waiting_since is None:
            ticket.waiting_since = clock.now()
    else:
        reason = None
        ticket.waiting_since = None
    return state.set_ticket_status(ticket, to, reason=reason, actor=actor, unit=unit, data=data)
