"""Retention: breadcrumbs, idempotency keys, throttle rows and expired tokens are pruned;
audit events are kept at least 365 days. Run by beat through a real worker, too."""

from datetime import timedelta

import pytest

from callcenter import create_app
from callcenter.extensions import db
from callcenter.models import (
    ApiToken,
    Event,
    IdempotencyKey,
    SignInThrottle,
    UnitPosition,
)
from callcenter.services import clock, retention
from tests.helpers import ticket_payload
from tests.system.sim import wait_for


def _age(model, column, ids, delta):
    db.session.execute(
        db.update(model)
        .where(model.__table__.primary_key.columns.values()[0].in_(ids))
        .values({column: clock.now() - delta})
    )


def seed(app, factory, client):
    """Rows on both sides of every retention limit; returns what must stay."""
    unit = factory.unit(callsign="RET-1")
    user = factory.user("dispatcher")
    headers = {"Authorization": f"Bearer {factory.token(user)}"}
    for key in ("old-key", "new-key"):
        response = client.post(
            "/api/v1/tickets",
            json=ticket_payload(summary=key),
            headers={**headers, "Idempotency-Key": key},
        )
        assert response.status_code == 201
    stale_token, recent_expired = factory.token(user), factory.token(user)
    now = clock.now()
    with app.app_context():
        for i, days in enumerate((31, 40, 29, 1)):
            db.session.add(
                UnitPosition(
                    unit_id=unit,
                    lat=-8.1,
                    lon=112.5,
                    recorded_at=now - timedelta(days=days, seconds=i),
                    received_at=now - timedelta(days=days),
                )
            )
        db.session.add_all(
            [
                SignInThrottle(
                    username="old",
                    address="10.0.0.1",
                    failures=2,
                    last_failure_at=now - timedelta(hours=30),
                ),
                # The same name from another address: its old row goes, the lockout stays.
                SignInThrottle(
                    username="locked",
                    address="10.0.0.2",
                    failures=1,
                    last_failure_at=now - timedelta(hours=30),
                ),
                SignInThrottle(
                    username="locked",
                    address="10.0.0.1",
                    failures=0,
                    last_failure_at=now - timedelta(hours=30),
                    locked_until=now + timedelta(minutes=5),
                ),
                SignInThrottle(
                    username="recent", address="10.0.0.1", failures=1, last_failure_at=now
                ),
                Event(type="auth.sign_in_failed", at=now - timedelta(days=400), data={}),
                Event(type="auth.locked_out", at=now - timedelta(days=366), data={}),
                Event(type="auth.sign_in_failed", at=now - timedelta(days=300), data={}),
                Event(type="ticket.note_added", at=now - timedelta(days=800), data={}),
            ]
        )
        key_ids = list(db.session.scalars(db.select(IdempotencyKey.id).order_by(IdempotencyKey.id)))
        _age(IdempotencyKey, "created_at", key_ids[:1], timedelta(hours=25))
        token_ids = list(db.session.scalars(db.select(ApiToken.id).order_by(ApiToken.id)))
        _age(ApiToken, "expires_at", token_ids[-2:-1], timedelta(hours=25))
        _age(ApiToken, "expires_at", token_ids[-1:], timedelta(hours=1))
        db.session.commit()
        db.session.remove()
    return stale_token, recent_expired


def counts(app):
    with app.app_context():
        found = {
            "positions": db.session.scalar(db.select(db.func.count(UnitPosition.id))),
            "keys": sorted(db.session.scalars(db.select(IdempotencyKey.key))),
            "throttle": sorted(db.session.scalars(db.select(SignInThrottle.username))),
            "tokens": db.session.scalar(db.select(db.func.count(ApiToken.id))),
            "sign_in_events": db.session.scalar(
                db.select(db.func.count(Event.id)).where(Event.type.in_(retention.SIGN_IN_EVENTS))
            ),
            "old_note": db.session.scalar(
                db.select(db.func.count(Event.id)).where(Event.type == "ticket.note_added")
            ),
        }
        db.session.remove()
    return found


def test_prune_keeps_what_is_within_its_time(app, factory, client):
    seed(app, factory, client)
    before = counts(app)
    assert before["positions"] == 4 and before["tokens"] == 3
    with app.app_context():
        report = retention.prune()
        db.session.remove()
    assert report == {
        "positions": 2,
        "idempotency_keys": 1,
        "throttle": 2,
        "tokens": 1,
        "sign_in_events": 2,
        "events": 0,
    }
    after = counts(app)
    assert after == {
        "positions": 2,
        "keys": ["new-key"],
        "throttle": ["locked", "recent"],
        "tokens": 2,  # the one expired an hour ago is kept a day, the valid one stays
        "sign_in_events": 1,  # 300 days old: kept
        "old_note": 1,  # other audit events: kept forever by default
    }
    pruned = factory.events("system.pruned")
    assert len(pruned) == 1 and pruned[0].data == report
    with app.app_context():
        assert retention.prune() == dict.fromkeys(report, 0)  # nothing left: not audited
        db.session.remove()
    assert len(factory.events("system.pruned")) == 1


def test_every_audit_event_can_be_given_a_limit_of_a_year_or_more(app, factory, client):
    seed(app, factory, client)
    with app.app_context():
        app.config["CALLCENTER_RETENTION_EVENTS_DAYS"] = 700
        try:
            report = retention.prune()
        finally:
            app.config["CALLCENTER_RETENTION_EVENTS_DAYS"] = 0
        db.session.remove()
    assert report["events"] == 1
    assert counts(app)["old_note"] == 0


@pytest.mark.parametrize(
    "key", ["CALLCENTER_RETENTION_EVENTS_DAYS", "CALLCENTER_RETENTION_SIGN_IN_EVENTS_DAYS"]
)
def test_audit_events_are_never_kept_less_than_a_year(key, tmp_path):
    with pytest.raises(RuntimeError, match="365"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite", key: 90})
    assert create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite", key: 365})


def test_beat_runs_the_prune_on_a_worker(app, factory, client, start_worker):
    assert app.extensions["celery"].conf.beat_schedule["prune"]["task"] == (
        "callcenter.tasks.prune"
    )
    seed(app, factory, client)
    start_worker(concurrency=1, CALLCENTER_RETENTION_EVERY_S=1)
    wait_for(lambda: factory.events("system.pruned"), timeout=30)
    assert counts(app)["positions"] == 2
