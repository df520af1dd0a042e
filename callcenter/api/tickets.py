"""Tickets: intake, lists, detail, and the dispatcher's actions on one ticket."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user

from ..auth.decorators import roles_required
from ..services import (
    calls,
    catalog_settings,
    emergency,
    incidents,
    intake,
    manual,
    notes,
    search,
    story,
    tickets,
    units,
)
from . import bp, serialize, serialize_calls
from .contract import operation
from .schemas.story import TicketDetail
from .schemas.tickets import (
    Assigned,
    AssignIn,
    CallerHistory,
    CallIn,
    CancelIn,
    Category,
    CloseIn,
    DuplicateQuery,
    Intake,
    Note,
    NoteIn,
    PhoneIn,
    PhoneQuery,
    PossibleDuplicate,
    Resolution,
    SplitIn,
    Suggestion,
    Ticket,
    TicketEdit,
    TicketIn,
    TicketsQuery,
    TicketWithCall,
)

STAFF = ("dispatcher", "supervisor", "admin")


def ticket_body(ticket) -> dict:
    return serialize.ticket(ticket, tickets.crew(ticket))


@bp.get("/categories")
@roles_required()
@operation(tag="tickets", ok=list[Category])
def categories():
    """The incident categories a call is logged under, with their defaults.

    The non-dispatch dispositions (prank, silent call, information, wrong number, dropped)
    have `dispatch: false`: a ticket logged with one is closed at once and never routed."""
    return jsonify([serialize.category(c) for c in catalog_settings.categories()])


@bp.post("/tickets")
@roles_required("dispatcher", "supervisor")
@operation(
    tag="tickets",
    json=TicketIn,
    ok=Intake,
    status=201,
    also={200: Intake},
    errors=(404, 409),
    idempotent=True,
)
def create_ticket(json: TicketIn):
    """Log a call: a new ticket (routed unless a disposition), or with `attach_to` a call
    on that open ticket.

    201 with the ticket (`Location` names it); a retry with the same `Idempotency-Key`
    answers 200 with the first ticket (`Idempotent-Replayed: true`) and changes nothing.
    The same key with a different body is refused (422 `idempotency_key_reused`)."""
    data = json.data()
    if "attach_to" in data:
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
@operation(tag="tickets", query=DuplicateQuery, ok=PossibleDuplicate)
def possible_duplicate(query: DuplicateQuery):
    """The open ticket a call being typed may be about (same category, near, recent).

    Intake asks before logging, so that the call can be attached to it (`attach_to`)
    instead of dispatching again; `ticket` is null when there is none."""
    ticket = calls.possible_duplicate(query.data())
    return jsonify({"ticket": serialize_calls.duplicate(ticket) if ticket else None})


@bp.post("/tickets/<int:ticket_id>/calls")
@roles_required("dispatcher", "supervisor")
@operation(tag="tickets", json=CallIn, ok=TicketWithCall, status=201, errors=(404, 409))
def attach_call(ticket_id: int, json: CallIn):
    """Attach a call about this ticket's incident.

    A new call `{channel, caller, text, received_at?}`, or `{call_id}` of another ticket's
    call. Nothing is dispatched. 201 with the ticket and the call."""
    data = json.data()
    if "call_id" in data:
        ticket, call = calls.move(ticket_id, data, actor=current_user)
    else:
        ticket, call = calls.attach_new(ticket_id, data, actor=current_user)
    return jsonify(ticket_body(ticket) | {"call": serialize_calls.call(call)}), 201


@bp.post("/calls/<int:call_id>/split")
@roles_required("dispatcher", "supervisor")
@operation(tag="tickets", json=SplitIn, ok=Ticket, status=201, errors=(404, 409))
def split_call(call_id: int, json: SplitIn):
    """Split a call off into a new ticket (routed as usual).

    Each field left out is the old ticket's. 201 with the new ticket."""
    _, ticket = calls.split(call_id, json.data(), actor=current_user)
    response = jsonify(ticket_body(ticket))
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    return response, 201


@bp.post("/tickets/<int:ticket_id>/notes")
@roles_required("dispatcher", "supervisor", "unit")
@operation(tag="tickets", json=NoteIn, ok=Note, status=201, errors=(404,))
def add_note(ticket_id: int, json: NoteIn):
    """Add a running note, from the command center or a unit on the ticket.

    Every unit on the ticket sees it on its stream."""
    unit = units.unit_of(current_user) if current_user.role == "unit" else None
    note = notes.add(ticket_id, json.data(), actor=current_user, unit=unit)
    return jsonify(serialize_calls.note(note)), 201


@bp.get("/tickets")
@roles_required(*STAFF)
@operation(tag="tickets", query=TicketsQuery, ok=list[Ticket])
def list_tickets(query: TicketsQuery):
    """List or search tickets.

    Without any of `q, from, to, category, sector, unit, cursor`: tickets in id order
    after `after`. With any: a search, newest first, paged by `cursor` (the next one is in
    the `X-Next-Cursor` header and a `Link: rel="next"`; none on the last page)."""
    rows, crews, next_cursor = search.page(query.data(), query.limit, query.after)
    response = jsonify([serialize.ticket(t, crews[t.id]) for t in rows])
    if next_cursor is not None:
        args = request.args.to_dict() | {"cursor": str(next_cursor)}
        response.headers["X-Next-Cursor"] = str(next_cursor)
        response.headers["Link"] = f'<{url_for(".list_tickets", **args)}>; rel="next"'
    return response


@bp.get("/tickets/<int:ticket_id>")
@roles_required(*STAFF)
@operation(tag="tickets", ok=TicketDetail)
def get_ticket(ticket_id: int):
    """A ticket with its whole story: assignments, timeline, calls, notes, WhatsApp
    messages, hand-offs and call-backs."""
    return jsonify(serialize_calls.ticket_detail(story.of_ticket(ticket_id)))


@bp.post("/callers/history")
@roles_required(*STAFF)
@operation(tag="tickets", json=PhoneIn, ok=CallerHistory)
def caller_history_lookup(json: PhoneIn):
    """A caller's recent calls and pranks, asked as soon as a number is typed.

    The number travels in the body, so it never reaches an access log or a proxy's."""
    return _caller_history(json.phone)


@bp.get("/callers/history")
@roles_required(*STAFF)
@operation(tag="tickets", query=PhoneQuery, ok=CallerHistory)
def caller_history(query: PhoneQuery):
    """A caller's recent calls (the older form; prefer the POST).

    The access log redacts the number."""
    return _caller_history(query.phone)


def _caller_history(raw: str):
    return jsonify(serialize.caller_history(intake.caller_lookup(raw)))


@bp.post("/tickets/<int:ticket_id>/assign")
@roles_required("dispatcher", "supervisor")
@operation(tag="tickets", json=AssignIn, ok=Assigned, status=201, errors=(404, 409))
def assign(ticket_id: int, json: AssignIn):
    """Offer the ticket to a unit the dispatcher chose.

    A unit on a job of lower priority is refused (409 `unit_busy`) unless `confirm`;
    then it is taken off that job, whose slot is routed again."""
    assignment = manual.assign(ticket_id, json.unit_id, actor=current_user, confirm=json.confirm)
    body = ticket_body(tickets.get(ticket_id))
    body["offered"] = serialize.assignment(assignment)
    return jsonify(body), 201


@bp.get("/tickets/<int:ticket_id>/suggestions")
@roles_required(*STAFF)
@operation(tag="tickets", ok=list[Suggestion])
def suggestions(ticket_id: int):
    """The nearest units a dispatcher could assign by hand, nearest first."""
    return jsonify(manual.suggest_units(ticket_id))


@bp.post("/tickets/<int:ticket_id>/cancel")
@roles_required("dispatcher", "supervisor")
@operation(tag="tickets", json=CancelIn, ok=Ticket, errors=(404, 409))
def cancel(ticket_id: int, json: CancelIn):
    """Cancel an open ticket, with a reason: its units are told and freed."""
    ticket = incidents.cancel(ticket_id, json.data(), actor=current_user)
    return jsonify(ticket_body(ticket))


@bp.post("/tickets/<int:ticket_id>/close")
@roles_required("dispatcher", "supervisor")
@operation(tag="tickets", json=CloseIn, ok=Ticket, errors=(404, 409))
def close(ticket_id: int, json: CloseIn):
    """Close an open ticket with a resolution: its units are told and freed."""
    ticket = incidents.close(ticket_id, json.data(), actor=current_user)
    return jsonify(ticket_body(ticket))


@bp.patch("/tickets/<int:ticket_id>")
@roles_required("dispatcher", "supervisor")
@operation(tag="tickets", json=TicketEdit, ok=Ticket, errors=(404, 409))
def edit(ticket_id: int, json: TicketEdit):
    """Change an open ticket: priority, summary, category, location, units needed.

    Its units are told; more units needed are routed at once."""
    ticket = incidents.edit(ticket_id, json.data(), actor=current_user)
    return jsonify(ticket_body(ticket))


@bp.post("/tickets/<int:ticket_id>/alarm/ack")
@roles_required("dispatcher", "supervisor")
@operation(tag="tickets", ok=Ticket, errors=(404, 409))
def acknowledge_alarm(ticket_id: int):
    """Acknowledge an officer's alarm: consoles stop sounding it."""
    return jsonify(ticket_body(emergency.acknowledge(ticket_id, actor=current_user)))


@bp.get("/resolutions")
@roles_required()
@operation(tag="tickets", ok=list[Resolution])
def resolutions():
    """How a job may end (a unit clearing it, a dispatcher closing the ticket)."""
    return jsonify(serialize.resolutions())
