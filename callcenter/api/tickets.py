"""Tickets: intake, lists, detail, and the dispatcher's actions on one ticket."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import (
    accounts,
    callbacks,
    catalog,
    emergency,
    events,
    handoffs,
    incidents,
    intake,
    manual,
    phones,
    search,
    tickets,
)
from ..services.errors import ValidationError
from ..services.whatsapp import threads as wa_threads
from . import bp, json_body, page_args, serialize, serialize_followups, serialize_wa

STAFF = ("dispatcher", "supervisor", "admin")


def ticket_body(ticket) -> dict:
    return serialize.ticket(ticket, tickets.crew(ticket))


@bp.get("/categories")
@roles_required()
def categories():
    return jsonify([c.to_json() for c in catalog.CATEGORIES])


@bp.post("/tickets")
@roles_required("dispatcher", "supervisor")
def create_ticket():
    data = json_body()
    ticket, created = intake.create_ticket(
        data, actor=current_user, idempotency_key=request.headers.get("Idempotency-Key")
    )
    response = jsonify(ticket_body(ticket))
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/tickets")
@roles_required(*STAFF)
def list_tickets():
    """Without search parameters: tickets in id order after ``after``. With any of ``q, from,
    to, category, sector, unit, cursor``: a search, newest first, paged by ``cursor`` (the
    next one is in the ``X-Next-Cursor`` header and a ``Link: rel="next"``)."""
    limit, after = page_args()
    next_cursor = None
    if search.wanted(request.args):
        if after is not None:
            raise ValidationError(
                _l("Invalid query parameters."),
                fields={"after": _l("A search pages with cursor, not after.")},
            )
        rows, next_cursor = search.find(search.parse(request.args), limit)
    else:
        statuses = tickets.parse_statuses(request.args.get("status"))
        rows = tickets.list_tickets(statuses, limit, after)
    crews = tickets.crews(rows)
    response = jsonify([serialize.ticket(t, crews[t.id]) for t in rows])
    if next_cursor is not None:
        args = request.args.to_dict() | {"cursor": str(next_cursor)}
        response.headers["X-Next-Cursor"] = str(next_cursor)
        response.headers["Link"] = f'<{url_for(".list_tickets", **args)}>; rel="next"'
    return response


@bp.get("/tickets/<int:ticket_id>")
@roles_required(*STAFF)
def get_ticket(ticket_id: int):
    ticket = tickets.get(ticket_id)
    body = ticket_body(ticket)
    body["assignments"] = [serialize.assignment(a) for a in tickets.assignments_of(ticket.id)]
    rows = events.for_ticket(ticket.id)
    users = accounts.users_by_id(e.actor_id for e in rows)
    body["timeline"] = serialize.timeline(rows, users)
    body["whatsapp"] = serialize_wa.ticket_story(wa_threads.ticket_story(ticket.id))
    body["handoffs"] = [serialize_followups.handoff(h) for h in handoffs.of_ticket(ticket.id)]
    tasks = callbacks.of_ticket(ticket.id)
    body["callbacks"] = serialize_followups.callbacks(tasks, callbacks.details(tasks))
    return jsonify(body)


@bp.get("/callers/history")
@roles_required(*STAFF)
def caller_history():
    """``?phone=``: the intake screen asks this as soon as a number is typed."""
    e164 = phones.normalise(request.args.get("phone", ""))
    if e164 is None:
        raise ValidationError(
            _l("Not a valid phone number."), fields={"phone": _l("Not a valid phone number.")}
        )
    return jsonify(serialize.caller_history(intake.caller_history(e164)))


@bp.post("/tickets/<int:ticket_id>/assign")
@roles_required("dispatcher", "supervisor")
def assign(ticket_id: int):
    data = json_body()
    unknown = set(data) - {"unit_id", "confirm"}
    if unknown:
        raise ValidationError(
            _l("Unknown field."), fields={k: _l("Unknown field.") for k in unknown}
        )
    assignment = manual.assign(
        ticket_id, data.get("unit_id"), actor=current_user, confirm=data.get("confirm") is True
    )
    body = ticket_body(tickets.get(ticket_id))
    body["offered"] = serialize.assignment(assignment)
    return jsonify(body), 201


@bp.get("/tickets/<int:ticket_id>/suggestions")
@roles_required(*STAFF)
def suggestions(ticket_id: int):
    return jsonify(manual.suggest_units(ticket_id))


@bp.post("/tickets/<int:ticket_id>/cancel")
@roles_required("dispatcher", "supervisor")
def cancel(ticket_id: int):
    ticket = incidents.cancel(ticket_id, json_body(), actor=current_user)
    return jsonify(ticket_body(ticket))


@bp.post("/tickets/<int:ticket_id>/close")
@roles_required("dispatcher", "supervisor")
def close(ticket_id: int):
    ticket = incidents.close(ticket_id, json_body(), actor=current_user)
    return jsonify(ticket_body(ticket))


@bp.patch("/tickets/<int:ticket_id>")
@roles_required("dispatcher", "supervisor")
def edit(ticket_id: int):
    ticket = incidents.edit(ticket_id, json_body(), actor=current_user)
    return jsonify(ticket_body(ticket))


@bp.post("/tickets/<int:ticket_id>/alarm/ack")
@roles_required("dispatcher", "supervisor")
def acknowledge_alarm(ticket_id: int):
    """An officer's alarm, acknowledged: consoles stop sounding it."""
    return jsonify(ticket_body(emergency.acknowledge(ticket_id, actor=current_user)))


@bp.get("/resolutions")
@roles_required()
def resolutions():
    return jsonify([{"code": k, "label": v} for k, v in catalog.RESOLUTIONS.items()])
