"""Retention: what is pruned, and when. Run by beat every ``CALLCENTER_RETENTION_EVERY_S``.

- breadcrumbs (``unit_positions``) older than ``CALLCENTER_RETENTION_POSITIONS_DAYS``;
- ``Idempotency-Key`` records older than ``CALLCENTER_RETENTION_IDEMPOTENCY_H``;
- sign-in throttle rows with no lockout in force and no failure for
  ``CALLCENTER_RETENTION_THROTTLE_H``;
- API tokens ``CALLCENTER_RETENTION_TOKENS_H`` past their expiry;
- failed sign-ins and lockouts (events anyone can cause without an account) after
  ``CALLCENTER_RETENTION_SIGN_IN_EVENTS_DAYS``, and every other audit event after
  ``CALLCENTER_RETENTION_EVENTS_DAYS`` when set; both 365 days at least (config.py refuses
  less), and the second is 0, forever, by default: the events are the tickets' records.

Rows go in batches of ``BATCH``, each its own short transaction, so that on SQLite a
prune never holds the write lock for long. The prune itself is audited.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..models import ApiToken, Event, IdempotencyKey, SignInThrottle, UnitPosition
from . import clock, events

BATCH = 2000
SIGN_IN_EVENTS = ("auth.sign_in_failed", "auth.locked_out")


def _delete_batches(model, *conditions) -> int:
    """Delete the rows matching ``conditions``, ``BATCH`` at a time; commits each batch."""
    key = model.__table__.primary_key.columns.values()[0]
    total = 0
    while True:
        ids = list(db.session.scalars(db.select(key).where(*conditions).limit(BATCH)))
        if not ids:
            db.session.rollback()
            return total
        # The conditions again: a key may be one column of several (sign-in throttle rows
        # are per username and address), and only the rows that match may go.
        db.session.execute(db.delete(model).where(key.in_(ids), *conditions))
        db.session.commit()
        total += len(ids)


def prune() -> dict:
    """Delete what is past its retention; returns the counts per kind (audited when any)."""
    cfg = current_app.config
    now = clock.now()
    days, hours = (lambda n: timedelta(days=n)), (lambda n: timedelta(hours=n))
    report = {
        "positions": _delete_batches(
            UnitPosition,
            UnitPosition.received_at < now - days(cfg["CALLCENTER_RETENTION_POSITIONS_DAYS"]),
        ),
        "idempotency_keys": _delete_batches(
            IdempotencyKey,
            IdempotencyKey.created_at < now - hours(cfg["CALLCENTER_RETENTION_IDEMPOTENCY_H"]),
        ),
        "throttle": _delete_batches(
            SignInThrottle,
            db.or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until < now),
            db.or_(
                SignInThrottle.last_failure_at.is_(None),
                SignInThrottle.last_failure_at
                < now - hours(cfg["CALLCENTER_RETENTION_THROTTLE_H"]),
            ),
        ),
        "tokens": _delete_batches(
            ApiToken, ApiToken.expires_at < now - hours(cfg["CALLCENTER_RETENTION_TOKENS_H"])
        ),
        "sign_in_events": _delete_batches(
            Event,
            Event.type.in_(SIGN_IN_EVENTS),
            Event.at < now - days(cfg["CALLCENTER_RETENTION_SIGN_IN_EVENTS_DAYS"]),
        ),
        "events": 0,
    }
    if cfg["CALLCENTER_RETENTION_EVENTS_DAYS"]:
        report["events"] = _delete_batches(
            Event,
            Event.type != "system.pruned",
            Event.at < now - days(cfg["CALLCENTER_RETENTION_EVENTS_DAYS"]),
        )
    if any(report.values()):
        events.record("system.pruned", data=report)
        db.session.commit()
    return report
