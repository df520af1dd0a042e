"""Tickets: intake, lists, detail, and the dispatcher's actions on one ticket."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import (
    accounts,
    callbacks,
    calls,
    catalog,
    catalog_settings,
    emergency,
    events,
    handoffs,
    incidents,
    intake,
    manual,
    notes,
    phones,
    search,
    tickets,
    units,
)
from ..services.errors import ValidationError
from ..services.whatsapp import threads as wa_threads
from . import (
    bp,
    json_body,
    page_args,
    serialize,
    serialize_calls,
    serialize_followups,
    serialize_wa,
)

STAFF = ("dispatcher", "supervisor", "admin")


def ticket_body(ticket) -> dict:
    return serialize.ticket(ticket, tickets.crew(ticket))


@bp.get("/categories")
@roles_required()
def categories():
    return jsonify([c.to_json() for c in catalog_settings.categories()])


@bp.post("/tickets")
@roles_required("dispatcher", "supervisor")
def create_ticket():
    data = json_body()
    if isinstance(data, dict) and "attach_to" in data:
        return _attached_at_intake(data)
    ticket, created = intake.create_ticket(
        data, actor=current_user, idempotency_key=request.headers.get("Idempotency-Key")
    )
    response = jsonify(ticket_body(ticket))
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _attached_at_intake(data):
    """Intake with ``attach_to``: the call joins that ticket and dispatches nothing."""
    ticket, call, created = calls.attach_at_intake(
        data, actor=current_user, idempotency_key=request.headers.get("Idempotency-Key")
    )
    body = ticket_body(ticket) | {"call": serialize_calls.call(call) if call else None}
    response = jsonify(body)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/tickets/possible-duplicate")
@roles_required(*STAFF)
def possible_duplicate():
    """``?category=&lat=&lon=``: the open ticket a call being typed may be about, so that
    intake can attach the call to it instead of dispatching again (``ticket`` or null)."""
    ticket = calls.possible_duplicate(request.args)
    return jsonify({"ticket": serialize_calls.duplicate(ticket) if ticket else None})


@bp.post("/tickets/<int:ticket_id>/calls")
@roles_required("dispatcher", "supervisor")
def attach_call(ticket_id: int):
    """A call about this ticket's incident: a new one ``{channel, caller, text,
    received_at?}``, or
    ``{call_id}`` of another ticket's call. 201 with the ticket and the call."""
    data = json_body()
    if isinstance(data, dict) and "call_id" in data:
        ticket, call = calls.move(ticket_id, data, actor=current_user)
    else:
        ticket, call = calls.attach_new(ticket_id, data, actor=current_user)
    return jsonify(ticket_body(ticket) | {"call": serialize_calls.call(call)}), 201


@bp.post("/calls/<int:call_id>/split")
@roles_required("dispatcher", "supervisor")
def split_call(call_id: int):
    """Split a call off into a new ticket (routed as usual); optional ``{category,
    priority, summary, location, units_needed}``, else the old ticket's. 201 with the new
    ticket."""
    _, ticket = calls.split(call_id, json_body(), actor=current_user)
    response = jsonify(ticket_body(ticket))
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    return response, 201


@bp.post("/tickets/<int:ticket_id>/notes")
@roles_required("dispatcher", "supervisor", "unit")
def add_note(ticket_id: int):
    """``{text}``: a running note, from the command center or a unit on the ticket."""
    unit = units.unit_of(current_user) if current_user.role == "unit" else None
    note = notes.add(ticket_id, json_body(), actor=current_user, unit=unit)
    return jsonify(serialize_calls.note(note)), 201


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
    body["calls"] = serialize_calls.calls(calls.calls_of(ticket.id))
    body["notes"] = [serialize_calls.note(n) for n in notes.notes_of(ticket.id)]
    body["whatsapp"] = serialize_wa.ticket_story(wa_threads.ticket_story(ticket.id))
    body["handoffs"] = [serialize_followups.handoff(h) for h in handoffs.of_ticket(ticket.id)]
    tasks = callbacks.of_ticket(ticket.id)
    body["callbacks"] = serialize_followups.callbacks(tasks, callbacks.details(tasks))
    return jsonify(body)


@bp.post("/callers/history")
@roles_required(*STAFF)
def caller_history_lookup():
    """``{"phone": ...}``: the intake screen asks this as soon as a number is typed. The
    number travels in the body, so it never reaches an access log or a proxy's."""
    data = json_body()
    unknown = set(data) - {"phone"}
    if unknown:
        raise ValidationError(
            _l("Unknown field."), fields={k: _l("Unknown field.") for k in unknown}
        )
    phone = data.get("phone")
    return _caller_history(phone if isinstance(phone, str) else "")


@bp.get("/callers/history")
@roles_required(*STAFF)
def caller_history():
    """``?phone=``: the older form (the access log redacts the number); prefer the POST."""
    return _caller_history(request.args.get("phone", ""))


def _caller_history(raw: str):
    e164 = phones.normalise(raw)
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
