"""Demo data: Polres Malang (Kabupaten Malang, headquarters at Kepanjen), its Polsek sectors
at their approximate positions, patrol units spread over them, one user per role."""

from __future__ import annotations

import logging
import random

from flask import current_app

from ..extensions import db
from ..models import Sector, Unit, User
from . import clock, credentials, events, locator

log = logging.getLogger(__name__)

# (code, Polsek, lat, lon): station positions, approximate.
SECTORS = (
    ("KPJ", "Polsek Kepanjen", -8.1306, 112.5722),
    ("PKS", "Polsek Pakisaji", -8.0667, 112.5972),
    ("SBP", "Polsek Sumberpucung", -8.1567, 112.4833),
    ("KRM", "Polsek Kromengan", -8.1281, 112.5011),
    ("NGJ", "Polsek Ngajum", -8.0961, 112.5442),
    ("WGR", "Polsek Wagir", -8.0333, 112.5667),
    ("DAU", "Polsek Dau", -7.9347, 112.5842),
    ("KRP", "Polsek Karangploso", -7.9000, 112.6000),
    ("SGS", "Polsek Singosari", -7.8944, 112.6647),
    ("LWG", "Polsek Lawang", -7.8339, 112.6944),
    ("PAK", "Polsek Pakis", -7.9597, 112.7181),
    ("JBG", "Polsek Jabung", -7.9458, 112.7667),
    ("TMP", "Polsek Tumpang", -8.0042, 112.7583),
    ("PCK", "Polsek Poncokusumo", -8.0433, 112.8000),
    ("WJK", "Polsek Wajak", -8.1139, 112.7381),
    ("TJN", "Polsek Tajinan", -8.0553, 112.6906),
    ("BLW", "Polsek Bululawang", -8.0808, 112.6383),
    ("GDL", "Polsek Gondanglegi", -8.1750, 112.6378),
    ("PGL", "Polsek Pagelaran", -8.1917, 112.6000),
    ("TRN", "Polsek Turen", -8.1672, 112.6961),
    ("DMP", "Polsek Dampit", -8.2117, 112.7497),
    ("APG", "Polsek Ampelgading", -8.2500, 112.8833),
    ("TYD", "Polsek Tirtoyudo", -8.2750, 112.8167),
    ("SMW", "Polsek Sumbermanjing Wetan", -8.2833, 112.6833),
    ("GDG", "Polsek Gedangan", -8.2667, 112.6333),
    ("BTR", "Polsek Bantur", -8.3167, 112.5833),
    ("DNM", "Polsek Donomulyo", -8.2833, 112.4167),
    ("KLP", "Polsek Kalipare", -8.1917, 112.4333),
    ("PGK", "Polsek Pagak", -8.2417, 112.5167),
    ("KSB", "Polsek Kasembon", -7.8167, 112.3167),
    ("NGT", "Polsek Ngantang", -7.8700, 112.3617),
    ("PJN", "Polsek Pujon", -7.8428, 112.4619),
)
# Sectors with a second unit (busier areas).
SECOND_UNIT = ("KPJ", "SGS", "LWG", "TRN", "GDL", "PAK")
DEMO_PASSWORD = "demo-110-malang"  # noqa: S105  (demo data only, printed by the run command)
DEMO_USERS = (
    ("dispatcher", "dispatcher", "Operator 110 Polres Malang", None),
    ("supervisor", "supervisor", "Kepala SPKT Polres Malang", None),
    ("admin", "admin", "Admin Sistem Polres Malang", None),
    ("unit", "unit", "Patroli Kepanjen 1", "KPJ-1"),
)


def seed(*, available: bool = True) -> dict:
    """Create the demo data if it is not there yet; returns what was created.

    Units start ``available`` at their station (with a fresh position) so that calls can be
    routed at once; each unit also gets a sign-in named after its callsign.
    """
    if current_app.config["CALLCENTER_ENV"] == "production":
        raise RuntimeError(
            "seed-demo refuses to run with CALLCENTER_ENV=production: its accounts share "
            "a published password"
        )
    created = {"sectors": 0, "units": 0, "users": 0}
    if db.session.scalar(db.select(db.func.count()).select_from(Sector)):
        return created
    rng = random.Random(110)
    now = clock.now()
    for code, name, lat, lon in SECTORS:
        sector = Sector(code=code, name=name, lat=lat, lon=lon)
        db.session.add(sector)
        db.session.flush()
        created["sectors"] += 1
        for n in (1, 2) if code in SECOND_UNIT else (1,):
            kind = "car" if n == 1 and rng.random() < 0.6 else "motorcycle"
            ulat = lat + rng.uniform(-0.01, 0.01)
            ulon = lon + rng.uniform(-0.01, 0.01)
            unit = Unit(
                callsign=f"{code}-{n}",
                name=f"{'Mobil' if kind == 'car' else 'Motor'} Patroli {name[7:]} {n}",
                kind=kind,
                sector_id=sector.id,
                status="available" if available else "off_duty",
                lat=ulat,
                lon=ulon,
                accuracy_m=15.0,
                position_at=now,
                position_updated_at=now,
            )
            db.session.add(unit)
            db.session.flush()
            events.record("unit.created", unit=unit, data={"callsign": unit.callsign, "demo": True})
            locator.unit_changed(unit.id, unit.status, unit.lat, unit.lon)
            created["units"] += 1
    db.session.flush()
    password_hash = credentials.hash_password(DEMO_PASSWORD)
    units = {u.callsign: u for u in db.session.scalars(db.select(Unit))}
    users = list(DEMO_USERS) + [
        (callsign.lower(), "unit", unit.name, callsign)
        for callsign, unit in sorted(units.items())
        if callsign != "KPJ-1"
    ]
    for username, role, full_name, callsign in users:
        db.session.add(
            User(
                username=username,
                role=role,
                full_name=full_name,
                password_hash=password_hash,
                unit_id=units[callsign].id if callsign else None,
            )
        )
        created["users"] += 1
    db.session.commit()
    return created


def simulate_step(
    rng: random.Random, *, answer: bool = True, leave_alone: tuple[str, ...] = ("KPJ-1",)
) -> dict:
    """One tick of the demo's patrol units: each on-duty unit reports a position near its
    station and, with ``answer``, works its offers like an officer would (accept or decline
    after a few seconds, drive, arrive, clear). Units in ``leave_alone`` are left to a
    person on the unit screen. Goes through the same services as the real devices."""
    from ..models import Assignment
    from . import lifecycle, state, units

    now = clock.now()
    done = {"positions": 0, "answers": 0}
    users = {u.unit_id: u for u in db.session.scalars(db.select(User).where(User.role == "unit"))}
    for unit in list(db.session.scalars(db.select(Unit).where(Unit.status != "off_duty"))):
        if unit.callsign in leave_alone or unit.id not in users:
            continue
        actor = users[unit.id]
        station = unit.sector
        if station is not None and station.lat is not None:
            lat = station.lat + rng.uniform(-0.02, 0.02)
            lon = station.lon + rng.uniform(-0.02, 0.02)
            units.report_position(
                unit, {"lat": lat, "lon": lon, "accuracy_m": 12.0, "recorded_at": now.isoformat()}
            )
            done["positions"] += 1
        if not answer:
            continue
        unit = db.session.get(Unit, unit.id)
        active: Assignment | None = state.active_assignment(unit.id)
        db.session.rollback()
        try:
            if active is None:
                if unit.status == "unavailable" and (now - unit.status_changed_at).seconds > 30:
                    lifecycle.set_own_status(unit, {"status": "available"}, actor=actor)
                    done["answers"] += 1
                continue
            waited = (now - active.offered_at).total_seconds()
            if active.status == "offered" and waited > rng.uniform(3, 10):
                if rng.random() < 0.85:
                    lifecycle.accept(active.id, unit=unit, actor=actor)
                else:
                    lifecycle.decline(active.id, {"reason": "busy"}, unit=unit, actor=actor)
                done["answers"] += 1
            elif active.status == "accepted":
                reached = active.on_scene_at or active.en_route_at or active.responded_at
                since = (now - reached).total_seconds()
                step = {
                    "accepted": ("en_route", 5),
                    "en_route": ("on_scene", 40),
                    "on_scene": ("cleared", 60),
                }.get(active.step)
                if step and since > step[1] * rng.uniform(0.7, 1.5):
                    body = {"status": step[0]}
                    if step[0] == "cleared":
                        body.update(resolution="handled", note="Situasi kondusif.")
                    lifecycle.progress(active.id, body, unit=unit, actor=actor)
                    done["answers"] += 1
        except Exception as exc:  # a late answer races a dispatcher; the next tick retries
            db.session.rollback()
            log.info("demo unit %s: %s", unit.callsign, exc)
    return done
