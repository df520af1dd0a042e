"""The times a report needs: ``received_at`` and ``answered_at`` at intake (checked), and the
milestones each ticket keeps as it goes (first offer, the offer that was accepted, first accept,
first unit at the scene, closed), per ticket when several units go; its Polsek."""

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.extensions import db
from callcenter.models import Sector, Ticket
from callcenter.services import routing
from tests.helpers import KEPANJEN, offset, ticket_payload


@pytest.fixture
def dispatcher(factory):
    return factory.headers("dispatcher")


def iso(moment: datetime) -> str:
    return moment.isoformat()


def now() -> datetime:
    return datetime.now(UTC)


def post(client, path, headers, body=None):
    return client.post(path, json=body if body is not None else {}, headers=headers)


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_intake_keeps_when_the_call_rang_and_was_answered(client, dispatcher, factory):
    rang, picked = now() - timedelta(seconds=40), now() - timedelta(seconds=31)
    body = ticket_payload(received_at=iso(rang), answered_at=iso(picked).replace("+00:00", "Z"))
    response = post(client, "/api/v1/tickets", dispatcher, body)
    assert response.status_code == 201, response.get_json()
    t = response.get_json()
    assert parse(t["received_at"]) == rang and parse(t["answered_at"]) == picked
    stored = factory.ticket(t["id"])
    assert stored.received_at == rang and stored.answered_at == picked
    assert stored.created_at >= picked


def test_intake_without_the_times_leaves_them_empty(client, dispatcher, factory):
    t = post(client, "/api/v1/tickets", dispatcher, ticket_payload()).get_json()
    assert t["received_at"] is None and t["answered_at"] is None


def test_a_clock_slightly_ahead_is_taken_as_now(client, dispatcher, factory):
    ahead = now() + timedelta(seconds=10)
    t = post(client, "/api/v1/tickets", dispatcher, ticket_payload(answered_at=iso(ahead)))
    assert t.status_code == 201
    stored = factory.ticket(t.get_json()["id"])
    assert stored.answered_at <= stored.created_at


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"received_at": "kemarin"}, "received_at"),
        ({"answered_at": 1700000000}, "answered_at"),
        ({"answered_at": "2026-01-01T10:00:00"}, "answered_at"),  # no offset
        ({"received_at": "+5min"}, "received_at"),
        ({"answered_at": "+5min"}, "answered_at"),
        ({"received_at": "-2days"}, "received_at"),
        ({"received_at": "-10s", "answered_at": "-20s"}, "answered_at"),
    ],
)
def test_times_that_cannot_be_are_refused_and_nothing_is_stored(
    client, dispatcher, factory, fields, named
):
    shifts = {"+5min": 300, "-2days": -2 * 86400, "-10s": -10, "-20s": -20}
    body = ticket_payload(
        **{
            k: iso(now() + timedelta(seconds=shifts[v])) if v in shifts else v
            for k, v in fields.items()
        }
    )
    response = post(client, "/api/v1/tickets", dispatcher, body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert named in error["fields"]
    assert factory.count(Ticket) == 0


def test_the_refusal_of_a_future_time_is_in_words(client, dispatcher):
    body = ticket_payload(answered_at=iso(now() + timedelta(hours=1)))
    response = client.post(
        "/api/v1/tickets", json=body, headers={**dispatcher, "Accept-Language": "id"}
    )
    assert "masa depan" in response.get_json()["error"]["fields"]["answered_at"]


def test_each_milestone_is_set_once_per_ticket_with_three_units(client, dispatcher, factory):
    """A declined first offer: processing ends at the offer that was accepted, not the first."""
    units = []
    for i in range(4):
        unit_id = factory.unit(callsign=f"KPJ-{i + 1}", point=offset(KEPANJEN, 200 * (i + 1), 0))
        units.append((unit_id, factory.unit_user(unit_id)))
    heads = dict(units)
    t = post(
        client, "/api/v1/tickets", dispatcher, ticket_payload(units_needed=3, category="fight")
    ).get_json()
    factory.run(routing.route_ticket, t["id"])
    offers = factory.assignments(t["id"])
    assert len(offers) == 3
    first_offer_at = min(a.offered_at for a in offers)
    stored = factory.ticket(t["id"])
    assert stored.dispatched_at == first_offer_at and stored.accepted_offer_at is None

    # The nearest declines; the fourth unit is offered that slot later.
    declined = offers[0]
    response = post(
        client,
        f"/api/v1/assignments/{declined.id}/decline",
        heads[declined.unit_id],
        {"reason": "busy"},
    )
    assert response.status_code == 200
    replacement = [a for a in factory.assignments(t["id"]) if a.id not in {o.id for o in offers}]
    assert len(replacement) == 1

    # The replacement accepts first: the ticket's accepted offer is the replacement's.
    post(client, f"/api/v1/assignments/{replacement[0].id}/accept", heads[replacement[0].unit_id])
    stored = factory.ticket(t["id"])
    assert stored.acknowledged_at is not None
    assert stored.accepted_offer_at == replacement[0].offered_at
    assert stored.dispatched_at == first_offer_at  # the first offer stays the first
    first_ack = stored.acknowledged_at

    for a in offers[1:]:
        post(client, f"/api/v1/assignments/{a.id}/accept", heads[a.unit_id])
    stored = factory.ticket(t["id"])
    assert stored.acknowledged_at == first_ack
    assert stored.accepted_offer_at == replacement[0].offered_at

    # The first at the scene sets it; the next does not move it.
    second, third = offers[1], offers[2]
    progress = "/api/v1/assignments/{}/progress"
    post(client, progress.format(third.id), heads[third.unit_id], {"status": "on_scene"})
    on_scene = factory.ticket(t["id"]).on_scene_at
    assert on_scene is not None
    post(client, progress.format(second.id), heads[second.unit_id], {"status": "on_scene"})
    assert factory.ticket(t["id"]).on_scene_at == on_scene

    for a in (second, third, replacement[0]):
        body = {"status": "cleared", "resolution": "handled"}
        assert post(client, progress.format(a.id), heads[a.unit_id], body).status_code == 200
    stored = factory.ticket(t["id"])
    assert stored.status == "closed" and stored.closed_at >= on_scene


def test_a_disposition_is_closed_at_once(client, dispatcher, factory):
    t = post(client, "/api/v1/tickets", dispatcher, {"channel": "phone", "category": "prank"})
    stored = factory.ticket(t.get_json()["id"])
    assert timedelta(0) <= stored.closed_at - stored.created_at < timedelta(seconds=1)
    assert stored.dispatched_at is None and stored.accepted_offer_at is None


def test_the_ticket_belongs_to_the_nearest_polsek(app, client, dispatcher, factory):
    with app.app_context():
        near = Sector(code="KPJ", name="Polsek Kepanjen", lat=KEPANJEN[0], lon=KEPANJEN[1])
        far_point = offset(KEPANJEN, 20_000, 0)
        far = Sector(code="FAR", name="Polsek Jauh", lat=far_point[0], lon=far_point[1])
        db.session.add_all([near, far])
        db.session.commit()
        near_id, far_id = near.id, far.id
        db.session.remove()
    t = post(client, "/api/v1/tickets", dispatcher, ticket_payload()).get_json()
    assert t["sector_id"] == near_id
    moved = offset(KEPANJEN, 19_000, 0)
    response = client.patch(
        f"/api/v1/tickets/{t['id']}",
        json={"location": {"lat": moved[0], "lon": moved[1]}},
        headers=dispatcher,
    )
    assert response.status_code == 200, response.get_json()
    assert factory.ticket(t["id"]).sector_id == far_id
    silent = post(
        client, "/api/v1/tickets", dispatcher, {"channel": "phone", "category": "silent_call"}
    )
    assert silent.get_json()["sector_id"] is None
