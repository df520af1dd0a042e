"""Media a reporter sent: looked up and downloaded from the Graph API by a task, kept on our
own server, served to staff only.

WhatsApp's media URLs need the access token and expire, so a screen never links to them:
the ``wa_fetch_media`` task stores the file under ``CALLCENTER_WA_MEDIA_DIR`` (a folder
every web host reads), refusing types outside ``CALLCENTER_WA_MEDIA_TYPES`` and files over
``CALLCENTER_WA_MEDIA_MAX_BYTES`` (checked against what the Graph API says and again while
downloading). Timeouts and 5xx are retried with backoff, then the media is marked failed.
"""

from __future__ import annotations

import logging
import mimetypes
import os
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import WaMessage
from .. import clock
from ..errors import NotFound
from . import graph, threads
from .outbox import backoff_s

log = logging.getLogger(__name__)
_EXTENSIONS = {"audio/ogg": ".ogg", "image/jpeg": ".jpg", "audio/mpeg": ".mp3"}


def media_dir() -> str:
    configured = current_app.config["CALLCENTER_WA_MEDIA_DIR"]
    return configured or os.path.join(current_app.instance_path, "wa-media")


def allowed(mime: str | None) -> bool:
    types = current_app.config["CALLCENTER_WA_MEDIA_TYPES"].split(",")
    return bool(mime) and mime.lower() in {t.strip().lower() for t in types}


def _claim(message_id: int, now) -> bool:
    result = db.session.execute(
        db.update(WaMessage)
        .where(
            WaMessage.id == message_id,
            WaMessage.media_status.in_(("pending", "retrying")),
            db.or_(WaMessage.next_attempt_at.is_(None), WaMessage.next_attempt_at <= now),
        )
        .values(media_status="fetching", status_at=now, attempts=WaMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _locked(message_id: int) -> WaMessage:
    return db.session.scalars(
        db.select(WaMessage)
        .where(WaMessage.id == message_id)
        .with_for_update(of=WaMessage)
        .execution_options(populate_existing=True)
    ).one()


def _relative_path(message: WaMessage, mime: str, sha256: str) -> str:
    extension = _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ".bin"
    month = clock.to_wib(message.created_at).strftime("%Y%m")
    return os.path.join(month, f"{message.id:08d}-{sha256[:16]}{extension}")


def fetch(message_id: int) -> str:
    """Fetch one message's media (the ``wa_fetch_media`` task); safe to run twice.
    Returns ``stored``, ``rejected``, ``retrying``, ``failed`` or ``skipped``."""
    cfg = current_app.config
    now = clock.now()
    if not _claim(message_id, now):
        db.session.rollback()
        return "skipped"
    db.session.commit()
    message = db.session.get(WaMessage, message_id)
    media_id = message.media_id
    max_bytes = int(cfg["CALLCENTER_WA_MEDIA_MAX_BYTES"])
    db.session.commit()
    partial = None
    try:
        info = graph.media_info(media_id)
        mime = str(info.get("mime_type") or message.media_mime or "").split(";")[0].strip()
        if not allowed(mime):
            return _finish(message_id, "rejected", f"type {mime or 'unknown'} is not allowed")
        size = info.get("file_size")
        if isinstance(size, int) and size > max_bytes:
            return _finish(message_id, "rejected", f"{size} bytes, over {max_bytes}")
        folder = media_dir()
        os.makedirs(folder, exist_ok=True)
        partial = os.path.join(folder, f".{message_id}.part")
        size, sha256 = graph.download(info["url"], partial, max_bytes)
        expected = info.get("sha256") or message.media_sha256
        if expected and expected.lower() != sha256:
            return _finish(message_id, "failed", "the file's SHA-256 does not match")
        relative = _relative_path(message, mime, sha256)
        os.makedirs(os.path.dirname(os.path.join(folder, relative)), exist_ok=True)
        os.replace(partial, os.path.join(folder, relative))
        partial = None
    except graph.TooLarge:
        return _finish(message_id, "rejected", f"over {max_bytes} bytes")
    except graph.Transient as exc:
        return _retry_or_fail(message_id, exc)
    except graph.Permanent as exc:
        return _finish(message_id, "failed", f"{exc.code}: {exc.message}")
    finally:
        if partial and os.path.exists(partial):
            os.remove(partial)
    return _stored(message_id, relative, mime, size, sha256)


def _stored(message_id: int, relative: str, mime: str, size: int, sha256: str) -> str:
    message = _locked(message_id)
    message.media_status = "stored"
    message.media_path = relative
    message.media_mime = mime
    message.media_size = size
    message.media_sha256 = sha256
    message.next_attempt_at = None
    message.error_message = None
    threads.record(
        "wa.media_stored",
        message.thread,
        data={"message_id": message.id, "kind": message.kind, "mime": mime, "size": size},
    )
    db.session.commit()
    return "stored"


def _retry_or_fail(message_id: int, exc: graph.GraphError) -> str:
    message = _locked(message_id)
    if message.attempts >= int(current_app.config["CALLCENTER_WA_SEND_ATTEMPTS"]):
        db.session.rollback()
        return _finish(message_id, "failed", f"{exc.code}: {exc.message}")
    message.media_status = "retrying"
    message.next_attempt_at = clock.now() + timedelta(seconds=backoff_s(message.attempts))
    message.error_message = f"{exc.code}: {exc.message}"[:500]
    db.session.commit()
    return "retrying"


def _finish(message_id: int, status: str, reason: str) -> str:
    message = _locked(message_id)
    message.media_status = status
    message.next_attempt_at = None
    message.error_message = reason[:500]
    threads.record(
        "wa.media_failed",
        message.thread,
        data={"message_id": message.id, "status": status, "reason": reason[:200]},
    )
    db.session.commit()
    log.warning("WhatsApp media of message %s %s: %s", message_id, status, reason)
    return status


def due_for_fetching(now, lost_after_s: float) -> list[int]:
    """Media whose retry is due, or whose task was lost (pending, or a fetch that a dead
    worker left behind)."""
    cfg = current_app.config
    stale = now - timedelta(seconds=float(cfg["CALLCENTER_WA_HTTP_TIMEOUT_S"]) * 6 + 60)
    rows = db.session.execute(
        db.select(WaMessage.id, WaMessage.media_status)
        .where(
            db.or_(
                db.and_(WaMessage.media_status == "retrying", WaMessage.next_attempt_at <= now),
                db.and_(
                    WaMessage.media_status == "pending",
                    WaMessage.created_at <= now - timedelta(seconds=lost_after_s),
                ),
                db.and_(WaMessage.media_status == "fetching", WaMessage.status_at <= stale),
            )
        )
        .order_by(WaMessage.id)
        .limit(100)
    ).all()
    for message_id, status in rows:
        if status == "fetching":
            message = _locked(message_id)
            if message.media_status == "fetching":
                message.media_status = "retrying"
                message.next_attempt_at = now
            db.session.commit()
    return [message_id for message_id, _status in rows]


def file_for(message_id: int) -> tuple[str, str, str | None]:
    """``(absolute path, mime type, original file name)`` of stored media, for serving."""
    message = db.session.get(WaMessage, message_id)
    if message is None or message.media_status != "stored" or not message.media_path:
        raise NotFound(_l("No stored media for this message."))
    folder = os.path.realpath(media_dir())
    path = os.path.realpath(os.path.join(folder, message.media_path))
    if not path.startswith(folder + os.sep) or not os.path.isfile(path):
        raise NotFound(_l("No stored media for this message."))
    return path, message.media_mime or "application/octet-stream", message.media_filename
