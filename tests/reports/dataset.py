"""A hand-made set of tickets whose report figures are known (worked out in test_kpis.py).

Times are WIB on 10 and 11 March 2026; every milestone is written as the lifecycle would
have written it. The boundaries are on purpose: an answer in exactly 10 s and one in
10.000001 s, processing in exactly 60 s, a unit at the scene exactly 10 minutes after the
call, a declined first offer, a cancelled ticket, pranks from one number, a 3-unit ticket,
an incident found on patrol, and calls just outside the range.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from callcenter.extensions import db
from callcenter.models import Assignment, Sector, Ticket, Unit
from callcenter.services import clock

FROM, TO = "2026-03-10", "2026-03-11"
PRANKSTER = "+6281100000001"


def wib(day: int, hour: int, minute: int = 0, second: float = 0) -> datetime:
    base = datetime(2026, 3, day, hour, minute, tzinfo=clock.WIB)
    return base + timedelta(seconds=second)


def build(app) -> dict:
    """Write the set; returns the ids: ``{"sectors": {...}, "units": {...}, "tickets": {...}}``."""
    with app.app_context():
        s1 = Sector(code="KPJ", name="Polsek Kepanjen", lat=-8.13, lon=112.57)
        s2 = Sector(code="PKS", name="Polsek Pakisaji", lat=-8.07, lon=112.6)
        db.session.add_all([s1, s2])
        db.session.flush()
        units = {}
        for name in ("KPJ-1", "KPJ-2", "KPJ-3", "KPJ-4"):
            unit = Unit(callsign=name, name=name, status="available")
            db.session.add(unit)
            db.session.flush()
            units[name] = unit.id
        tickets: dict[str, Ticket] = {}
        seq = iter(range(1, 100))

        def ticket(key, at, category, **fields):
            fields.setdefault("channel", "phone")
            fields.setdefault("priority", 3)
            fields.setdefault("status", "closed")
            t = Ticket(
                number=f"110-T-{next(seq):05d}",
                category=category,
                created_at=at,
                updated_at=at,
                status_changed_at=at,
                **fields,
            )
            db.session.add(t)
            db.session.flush()
            tickets[key] = t
            return t

        def offer(t, unit, at, status, *, responded=None, on_scene=None, slot=1):
            db.session.add(
                Assignment(
                    ticket_id=t.id,
                    unit_id=units[unit],
                    slot=slot,
                    status=status,
                    offered_at=at,
                    deadline_at=at + timedelta(seconds=45),
                    responded_at=responded,
                    on_scene_at=on_scene,
                )
            )

        # A: answered in exactly 10 s, processed in exactly 60 s, on scene exactly 10 min
        # after the call rang.
        t0 = wib(10, 8)
        a = ticket(
            "A",
            t0 + timedelta(seconds=20),
            "theft",
            sector_id=s1.id,
            received_at=t0,
            answered_at=t0 + timedelta(seconds=10),
            dispatched_at=t0 + timedelta(seconds=70),
            accepted_offer_at=t0 + timedelta(seconds=70),
            acknowledged_at=t0 + timedelta(seconds=100),
            on_scene_at=t0 + timedelta(seconds=600),
            closed_at=t0 + timedelta(seconds=1800),
        )
        offer(
            a,
            "KPJ-1",
            t0 + timedelta(seconds=70),
            "completed",
            responded=t0 + timedelta(seconds=100),
            on_scene=t0 + timedelta(seconds=600),
        )

        # B: the first offer (19 s after the answer) was declined; the accepted one came
        # 69 s after the answer: processing misses 60 s. On scene after 700 s.
        t0 = wib(10, 9)
        b = ticket(
            "B",
            t0 + timedelta(seconds=15),
            "assault",
            priority=2,
            sector_id=s1.id,
            received_at=t0,
            answered_at=t0 + timedelta(seconds=11),
            dispatched_at=t0 + timedelta(seconds=30),
            accepted_offer_at=t0 + timedelta(seconds=80),
            acknowledged_at=t0 + timedelta(seconds=90),
            on_scene_at=t0 + timedelta(seconds=700),
            closed_at=t0 + timedelta(seconds=2000),
        )
        offer(
            b, "KPJ-2", t0 + timedelta(seconds=30), "declined", responded=t0 + timedelta(seconds=40)
        )
        offer(
            b,
            "KPJ-3",
            t0 + timedelta(seconds=80),
            "completed",
            responded=t0 + timedelta(seconds=90),
            on_scene=t0 + timedelta(seconds=700),
        )

        # C: three units, no phone times (the answer is when it was logged); one offer
        # expired and its slot went to a fourth unit. The first to accept was offered at
        # +5 s; the first at the scene arrived at +300 s.
        t0 = wib(10, 10)
        c = ticket(
            "C",
            t0,
            "fight",
            priority=2,
            units_needed=3,
            sector_id=s2.id,
            dispatched_at=t0 + timedelta(seconds=5),
            accepted_offer_at=t0 + timedelta(seconds=5),
            acknowledged_at=t0 + timedelta(seconds=20),
            on_scene_at=t0 + timedelta(seconds=300),
            closed_at=t0 + timedelta(seconds=3000),
        )
        five = t0 + timedelta(seconds=5)
        offer(
            c,
            "KPJ-1",
            five,
            "completed",
            slot=1,
            responded=t0 + timedelta(seconds=20),
            on_scene=t0 + timedelta(seconds=400),
        )
        offer(
            c,
            "KPJ-2",
            five,
            "completed",
            slot=2,
            responded=t0 + timedelta(seconds=25),
            on_scene=t0 + timedelta(seconds=300),
        )
        offer(c, "KPJ-4", five, "expired", slot=3)
        offer(
            c,
            "KPJ-3",
            t0 + timedelta(seconds=50),
            "completed",
            slot=3,
            responded=t0 + timedelta(seconds=55),
            on_scene=t0 + timedelta(seconds=500),
        )

        # D: cancelled after its offer was withdrawn; its answer time still counts.
        t0 = wib(10, 11)
        d = ticket(
            "D",
            t0 + timedelta(seconds=8),
            "theft",
            status="cancelled",
            sector_id=s1.id,
            received_at=t0,
            answered_at=t0 + timedelta(seconds=5),
            dispatched_at=t0 + timedelta(seconds=10),
            closed_at=t0 + timedelta(seconds=60),
        )
        offer(d, "KPJ-4", t0 + timedelta(seconds=10), "cancelled")

        # E: answered in 10.000001 s (misses), still waiting for a unit.
        t0 = wib(10, 12)
        ticket(
            "E",
            t0 + timedelta(seconds=12),
            "theft",
            status="queued",
            sector_id=s2.id,
            received_at=t0,
            answered_at=t0 + timedelta(seconds=10, microseconds=1),
        )

        # F: found by a unit on patrol: not a call, not measured.
        t0 = wib(10, 13)
        f = ticket(
            "F",
            t0,
            "theft",
            channel="on_view",
            dispatched_at=t0,
            accepted_offer_at=t0,
            acknowledged_at=t0,
            on_scene_at=t0,
            closed_at=t0 + timedelta(seconds=900),
        )
        offer(f, "KPJ-2", t0, "completed", responded=t0, on_scene=t0)

        # Calls that are not incidents.
        t0 = wib(10, 8, 30)
        ticket(
            "P1",
            t0 + timedelta(seconds=3),
            "prank",
            caller_phone=PRANKSTER,
            received_at=t0,
            answered_at=t0 + timedelta(seconds=3),
        )
        ticket("P2", wib(10, 9, 30), "prank", caller_phone=PRANKSTER, channel="whatsapp")
        ticket("P3", wib(11, 0), "prank", caller_phone=PRANKSTER)  # midnight WIB: the 11th
        ticket("P4", wib(10, 14), "prank", caller_phone="+6281100000002")
        ticket("S", wib(10, 14, 30), "silent_call")
        ticket("W", wib(10, 15), "wrong_number")
        ticket("I", wib(10, 23, 30), "information")  # 16:30 UTC: still the 10th in WIB
        # Just outside the range.
        ticket("X1", wib(9, 23, 59, 59.999999), "prank", caller_phone=PRANKSTER)
        ticket("X2", wib(12, 0), "prank", caller_phone=PRANKSTER)
        db.session.commit()
        ids = {
            "sectors": {"S1": s1.id, "S2": s2.id},
            "units": units,
            "tickets": {key: t.id for key, t in tickets.items()},
        }
        db.session.remove()
        return ids
