"""Messages to reporters: queued in the database, sent by a task, retried with backoff.

A message is written as ``queued`` and handed to the ``wa_send`` task after the commit. The
task claims it with a conditional update (so two deliveries of the task send it once), calls
the Graph API outside any transaction, and records the outcome: ``accepted`` with
WhatsApp's id, ``retrying`` with the time of the next attempt (timeouts, 5xx, throttling),
or ``failed``/``refused`` with the reason. Retries are due times in the database, which the
periodic sweep enqueues; no countdown message has to survive a restart.

WhatsApp's 24-hour rule: free text only while the reporter's last message is less than
24 hours old; after that only the configured template, its one parameter carrying the text.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import User, WaMessage, WaStatus, WaThread
from ...models.whatsapp import DELIVERY_RANK
from .. import clock, events, queue
from ..errors import Conflict, ValidationError
from ..validation import Errors, unknown_fields
from . import graph, texts, threads

log = logging.getLogger(__name__)
TEXT_MAX = 4096  # WhatsApp's limit for a text message body


def template_configured() -> bool:
    return bool(current_app.config["CALLCENTER_WA_TEMPLATE_NAME"])


def send_after_commit(message_id: int) -> None:
    events.after_commit(lambda: queue.send("wa_send", message_id))


def _new_outbound(thread: WaThread, text: str, *, kind: str = "text", **fields) -> WaMessage:
    now = clock.now()
    message = WaMessage(
        thread_id=thread.id,
        direction="out",
        kind=kind,
        text=text,
        status="queued",
        status_at=now,
        created_at=now,
        **fields,
    )
    db.session.add(message)
    db.session.flush()
    thread.message_count += 1
    thread.last_message_at = now
    return message


def reply(thread_id: int, data: dict, *, actor: User) -> WaMessage:
    """A dispatcher's answer: ``{text}`` or ``{quick_reply: code}``, and ``template: true``
    to send it as the approved template once the 24-hour window has closed."""
    errors = Errors()
    unknown_fields(data, {"text", "quick_reply", "template"}, errors)
    text = data.get("text")
    code = data.get("quick_reply")
    use_template = data.get("template", False)
    if not isinstance(use_template, bool):
        errors.add("template", _l("Must be true or false."))
    if code is not None:
        if text is not None:
            errors.add("text", _l("Send either a text or a quick reply."))
        elif not isinstance(code, str) or texts.quick_reply(code) is None:
            errors.add(
                "quick_reply",
                _l("One of: %(choices)s.", choices=", ".join(texts.QUICK_REPLIES)),
            )
        else:
            text = texts.quick_reply(code)
    elif not isinstance(text, str) or not text.strip():
        errors.add("text", _l("Required."))
    elif len(text.strip()) > TEXT_MAX:
        errors.add("text", _l("At most %(n)s characters.", n=TEXT_MAX))
    if errors:
        raise ValidationError(_l("The message was not sent."), fields=errors)
    text = text.strip()

    thread = threads.hold(thread_id, actor)
    now = clock.now()
    kind = "text"
    if not threads.window_open(thread, now):
        if not use_template:
            raise Conflict(_window_message(thread), code="outside_window")
        if not template_configured():
            raise Conflict(
                _l(
                    "No template is configured (CALLCENTER_WA_TEMPLATE_NAME): outside the "
                    "24-hour window WhatsApp delivers nothing else."
                ),
                code="no_template",
            )
        kind = "template"
    message = _new_outbound(
        thread, text, kind=kind, sender_id=actor.id, quick_reply=code if code else None
    )
    thread.waiting_since = None
    thread.unread = 0
    threads.record(
        "wa.message_queued",
        thread,
        actor=actor,
        data={"message_id": message.id, "kind": kind, "quick_reply": code},
    )
    send_after_commit(message.id)
    db.session.commit()
    return message


def _window_message(thread: WaThread):
    if thread.last_inbound_at is None:
        return _l("The reporter has not written yet: only the template may be sent.")
    closed = clock.to_wib(thread.last_inbound_at + threads.WINDOW)
    return _l(
        "The reporter's last message is more than 24 hours old (the window closed at "
        "%(time)s WIB). WhatsApp only delivers an approved template now: send it with "
        '"template": true.',
        time=closed.strftime("%d-%m %H:%M"),
    )


def queue_automatic(thread: WaThread, auto_kind: str, text: str) -> int | None:
    """Queue an automatic update once per thread and kind (the unique index decides);
    the new message's id, or None when it was queued before."""
    try:
        with db.session.begin_nested():
            message = _new_outbound(thread, text, auto_kind=auto_kind)
    except IntegrityError:
        return None
    threads.record(
        "wa.message_queued",
        thread,
        data={"message_id": message.id, "kind": "text", "auto": auto_kind},
    )
    return message.id


# --- the task's side -----------------------------------------------------------------------


def _claim(message_id: int, now: datetime) -> bool:
    result = db.session.execute(
        db.update(WaMessage)
        .where(
            WaMessage.id == message_id,
            WaMessage.direction == "out",
            WaMessage.status.in_(("queued", "retrying")),
            db.or_(WaMessage.next_attempt_at.is_(None), WaMessage.next_attempt_at <= now),
        )
        .values(status="sending", status_at=now, attempts=WaMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _payload(message: WaMessage, thread: WaThread) -> dict:
    cfg = current_app.config
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": thread.wa_id,
        # Echoed in the delivery reports: ties them to this row even if the answer was lost.
        "biz_opaque_callback_data": f"m{message.id}",
    }
    if message.kind == "template":
        body["type"] = "template"
        body["template"] = {
            "name": cfg["CALLCENTER_WA_TEMPLATE_NAME"],
            "language": {"code": cfg["CALLCENTER_WA_TEMPLATE_LANG"]},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": message.text}]}
            ],
        }
    else:
        body["type"] = "text"
        body["text"] = {"body": message.text, "preview_url": False}
    return body


def send(message_id: int) -> str:
    """Send one queued message (the ``wa_send`` task); safe to run twice. Returns what
    became of it: ``accepted``, ``retrying``, ``failed``, ``refused`` or ``skipped``."""
    now = clock.now()
    if not _claim(message_id, now):
        db.session.rollback()
        return "skipped"
    db.session.commit()
    message = db.session.get(WaMessage, message_id)
    thread = message.thread
    if not threads.window_open(thread, now) and message.kind == "text":
        if template_configured():
            message.kind = "template"  # the window closed while it waited
        else:
            return _finish(
                message_id,
                "refused",
                code="outside_window",
                error="more than 24 hours since the reporter's last message, and no template "
                "is configured (CALLCENTER_WA_TEMPLATE_NAME)",
            )
    payload = _payload(message, thread)
    kind = message.kind
    db.session.commit()
    try:
        wa_message_id = graph.send_message(payload)
    except graph.Transient as exc:
        return _retry_or_fail(message_id, exc)
    except graph.Permanent as exc:
        refused = exc.code == "131047"  # re-engagement: the window had closed after all
        return _finish(
            message_id, "refused" if refused else "failed", code=exc.code, error=exc.message
        )
    return _accepted(message_id, wa_message_id, kind)


def _locked(message_id: int) -> WaMessage:
    return db.session.scalars(
        db.select(WaMessage)
        .where(WaMessage.id == message_id)
        .with_for_update(of=WaMessage)
        .execution_options(populate_existing=True)
    ).one()


def _accepted(message_id: int, wa_message_id: str, kind: str) -> str:
    message = _locked(message_id)
    message.kind = kind
    message.wa_message_id = wa_message_id
    message.error_code = message.error_message = None
    message.next_attempt_at = None
    _set_delivery(message, "accepted", clock.now())
    threads.record(
        "wa.message_sent",
        message.thread,
        data={"message_id": message.id, "attempts": message.attempts, "kind": kind},
    )
    # Delivery reports that overtook the Graph API's answer.
    for report in db.session.scalars(
        db.select(WaStatus).where(WaStatus.wa_message_id == wa_message_id).order_by(WaStatus.id)
    ):
        apply_report(message, report)
    db.session.commit()
    return "accepted"


def backoff_s(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: base, 2x, 4x, ..."""
    base = float(current_app.config["CALLCENTER_WA_RETRY_BASE_S"])
    return min(base * 2 ** max(attempts - 1, 0), 600.0)


def _retry_or_fail(message_id: int, exc: graph.GraphError) -> str:
    message = _locked(message_id)
    if message.attempts >= int(current_app.config["CALLCENTER_WA_SEND_ATTEMPTS"]):
        db.session.rollback()
        return _finish(message_id, "failed", code=exc.code, error=exc.message)
    now = clock.now()
    message.status = "retrying"
    message.status_at = now
    message.next_attempt_at = now + timedelta(seconds=backoff_s(message.attempts))
    message.error_code = exc.code
    message.error_message = exc.message
    threads.record(
        "wa.message_retrying",
        message.thread,
        data={
            "message_id": message.id,
            "attempts": message.attempts,
            "error": exc.code,
            "next_attempt_at": message.next_attempt_at.isoformat(),
        },
    )
    db.session.commit()
    return "retrying"


def _finish(message_id: int, status: str, *, code: str, error: str) -> str:
    message = _locked(message_id)
    message.status = status
    message.status_at = clock.now()
    message.next_attempt_at = None
    message.error_code = code
    message.error_message = error[:500]
    threads.record(
        "wa.message_failed",
        message.thread,
        data={"message_id": message.id, "status": status, "error": code, "message": error[:200]},
    )
    db.session.commit()
    log.warning("WhatsApp message %s %s: %s", message_id, status, code)
    return status


def _set_delivery(message: WaMessage, status: str, at: datetime) -> bool:
    """Move an outgoing message forward to ``status``; False if it is already further."""
    if status == "failed":
        if message.status in ("failed", "refused"):
            return False
        message.status = "failed"
        message.status_at = at
        return True
    if message.status in ("failed", "refused"):
        return False
    field = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at"}.get(status)
    if field and getattr(message, field) is None:
        setattr(message, field, at)
    if DELIVERY_RANK.get(message.status, 0) >= DELIVERY_RANK[status]:
        return False
    message.status = status
    message.status_at = at
    return True


def apply_report(message: WaMessage, report: WaStatus) -> bool:
    """Apply one delivery report to its message; False if it changed nothing."""
    changed = _set_delivery(message, report.status, report.at)
    if report.status == "failed" and changed:
        message.error_code = report.error_code
        message.error_message = report.error_message
    return changed


def due_for_sending(now: datetime, lost_after_s: float) -> list[int]:
    """Messages whose task is due or was lost: retries that are due, queued ones no task
    picked up, and attempts that a crashed worker left in ``sending``."""
    cfg = current_app.config
    stale_sending = now - timedelta(seconds=float(cfg["CALLCENTER_WA_HTTP_TIMEOUT_S"]) * 3 + 30)
    return list(
        db.session.scalars(
            db.select(WaMessage.id)
            .where(
                WaMessage.direction == "out",
                db.or_(
                    db.and_(WaMessage.status == "retrying", WaMessage.next_attempt_at <= now),
                    db.and_(
                        WaMessage.status == "queued",
                        WaMessage.status_at <= now - timedelta(seconds=lost_after_s),
                    ),
                    db.and_(WaMessage.status == "sending", WaMessage.status_at <= stale_sending),
                ),
            )
            .order_by(WaMessage.id)
            .limit(200)
        )
    )


def recover_stale(message_id: int) -> None:
    """A message left in ``sending`` by a worker that died: try it again (WhatsApp may have
    taken it; a report with our reference would have recorded that)."""
    message = _locked(message_id)
    if message.status == "sending":
        message.status = "retrying"
        message.next_attempt_at = clock.now()
        db.session.commit()
    else:
        db.session.rollback()
