"""The demo data and the simulated demo units."""

import random
from datetime import timedelta

from callcenter.extensions import db
from callcenter.models import Assignment, Sector, Unit, UnitPosition, User
from callcenter.services import clock, demo, routing


def test_seed_polres_malang_once(app, factory):
    created = factory.run(demo.seed)
    assert created == {"sectors": 32, "units": 38, "users": 41}
    assert factory.run(demo.seed) == {"sectors": 0, "units": 0, "users": 0}
    with app.app_context():
        roles = set(db.session.scalars(db.select(User.role)))
        kepanjen = db.session.scalars(db.select(Sector).where(Sector.code == "KPJ")).one()
        kinds = set(db.session.scalars(db.select(Unit.kind)))
        unit_user = db.session.scalars(db.select(User).where(User.username == "unit")).one()
        db.session.remove()
    assert roles == {"dispatcher", "supervisor", "admin", "unit"}
    assert (round(kepanjen.lat, 2), round(kepanjen.lon, 2)) == (-8.13, 112.57)
    assert kinds == {"car", "motorcycle"}
    assert unit_user.unit.callsign == "KPJ-1"


def test_simulated_units_move_and_answer(app, factory, client):
    factory.run(demo.seed)
    headers = factory.headers("dispatcher")
    ticket = client.post(
        "/api/v1/tickets",
        headers=headers,
        json={
            "channel": "phone",
            "category": "theft",
            "location": {"lat": -7.8944, "lon": 112.6647},
        },
    ).get_json()  # Singosari: not KPJ-1's area
    factory.run(routing.route_ticket, ticket["id"])
    with app.app_context():
        offer = db.session.scalars(db.select(Assignment)).one()
        offer.offered_at = clock.now() - timedelta(seconds=30)
        db.session.commit()
        db.session.remove()
    done = factory.run(demo.simulate_step, random.Random(1))
    assert done["positions"] == 37  # every unit but KPJ-1
    assert done["answers"] >= 1
    answered = factory.assignments(ticket["id"])[0]
    assert answered.status in ("accepted", "declined")
    assert factory.count(UnitPosition) == 37
