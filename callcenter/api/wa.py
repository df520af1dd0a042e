"""The WhatsApp Center for dispatchers: threads, replies, claims, tickets, media."""

from __future__ import annotations

from flask import jsonify, send_file
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import tickets
from ..services.whatsapp import media, outbox, settings, threads
from . import bp, serialize, serialize_wa
from .contract import operation
from .schemas.tickets import Ticket
from .schemas.wa import (
    QuickReply,
    WaClaim,
    WaClose,
    WaMessage,
    WaPinToTicket,
    WaReply,
    WaSettings,
    WaSettingsChange,
    WaThread,
    WaThreadDetail,
    WaThreadMessages,
    WaThreadsQuery,
    WaTicket,
    WaTicketLink,
)

STAFF = ("dispatcher", "supervisor", "admin")
ACTORS = ("dispatcher", "supervisor")


@bp.get("/wa/threads")
@roles_required(*STAFF)
@operation(tag="whatsapp", query=WaThreadsQuery, ok=list[WaThread])
def wa_threads(query: WaThreadsQuery):
    """The conversations: open ones oldest waiting first, then the most recently active."""
    return jsonify(serialize_wa.threads_list(threads.list_threads(query.status, query.limit)))


@bp.get("/wa/threads/<int:thread_id>")
@roles_required(*STAFF)
@operation(tag="whatsapp", ok=WaThreadMessages)
def wa_thread(thread_id: int):
    """A conversation with its messages and the history of its number."""
    return jsonify(serialize_wa.thread_with_messages(threads.get(thread_id)))


@bp.post("/wa/threads/<int:thread_id>/claim")
@roles_required(*ACTORS)
@operation(tag="whatsapp", json=WaClaim, ok=WaThreadDetail, errors=(409,))
def wa_claim(thread_id: int, json: WaClaim):
    """Claim a conversation: only its holder answers it. 409 when another holds it."""
    thread = threads.claim(thread_id, json.data(), actor=current_user)
    return jsonify(serialize_wa.thread_detail(thread))


@bp.post("/wa/threads/<int:thread_id>/release")
@roles_required(*ACTORS)
@operation(tag="whatsapp", ok=WaThreadDetail, errors=(409,))
def wa_release(thread_id: int):
    """Give the conversation back (its holder, or a supervisor)."""
    thread = threads.release(thread_id, actor=current_user)
    return jsonify(serialize_wa.thread_detail(thread))


@bp.post("/wa/threads/<int:thread_id>/read")
@roles_required(*ACTORS)
@operation(tag="whatsapp", ok=WaThreadDetail)
def wa_read(thread_id: int):
    """Mark the conversation as seen: its unread count goes to zero."""
    thread = threads.mark_read(thread_id, actor=current_user)
    return jsonify(serialize_wa.thread_detail(thread))


@bp.post("/wa/threads/<int:thread_id>/messages")
@roles_required(*ACTORS)
@operation(tag="whatsapp", json=WaReply, ok=WaMessage, status=202, errors=(409,))
def wa_reply(thread_id: int, json: WaReply):
    """Answer the reporter: queued, then sent by the worker (the message's `status` follows).

    Claims the conversation. 409 when another dispatcher holds it, or outside WhatsApp's
    24-hour window unless sent as the template (`template: true`)."""
    message = outbox.reply(thread_id, json.data(), actor=current_user)
    return jsonify(serialize_wa.message(message)), 202


@bp.post("/wa/threads/<int:thread_id>/close")
@roles_required(*ACTORS)
@operation(tag="whatsapp", json=WaClose, ok=WaThreadDetail, errors=(409,))
def wa_close(thread_id: int, json: WaClose):
    """Close the conversation, or log it as a prank call (`prank: true`)."""
    thread = threads.close(thread_id, json.data(), actor=current_user)
    return jsonify(serialize_wa.thread_detail(thread))


@bp.post("/wa/threads/<int:thread_id>/ticket")
@roles_required(*ACTORS)
@operation(
    tag="whatsapp",
    json=WaTicket,
    ok=WaTicketLink,
    status=201,
    also={200: WaTicketLink},
    errors=(409,),
)
def wa_ticket(thread_id: int, json: WaTicket):
    """Make a ticket from the conversation (201), or attach it to an open one (200).

    `{ticket_id}` attaches the thread to an open ticket; otherwise the body is an intake
    request (category, priority, summary, location, ...) completed from the thread. 409 when
    the thread already belongs to a ticket or another dispatcher holds it."""
    thread, ticket, created = threads.link_ticket(thread_id, json.data(), actor=current_user)
    body = serialize_wa.ticket_link(thread, ticket, tickets.crew(ticket))
    return jsonify(body), 201 if created else 200


@bp.post("/wa/threads/<int:thread_id>/location")
@roles_required(*ACTORS)
@operation(tag="whatsapp", json=WaPinToTicket, ok=Ticket, errors=(409,))
def wa_location(thread_id: int, json: WaPinToTicket):
    """Make a pin the reporter shared the point of the conversation's ticket.

    Answers the ticket (without its story). 409 before the
    conversation has a ticket."""
    ticket = threads.apply_location(thread_id, json.data(), actor=current_user)
    return jsonify(serialize.ticket(ticket, tickets.crew(ticket)))


@bp.get("/wa/quick-replies")
@roles_required(*STAFF)
@operation(tag="whatsapp", ok=list[QuickReply])
def wa_quick_replies():
    """The ready answers a dispatcher sends with one click."""
    return jsonify(serialize_wa.quick_replies())


@bp.get("/wa/settings")
@roles_required(*STAFF)
@operation(tag="whatsapp", ok=WaSettings)
def wa_settings():
    """Which automatic updates reporters get."""
    return jsonify(serialize_wa.settings(settings.auto()))


@bp.patch("/wa/settings")
@roles_required("supervisor", "admin")
@operation(tag="whatsapp", json=WaSettingsChange, ok=WaSettings)
def wa_settings_change(json: WaSettingsChange):
    """Switch automatic updates on or off (audited)."""
    return jsonify(serialize_wa.settings(settings.set_auto(json.data(), actor=current_user)))


@bp.get("/wa/media/<int:message_id>")
@roles_required(*STAFF)
@operation(tag="whatsapp", content="application/octet-stream")
def wa_media(message_id: int):
    """A reporter's photo, voice note, video or document, from our own storage.

    Served with the media's own type (`image/*`, `audio/*` and `video/*` inline, anything
    else as an attachment)."""
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
