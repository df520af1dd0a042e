"""The WhatsApp Center for dispatchers: threads, replies, claims, tickets, media."""

from __future__ import annotations

from flask import jsonify, request, send_file
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import intake, tickets
from ..services.whatsapp import media, outbox, settings, texts, threads
from . import bp, json_body, page_args, serialize, serialize_wa

STAFF = ("dispatcher", "supervisor", "admin")
ACTORS = ("dispatcher", "supervisor")


def _thread_body(thread_id: int) -> dict:
    thread = threads.get(thread_id)
    history = intake.caller_history(thread.phone)
    body = serialize_wa.thread(
        thread,
        counts=(history["calls"], history["pranks"]),
        last=threads.last_messages([thread.id]).get(thread.id),
    )
    body["caller_history"] = serialize.caller_history(history)
    return body


@bp.get("/wa/threads")
@roles_required(*STAFF)
def wa_threads():
    """``?status=open|closed|all&limit=``: open ones oldest waiting first."""
    limit, _after = page_args()
    status = threads.parse_status(request.args.get("status"))
    return jsonify(serialize_wa.threads_list(threads.list_threads(status, limit)))


@bp.get("/wa/threads/<int:thread_id>")
@roles_required(*STAFF)
def wa_thread(thread_id: int):
    body = _thread_body(thread_id)
    body["messages"] = [serialize_wa.message(m) for m in threads.messages([thread_id])]
    return jsonify(body)


@bp.post("/wa/threads/<int:thread_id>/claim")
@roles_required(*ACTORS)
def wa_claim(thread_id: int):
    threads.claim(thread_id, json_body() if request.data else {}, actor=current_user)
    return jsonify(_thread_body(thread_id))


@bp.post("/wa/threads/<int:thread_id>/release")
@roles_required(*ACTORS)
def wa_release(thread_id: int):
    threads.release(thread_id, actor=current_user)
    return jsonify(_thread_body(thread_id))


@bp.post("/wa/threads/<int:thread_id>/read")
@roles_required(*ACTORS)
def wa_read(thread_id: int):
    threads.mark_read(thread_id, actor=current_user)
    return jsonify(_thread_body(thread_id))


@bp.post("/wa/threads/<int:thread_id>/messages")
@roles_required(*ACTORS)
def wa_reply(thread_id: int):
    message = outbox.reply(thread_id, json_body(), actor=current_user)
    return jsonify(serialize_wa.message(message)), 202


@bp.post("/wa/threads/<int:thread_id>/close")
@roles_required(*ACTORS)
def wa_close(thread_id: int):
    threads.close(thread_id, json_body() if request.data else {}, actor=current_user)
    return jsonify(_thread_body(thread_id))


@bp.post("/wa/threads/<int:thread_id>/ticket")
@roles_required(*ACTORS)
def wa_ticket(thread_id: int):
    """``{ticket_id}`` attaches the thread to an open ticket; otherwise the body is an
    intake request (category, priority, summary, location, ...) completed from the thread."""
    _thread, ticket, created = threads.link_ticket(thread_id, json_body(), actor=current_user)
    body = {
        "thread": _thread_body(thread_id),
        "ticket": serialize.ticket(ticket, tickets.crew(ticket)),
    }
    return jsonify(body), 201 if created else 200


@bp.post("/wa/threads/<int:thread_id>/location")
@roles_required(*ACTORS)
def wa_location(thread_id: int):
    """``{message_id}``: a pin of this thread becomes its ticket's point."""
    ticket = threads.apply_location(thread_id, json_body(), actor=current_user)
    return jsonify(serialize.ticket(ticket, tickets.crew(ticket)))


@bp.get("/wa/quick-replies")
@roles_required(*STAFF)
def wa_quick_replies():
    return jsonify(
        [
            {"code": code, "text": text, "label": str(label)}
            for code, (text, label) in texts.QUICK_REPLIES.items()
        ]
    )


@bp.get("/wa/settings")
@roles_required(*STAFF)
def wa_settings():
    """Which automatic updates reporters get: ``{auto: {ack, en_route, closed}}``."""
    return jsonify({"auto": settings.auto()})


@bp.patch("/wa/settings")
@roles_required("supervisor", "admin")
def wa_settings_change():
    """``{ack?, en_route?, closed?}``: switch automatic updates on or off (audited)."""
    return jsonify({"auto": settings.set_auto(json_body(), actor=current_user)})


@bp.get("/wa/media/<int:message_id>")
@roles_required(*STAFF)
def wa_media(message_id: int):
    """A reporter's photo, voice note, video or document, from our own storage."""
    path, mime, filename = media.file_for(message_id)
    inline = mime.startswith(("image/", "audio/", "video/"))
    response = send_file(
        path,
        mimetype=mime,
        as_attachment=not inline,
        download_name=filename or None,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
