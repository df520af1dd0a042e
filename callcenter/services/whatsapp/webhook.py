"""The Cloud API's webhook: verification, signatures, and storing what a delivery carries.

A delivery is checked (signature over the raw body with the app secret, then its shape)
before anything is stored, and stored in one transaction: messages (once each: WhatsApp's
message id is unique), delivery reports, the threads they open. Everything slow (media,
automatic answers) is left to tasks, enqueued after the commit, so the webhook answers
within the Cloud API's time budget.

``pywa`` checks the signature (``X-Hub-Signature-256``, HMAC-SHA256 of the body). Its typed
update classes are not used for parsing: they read only the first message of a delivery,
need a client object, and (pywa 4.5) require the 2026 business-scoped user ids on every
contact, so they reject the payloads Meta documents without them. The parser below reads
every entry, change, message and status, and takes the sender from ``from``/``wa_id``.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app
from pywa import utils as wa_utils
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import WaMessage, WaStatus
from ...models.whatsapp import MEDIA_KINDS
from .. import clock, events, phones, queue, sql
from . import outbox, threads

log = logging.getLogger(__name__)

SIGNATURE_HEADER = wa_utils.HUB_SIG  # "X-Hub-Signature-256"
STATUS_TYPES = ("sent", "delivered", "read", "failed")


class Malformed(ValueError):
    """A delivery that is not the Cloud API's shape; ``reason`` never quotes its content."""


def verify_challenge(mode: str | None, token: str | None, challenge: str | None) -> str | None:
    """The challenge to echo when Meta verifies the webhook, or None (refuse it)."""
    expected = current_app.config["CALLCENTER_WA_VERIFY_TOKEN"]
    if not expected or mode != "subscribe" or challenge is None:
        return None
    if not hmac.compare_digest(str(token or ""), expected):
        return None
    return challenge


def signature_valid(body: bytes, header: str | None) -> bool:
    secret = current_app.config["CALLCENTER_WA_APP_SECRET"]
    if not secret or not header:
        return False
    return wa_utils.webhook_updates_validator(
        app_secret=secret, request_body=body, x_hub_signature=header
    )


@dataclass
class Inbound:
    wa_message_id: str
    wa_id: str
    name: str | None
    kind: str
    raw_type: str
    at: datetime | None
    text: str | None = None
    lat: float | None = None
    lon: float | None = None
    place: str | None = None
    media: dict = field(default_factory=dict)


@dataclass
class Report:
    wa_message_id: str
    status: str
    at: datetime
    tracker: str | None
    error_code: str | None
    error_message: str | None


def _str(value, what: str, max_len: int = 128) -> str:
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise Malformed(what)
    return value


def _timestamp(value) -> datetime | None:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _number(value, limit: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Malformed(what)
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise Malformed(what)
    return float(value)


def _optional_text(value, max_len: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:max_len]


def _inbound(msg, names: dict) -> Inbound | None:
    if not isinstance(msg, dict):
        raise Malformed("message is not an object")
    wa_message_id = _str(msg.get("id"), "message id")
    sender = msg.get("from")
    if sender is None:
        # A username-only sender (no phone number): nothing to normalise a thread by.
        log.warning("WhatsApp message without a phone number skipped")
        return None
    sender = _str(sender, "message sender", 32)
    if not sender.isdigit():
        raise Malformed("message sender")
    raw_type = _str(msg.get("type"), "message type", 32)
    item = Inbound(
        wa_message_id=wa_message_id,
        wa_id=sender,
        name=names.get(sender),
        kind=raw_type,
        raw_type=raw_type,
        at=_timestamp(msg.get("timestamp")),
    )
    content = msg.get(raw_type)
    if raw_type == "text":
        if not isinstance(content, dict) or not isinstance(content.get("body"), str):
            raise Malformed("text body")
        item.text = content["body"][:4096]
    elif raw_type == "location":
        if not isinstance(content, dict):
            raise Malformed("location")
        item.lat = _number(content.get("latitude"), 90, "latitude")
        item.lon = _number(content.get("longitude"), 180, "longitude")
        parts = [_optional_text(content.get(k), 200) for k in ("name", "address")]
        item.place = ", ".join(p for p in parts if p)[:300] or None
    elif raw_type in MEDIA_KINDS:
        if not isinstance(content, dict):
            raise Malformed("media")
        item.media = {
            "id": _str(content.get("id"), "media id"),
            "mime": (_optional_text(content.get("mime_type"), 100) or "").split(";")[0].strip(),
            "sha256": _optional_text(content.get("sha256"), 100),
            "filename": _optional_text(content.get("filename"), 200),
        }
        item.text = _optional_text(content.get("caption"), 4096)
    else:
        item.kind = "unsupported"
    return item


def _report(status) -> Report | None:
    if not isinstance(status, dict):
        raise Malformed("status is not an object")
    wa_message_id = _str(status.get("id"), "status message id")
    kind = _str(status.get("status"), "status", 32)
    if kind not in STATUS_TYPES:
        return None  # e.g. "deleted", "played": nothing we show
    error_code = error_message = None
    errs = status.get("errors")
    if isinstance(errs, list) and errs and isinstance(errs[0], dict):
        error_code = str(errs[0].get("code", ""))[:40] or None
        details = errs[0].get("error_data", {})
        details = details.get("details") if isinstance(details, dict) else None
        title = errs[0].get("title") or errs[0].get("message") or ""
        error_message = (f"{title}: {details}" if details else str(title))[:500] or None
    tracker = status.get("biz_opaque_callback_data")
    return Report(
        wa_message_id=wa_message_id,
        status=kind,
        at=_timestamp(status.get("timestamp")) or clock.now(),
        tracker=tracker if isinstance(tracker, str) else None,
        error_code=error_code,
        error_message=error_message,
    )


def parse(body: bytes) -> tuple[list[Inbound], list[Report]]:
    """Every message and delivery report in a delivery; ``Malformed`` if it is not the
    Cloud API's shape. Changes for another business number or other fields are skipped."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Malformed("not JSON") from None
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        raise Malformed("not a WhatsApp Business Account delivery")
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise Malformed("entry is not a list")
    own_number = current_app.config["CALLCENTER_WA_PHONE_NUMBER_ID"]
    inbound: list[Inbound] = []
    reports: list[Report] = []
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            raise Malformed("changes is not a list")
        for change in changes:
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                raise Malformed("change without a value")
            if change.get("field") != "messages":
                continue
            value = change["value"]
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            if own_number and str(metadata.get("phone_number_id", own_number)) != own_number:
                log.info("WhatsApp delivery for another business number skipped")
                continue
            names = {}
            for contact in value.get("contacts") or []:
                if isinstance(contact, dict) and isinstance(contact.get("wa_id"), str):
                    profile = contact.get("profile")
                    name = profile.get("name") if isinstance(profile, dict) else None
                    names[contact["wa_id"]] = _optional_text(name, 120)
            messages = value.get("messages") or []
            statuses = value.get("statuses") or []
            if not isinstance(messages, list) or not isinstance(statuses, list):
                raise Malformed("messages or statuses is not a list")
            inbound.extend(m for m in (_inbound(m, names) for m in messages) if m is not None)
            reports.extend(r for r in (_report(s) for s in statuses) if r is not None)
    return inbound, reports


# --- storing -------------------------------------------------------------------------------


def _allowed_mime(mime: str) -> bool:
    allowed = {
        t.strip().lower() for t in current_app.config["CALLCENTER_WA_MEDIA_TYPES"].split(",")
    }
    return mime.lower() in allowed


def _store_inbound(item: Inbound, now: datetime, stats: dict, after: list) -> None:
    exists = db.session.scalar(
        db.select(WaMessage.id).where(WaMessage.wa_message_id == item.wa_message_id)
    )
    if exists is not None:
        stats["duplicates"] += 1
        return
    phone = phones.normalise("+" + item.wa_id) or "+" + item.wa_id
    thread, created = threads.open_thread_for(phone, item.wa_id, item.name, now)
    if created:
        db.session.flush()
        threads.record("wa.thread_opened", thread, data={"name": thread.profile_name})
        after.append(("react",))
    # The sender's clock may be wrong; never let it open the window in the future.
    sent_at = min(item.at or now, now)

    limit = int(current_app.config["CALLCENTER_WA_FLOOD_PER_MIN"])
    recent = db.session.scalar(
        db.select(db.func.count())
        .select_from(WaMessage)
        .where(
            WaMessage.thread_id == thread.id,
            WaMessage.direction == "in",
            WaMessage.created_at > now - timedelta(seconds=60),
        )
    )
    throttled = recent >= limit
    message = WaMessage(
        thread_id=thread.id,
        direction="in",
        wa_message_id=item.wa_message_id,
        kind=item.kind,
        raw_type=item.raw_type if item.kind == "unsupported" else None,
        text=item.text,
        lat=item.lat,
        lon=item.lon,
        place=item.place,
        wa_timestamp=item.at,
        created_at=now,
        throttled=throttled,
    )
    if item.media:
        message.media_id = item.media["id"]
        message.media_mime = item.media["mime"] or None
        message.media_sha256 = item.media["sha256"]
        message.media_filename = item.media["filename"]
        if throttled:
            message.media_status = "skipped"
        elif item.media["mime"] and not _allowed_mime(item.media["mime"]):
            message.media_status = "rejected"
        else:
            message.media_status = "pending"
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:  # the same message, stored by a concurrent delivery
        stats["duplicates"] += 1
        return
    stats["stored"] += 1
    thread.message_count += 1
    thread.unread += 1
    thread.last_message_at = now
    thread.last_inbound_at = max(thread.last_inbound_at or sent_at, sent_at)
    if thread.waiting_since is None:
        thread.waiting_since = now
    if thread.wa_id != item.wa_id:
        thread.wa_id = item.wa_id
    if throttled:
        stats["throttled"] += 1
        if thread.flooded_at is None or thread.flooded_at < now - timedelta(seconds=60):
            threads.record("wa.thread_flooded", thread, data={"per_minute": limit})
        thread.flooded_at = now
        return
    threads.record(
        "wa.message_received",
        thread,
        data={
            "message_id": message.id,
            "kind": message.kind,
            "name": thread.profile_name,
            "preview": (message.text or "")[:140],
        },
    )
    if message.media_status == "pending":
        after.append(("media", message.id))
    elif message.media_status == "rejected":
        threads.record(
            "wa.media_failed",
            thread,
            data={"message_id": message.id, "status": "rejected", "reason": "type"},
        )


def _store_report(report: Report, stats: dict) -> None:
    row = {
        "wa_message_id": report.wa_message_id,
        "status": report.status,
        "at": report.at,
        "error_code": report.error_code,
        "error_message": report.error_message,
        "received_at": clock.now(),
    }
    before = db.session.scalar(
        db.select(db.func.count())
        .select_from(WaStatus)
        .where(WaStatus.wa_message_id == report.wa_message_id, WaStatus.status == report.status)
    )
    if before:
        stats["duplicates"] += 1
        return
    sql.insert_ignore(WaStatus, row)
    stats["statuses"] += 1
    message = db.session.scalars(
        db.select(WaMessage)
        .where(WaMessage.wa_message_id == report.wa_message_id)
        .with_for_update(of=WaMessage)
    ).one_or_none()
    if message is None and report.tracker and report.tracker.startswith("m"):
        # The Graph API's answer was lost, but the report names our row.
        candidate = db.session.get(WaMessage, _int(report.tracker[1:]))
        if candidate is not None and candidate.direction == "out" and not candidate.wa_message_id:
            candidate.wa_message_id = report.wa_message_id
            message = candidate
    if message is None or message.direction != "out":
        return  # applied when the send task records WhatsApp's id
    stored = db.session.scalars(
        db.select(WaStatus).where(
            WaStatus.wa_message_id == report.wa_message_id, WaStatus.status == report.status
        )
    ).one()
    if outbox.apply_report(message, stored):
        threads.record(
            "wa.status",
            message.thread,
            data={
                "message_id": message.id,
                "status": message.status,
                "error": report.error_code,
            },
        )


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


def ingest(inbound: list[Inbound], reports: list[Report]) -> dict:
    """Store one parsed delivery in one transaction; then hand media and automatic updates
    to the workers. Returns counts: stored, duplicates, throttled, statuses."""
    now = clock.now()
    stats = {"stored": 0, "duplicates": 0, "throttled": 0, "statuses": 0}
    after: list[tuple] = []
    for item in inbound:
        _store_inbound(item, now, stats, after)
    for report in reports:
        _store_report(report, stats)
    for action in after:
        if action[0] == "media":
            message_id = action[1]
            events.after_commit(lambda m=message_id: queue.send("wa_fetch_media", m))
    if any(a[0] == "react" for a in after):
        events.after_commit(lambda: queue.send("wa_react"))
    db.session.commit()
    return stats
