"""An EIDO document from another center taken in as a ticket (created, or updated).

The document must follow NENA's schema (else ``ValidationError`` naming each failing path).
What maps becomes the ticket's own fields and rows: the incident type (its APCO code, or
our own category code when the sender is a center like ours) gives the category, and with
it the units needed and any hand-off; the priority, the location (a PIDF-LO point and
address), the summary, each call with its caller, and the notes. Everything else (the
sender's units and their history, the agencies, additional data, vehicles, ...) is kept in
the ticket's timeline, in the audited ``eido.received`` / ``eido.updated`` event.

One EIDO incident id makes one ticket, whatever the timing: ``eido_links.eido_id`` is
unique. A version goes by its ``lastUpdateTimeStamp``: the one already applied again is a
replay (nothing changes), a newer one updates the ticket, an older one is refused.
A created ticket goes through intake like a call logged here: numbered, flagged, handed
off by its category, and routed to the nearest unit once committed (when it has a point).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import Call, EidoLink, Ticket, TicketNote, User
from ...models.eido import EIDO_ID_MAX
from ...models.notes import NOTE_MAX
from ...models.ticket import CHANNELS, OPEN_STATUSES
from .. import catalog, catalog_settings, clock, events, geo, incidents, phones, state
from .. import intake as ticket_intake
from ..errors import Conflict, ValidationError
from ..validation import Errors
from . import common, pidf, schema

# A sender's clock may run this far ahead of ours; a version dated later is refused (it
# would make every later version look old).
CLOCK_SKEW = timedelta(minutes=5)
# Categories an incoming incident falls back to when its type maps to none of ours.
FALLBACK_CATEGORY = "assistance"
# The unmapped parts kept in the event, at most this large (JSON text); beyond it each
# component is kept by its id only.
UNMAPPED_MAX = 32 * 1024
INCIDENT_MAPPED = {
    "$id",
    "lastUpdateTimeStamp",
    "updatedByAgencyReference",
    "updatedByAgentReference",
    "incidentTypeCommonRegistryText",
    "incidentTypeInternalCode",
    "incidentTypeInternalText",
    "incidentPriorityInternalText",
    "incidentCommonPriorityNumber",
    "locationReference",
    "notesReference",
}
# Components kept as they came (nothing of ours holds them).
KEPT_COMPONENTS = (
    "agentComponent",
    "mergeComponent",
    "linkComponent",
    "dispatchComponent",
    "alarmsSensorsComponent",
    "additionalDataComponent",
    "vehicleComponent",
    "cautionComponent",
    "mediaComponent",
    "sharedCommunicationResourceComponent",
    "externalInformationSourceComponent",
)
AGENCY_FIELDS = (
    "$id",
    "lastUpdateTimeStamp",
    "updatedByAgencyReference",
    "agencyJcard",
    "agencyRoleDescriptionRegistryText",
    "agencyType",
    "incidentOwningAgencyIndicator",
)


@dataclass
class IncomingCall:
    id: str
    fields: dict  # Call's columns: channel, caller_name, caller_phone, text, received_at


@dataclass
class IncomingNote:
    id: str
    text: str
    at: datetime
    author: str | None


@dataclass
class Incoming:
    """What a document says, read into our terms."""

    eido_id: str
    updated_at: datetime
    source: str | None
    category: catalog.Category
    priority: int | None
    summary: str
    lat: float | None
    lon: float | None
    address: str | None
    calls: list[IncomingCall]
    notes: list[IncomingNote]
    agencies: list[dict]
    units: list[dict]
    unmapped: dict = field(default_factory=dict)


def _index(document: dict, name: str) -> dict[str, dict]:
    return {c["$id"]: c for c in document.get(name, []) if isinstance(c.get("$id"), str)}


def _refs(component: dict, name: str) -> list[str]:
    """The ids a reference (or a list of them) names. NENA's ``ReferenceType`` declares no
    type, so the schema lets other values through: those name nothing."""
    value = component.get(name)
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    return [r["$ref"] for r in value if isinstance(r, dict) and isinstance(r.get("$ref"), str)]


def _cut(text: str | None, limit: int) -> str | None:
    if not text:
        return None
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- the incident's type, priority and place ------------------------------------------------


def _category(incident: dict | None, unmapped: dict) -> catalog.Category:
    """Our category for the incident's type: our own code when the sender uses it and its
    APCO code agrees, else the first category of the catalog with that APCO code. Only
    categories a dispatcher may log and that send units qualify."""
    eligible = [c for c in catalog.CATEGORIES if c.dispatch and c.intake]
    if incident is not None:
        apco = str(incident.get("incidentTypeCommonRegistryText", "")).strip().upper()
        own = catalog.get(str(incident.get("incidentTypeInternalCode", "")).strip())
        if own in eligible and own.apco_code == apco:
            return catalog_settings.get(own.code)
        for category in eligible:
            if category.apco_code == apco:
                return catalog_settings.get(category.code)
        unmapped["incident_type"] = {
            k: incident[k]
            for k in (
                "incidentTypeCommonRegistryText",
                "incidentTypeInternalCode",
                "incidentTypeInternalText",
            )
            if k in incident
        }
    return catalog_settings.get(FALLBACK_CATEGORY)


def _priority(incident: dict | None, unmapped: dict) -> int | None:
    if incident is None:
        return None
    internal = str(incident.get("incidentPriorityInternalText", "")).strip()
    if internal in ("1", "2", "3", "4"):
        return int(internal)
    common_ = incident.get("incidentCommonPriorityNumber")
    if isinstance(common_, int) and 1 <= common_ <= 4:
        return common_
    given = {
        k: incident[k]
        for k in ("incidentPriorityInternalText", "incidentCommonPriorityNumber")
        if k in incident
    }
    if given:
        unmapped["priority"] = given
    return None


def _place(location: dict, unmapped: dict) -> tuple[tuple[float, float] | None, str | None]:
    point, civic = (None, None)
    if isinstance(location.get("locationByValue"), str):
        point, civic = pidf.read(location["locationByValue"])
    if point is not None and not geo.in_indonesia(*point):
        unmapped.setdefault("locations_outside_indonesia", []).append(location["$id"])
        point = None
    address = location.get("locationDescriptionText") or civic
    return point, _cut(address, current_app.config["CALLCENTER_ADDRESS_MAX"])


def _location(document: dict, incident: dict | None, unmapped: dict):
    """``(lat, lon, address)``: the first location with a point among those of the incident,
    then of the calls, then any; else the first with an address."""
    locations = _index(document, "locationComponent")
    order = _refs(incident or {}, "locationReference")
    for call in document.get("callComponent", []):
        order += _refs(call, "locationReference")
    order += list(locations)
    seen, fallback, chosen = set(), None, None
    for id_ in order:
        if id_ in seen or id_ not in locations:
            continue
        seen.add(id_)
        point, address = _place(locations[id_], unmapped)
        if point is not None:
            chosen = (point[0], point[1], address, id_)
            break
        if address and fallback is None:
            fallback = (None, None, address, id_)
    chosen = chosen or fallback
    others = [loc for id_, loc in locations.items() if chosen is None or id_ != chosen[3]]
    if others:
        unmapped["locationComponent"] = others
    return chosen[:3] if chosen else (None, None, None)


# --- calls, callers and notes ------------------------------------------------------------------


def _phone(uri: str) -> str | None:
    """An E.164 number from a ``tel:`` or ``sip:`` URI: a global number (``+62...``), or a
    national one written with its 0 (taken as Indonesian). Anything else is not mapped."""
    user = re.sub(r"^(tel|sips?):", "", uri.strip(), flags=re.IGNORECASE)
    user = user.split("@", 1)[0].split(";", 1)[0].strip()
    if not user.startswith(("+", "0")):
        return None
    return phones.normalise(user)


def _person_name(person: dict) -> str | None:
    for name in (person.get("ncPersonComponent") or {}).get("name", []) or []:
        full = [n.get("value") for n in name.get("personFullName", []) if n.get("value")]
        if full:
            return " ".join(full)
        parts = [
            n.get("value")
            for key in ("personGivenName", "personMiddleName", "personSurName")
            for n in name.get(key, [])
            if n.get("value")
        ]
        if parts:
            return " ".join(parts)
    return None


def _caller(call: dict, persons: dict, callbacks: dict, unmapped: dict) -> tuple:
    """``(name, phone)`` of the call's caller (its person with the Caller role)."""
    candidates = [persons[r] for r in _refs(call, "personReference") if r in persons]
    candidates += [p for p in persons.values() if call["$id"] in (p.get("callIdentifier") or [])]
    callers = [
        p
        for p in candidates
        if common.CALLER_ROLE.lower()
        in (r.lower() for r in p.get("personIncidentRoleRegistryText", []))
    ]
    person = (callers or candidates or [None])[0]
    name = _cut(_person_name(person), 120) if person else None
    uris = []
    for holder in (person or {}, call):
        for id_ in _refs(holder, "callBackReference"):
            for uri in (callbacks.get(id_) or {}).get("callBackInformationUri", []):
                if uri not in uris:
                    uris.append(uri)
    phone = next((p for p in map(_phone, uris) if p), None)
    if uris and phone is None:
        unmapped.setdefault("caller_uris", {})[call["$id"]] = uris
    return name, phone


def _note_text(note: dict) -> str:
    return common.from_html(note.get("notesActionComments", ""))


def _calls(document: dict, notes: dict, unmapped: dict) -> tuple[list[IncomingCall], set[str]]:
    persons = _index(document, "personComponent")
    callbacks = _index(document, "callbackComponent")
    summary_max = current_app.config["CALLCENTER_SUMMARY_MAX"]
    out, used_notes, callers = [], set(), set()
    for call in document.get("callComponent", []):
        said = [notes[r] for r in _refs(call, "notesReference") if r in notes]
        used_notes.update(n["$id"] for n in said)
        name, phone = _caller(call, persons, callbacks, unmapped)
        callers.update(_refs(call, "personReference"))
        channel = call.get("localCallType")
        out.append(
            IncomingCall(
                call["$id"],
                {
                    "channel": channel if channel in CHANNELS else "phone",
                    "caller_name": name,
                    "caller_phone": phone,
                    "text": _cut("\n".join(_note_text(n) for n in said), summary_max) or "",
                    "received_at": schema.parse_timestamp(call["callStartTimestamp"]),
                },
            )
        )
        callers.update(
            p["$id"] for p in persons.values() if call["$id"] in (p.get("callIdentifier") or [])
        )
    others = [p for id_, p in persons.items() if id_ not in callers]
    if others:
        unmapped["personComponent"] = others
    return out, used_notes


def _agents(document: dict) -> dict[str, str]:
    """Each agent's name as a person reads it: the jCard's ``fn``, else its id."""
    names = {}
    for agent in document.get("agentComponent", []):
        names[agent["$id"]] = _jcard_name(agent.get("agentJcard")) or agent["$id"]
    return names


def _jcard_name(text) -> str | None:
    try:
        card = json.loads(text) if isinstance(text, str) else None
        return next(p[3] for p in card[1] if p[0] == "fn")
    except (ValueError, TypeError, IndexError, KeyError, StopIteration):
        return None


def _summary_and_notes(document, incident, notes, call_notes, calls):
    """The ticket's summary, and its notes: every note of the document but those that are
    a call's words and the one our own documents mark as the summary."""
    agents = _agents(document)
    summary, own_summary = None, None
    for id_ in _refs(incident or {}, "notesReference"):
        local = common.local_part(id_, "noteid") or ""
        if id_ in notes and local.startswith(common.SUMMARY_KIND + "-"):
            summary, own_summary = _note_text(notes[id_]), id_
            break
    if summary is None:
        first = next(
            (notes[r] for r in _refs(incident or {}, "notesReference") if r in notes), None
        )
        summary = _note_text(first) if first else None
    if summary is None and calls:
        summary = calls[0].fields["text"]
    if not summary and incident is not None:
        summary = incident.get("incidentTypeInternalText")
    out = []
    for id_, note in notes.items():
        if id_ in call_notes or id_ == own_summary:
            continue
        text = _cut(_note_text(note), NOTE_MAX)
        if not text:
            continue
        author = next(iter(_refs(note, "agentReference")), None)
        out.append(
            IncomingNote(
                id_,
                text,
                schema.parse_timestamp(note["lastUpdateTimeStamp"]),
                agents.get(author, author),
            )
        )
    return _cut(summary, current_app.config["CALLCENTER_SUMMARY_MAX"]) or "", out


def _units(document: dict) -> list[dict]:
    """The sender's units on the incident, with their history (kept in the timeline)."""
    return [
        {
            "id": r["$id"],
            "name": r.get("emergencyResourceName"),
            "type": r.get("emergencyResourceTypeInternalText")
            or r.get("emergencyResourceTypeCommonRegistryText"),
            "status": r.get("primaryUnitStatusRegistryText"),
            "history": list(r.get("unitStatusInternal", [])),
        }
        for r in document.get("emergencyResourceComponent", [])
    ]


def _agencies(document: dict) -> list[dict]:
    ours = common.agency_id()
    return [
        {k: a[k] for k in AGENCY_FIELDS if k in a}
        for a in document.get("agencyComponent", [])
        if a.get("$id") != ours
    ]


def _bounded(unmapped: dict) -> dict:
    if len(json.dumps(unmapped, default=str)) <= UNMAPPED_MAX:
        return unmapped
    short = {
        k: [c.get("$id") for c in v if isinstance(c, dict)] if isinstance(v, list) else v
        for k, v in unmapped.items()
    }
    short["truncated"] = True
    if len(json.dumps(short, default=str)) > UNMAPPED_MAX:
        short = {"truncated": True, "parts": sorted(unmapped)}
    return short


def read(document) -> Incoming:
    """The document checked against NENA's schema and read into our terms; a
    ``ValidationError`` names each failing path (``callComponent.0.direction``)."""
    problems = schema.problems(document)
    if problems:
        raise ValidationError(
            _l("The EIDO document does not follow the NENA schema."), fields=problems
        )
    errors = {}
    eido_id = document["$id"].strip()
    if not eido_id or len(eido_id) > EIDO_ID_MAX:
        errors["$id"] = _l("1 to %(n)s characters.", n=EIDO_ID_MAX)
    updated_at = schema.parse_timestamp(document["lastUpdateTimeStamp"])
    if updated_at > clock.now() + CLOCK_SKEW:
        errors["lastUpdateTimeStamp"] = _l("This time is in the future.")
    if errors:
        raise ValidationError(_l("The EIDO document was not accepted."), fields=errors)

    unmapped: dict = {}
    incident = document.get("incidentComponent")
    if incident is not None:
        rest = {k: v for k, v in incident.items() if k not in INCIDENT_MAPPED}
        if rest:
            unmapped["incidentComponent"] = rest
    category = _category(incident, unmapped)
    priority = _priority(incident, unmapped)
    lat, lon, address = _location(document, incident, unmapped)
    notes = _index(document, "notesComponent")
    calls, call_notes = _calls(document, notes, unmapped)
    summary, ticket_notes = _summary_and_notes(document, incident, notes, call_notes, calls)
    for name in KEPT_COMPONENTS:
        if document.get(name):
            unmapped[name] = document[name]
    source = next(iter(_refs(document, "updatedByAgencyReference")), None)
    return Incoming(
        eido_id=eido_id,
        updated_at=updated_at,
        source=_cut(source, EIDO_ID_MAX),
        category=category,
        priority=priority,
        summary=summary,
        lat=lat,
        lon=lon,
        address=address,
        calls=calls,
        notes=ticket_notes,
        agencies=_agencies(document),
        units=_units(document),
        unmapped=_bounded(unmapped),
    )


# --- the use case ---------------------------------------------------------------------------------


class _Raced(Exception):
    """Another delivery of the same incident made its ticket first."""


def receive(document, *, actor: User) -> tuple[Ticket, str]:
    """Take in an EIDO document; returns ``(ticket, outcome)``, outcome ``created``,
    ``updated`` or ``replayed`` (this version was applied already: nothing changed).
    ``ValidationError`` for a document that fails the schema, ``Conflict`` for a version
    older than the one applied."""
    incoming = read(document)
    for _ in range(2):
        link = _locked_link(incoming.eido_id)
        if link is None:
            try:
                return _create(incoming, actor), "created"
            except _Raced:
                continue
        return _update(link, incoming, actor)
    raise Conflict(_l("This incident is being received right now. Try again."), code="eido_busy")


def _locked_link(eido_id: str) -> EidoLink | None:
    """The incident's link with its ticket, both locked (ticket first, the lock order)."""
    ticket_id = db.session.scalar(db.select(EidoLink.ticket_id).where(EidoLink.eido_id == eido_id))
    if ticket_id is None:
        return None
    state.lock_ticket(ticket_id)
    return db.session.scalars(
        db.select(EidoLink)
        .where(EidoLink.eido_id == eido_id)
        .with_for_update(of=EidoLink, key_share=True)
        .execution_options(populate_existing=True)
    ).one()


def _event_data(ticket: Ticket, incoming: Incoming, **more) -> dict:
    return {
        "number": ticket.number,
        "eido_id": incoming.eido_id,
        "source": incoming.source,
        "last_update": common.iso(incoming.updated_at),
        "units": incoming.units,
        "agencies": incoming.agencies,
        "unmapped": incoming.unmapped,
        **more,
    }


def _add_call(ticket: Ticket, call: IncomingCall, actor: User) -> None:
    row = Call(ticket_id=ticket.id, taken_by_id=None, **call.fields)
    db.session.add(row)
    db.session.flush()
    events.record(
        "ticket.call_attached",
        ticket=ticket,
        actor=actor,
        data={
            "number": ticket.number,
            "call_id": row.id,
            "channel": row.channel,
            "caller_name": row.caller_name,
            "caller_phone": row.caller_phone,
            "text": row.text,
            "eido_id": call.id,
        },
    )


def _add_note(ticket: Ticket, note: IncomingNote, actor: User) -> None:
    row = TicketNote(ticket_id=ticket.id, text=note.text, created_at=note.at)
    db.session.add(row)
    db.session.flush()
    events.record(
        "ticket.note_added",
        ticket=ticket,
        actor=actor,
        data={
            "number": ticket.number,
            "note_id": row.id,
            "text": note.text,
            "callsign": None,
            "author": note.author,
            "eido_id": note.id,
        },
    )


def _create(incoming: Incoming, actor: User) -> Ticket:
    category = incoming.category
    first = incoming.calls[0] if incoming.calls else None
    clean = {
        "received_at": None,  # the call rang at another center: not one of our milestones
        "answered_at": None,
        "channel": first.fields["channel"] if first else "phone",
        "priority": incoming.priority or category.default_priority,
        "units_needed": category.default_units,
        "summary": incoming.summary,
        "caller_name": first.fields["caller_name"] if first else None,
        "caller_phone": first.fields["caller_phone"] if first else None,
        "lat": incoming.lat,
        "lon": incoming.lon,
        "address": incoming.address,
    }
    ticket = ticket_intake.open_ticket(
        clean, category, actor=actor, opening_call=dict(first.fields) if first else None
    )
    now = clock.now()
    db.session.add(
        EidoLink(
            eido_id=incoming.eido_id,
            ticket_id=ticket.id,
            source=incoming.source,
            last_update_at=incoming.updated_at,
            created_at=now,
            updated_at=now,
            components={
                "calls": [c.id for c in incoming.calls],
                "notes": [n.id for n in incoming.notes],
                "agencies": incoming.agencies,
            },
        )
    )
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise _Raced from exc
    ticket_intake.announce(
        ticket, category, actor=actor, origin={"source": "eido", "eido_id": incoming.eido_id}
    )
    for call in incoming.calls[1:]:
        _add_call(ticket, call, actor)
    for note in incoming.notes:
        _add_note(ticket, note, actor)
    events.record(
        "eido.received",
        ticket=ticket,
        actor=actor,
        data=_event_data(ticket, incoming, calls=len(incoming.calls), notes=len(incoming.notes)),
    )
    db.session.commit()
    return ticket


def _changes(ticket: Ticket, incoming: Incoming, unmapped: dict) -> dict:
    """The ticket fields a newer version changes (checked as a dispatcher's edit is)."""
    changes: dict = {"summary": incoming.summary} if incoming.summary else {}
    if incoming.priority is not None:
        changes["priority"] = incoming.priority
    if incoming.category.code != ticket.category:
        errors = Errors()
        if incidents.dispatch_category(incoming.category.code, errors) and not errors:
            changes["category"] = incoming.category.code
        else:
            unmapped["category_not_changed"] = incoming.category.code
    if incoming.lat is not None:
        changes.update(lat=incoming.lat, lon=incoming.lon, address=incoming.address)
    elif incoming.address:
        changes["address"] = incoming.address
    return changes


def _update(link: EidoLink, incoming: Incoming, actor: User) -> tuple[Ticket, str]:
    ticket = db.session.get(Ticket, link.ticket_id)
    if incoming.updated_at == link.last_update_at:
        db.session.rollback()
        return ticket, "replayed"
    if incoming.updated_at < link.last_update_at:
        raise Conflict(
            _l(
                "A newer version of this incident was already received (%(at)s).",
                at=common.iso(link.last_update_at),
            ),
            code="eido_outdated",
        )
    unmapped = dict(incoming.unmapped)
    changes = _changes(ticket, incoming, unmapped)
    diff = {}
    if ticket.status in OPEN_STATUSES:
        diff = incidents.apply_changes(
            ticket, changes, actor=actor, source="eido", eido_id=incoming.eido_id
        )
    else:  # a closed ticket keeps its fields: what would have changed is in the event
        differing = sorted(k for k, v in changes.items() if getattr(ticket, k) != v)
        if differing:
            unmapped["ticket_closed"] = differing
    seen = link.components or {}
    new_calls = [c for c in incoming.calls if c.id not in seen.get("calls", [])]
    new_notes = [n for n in incoming.notes if n.id not in seen.get("notes", [])]
    for call in new_calls:
        _add_call(ticket, call, actor)
    for note in new_notes:
        _add_note(ticket, note, actor)
    link.last_update_at = incoming.updated_at
    link.source = incoming.source
    link.updated_at = clock.now()
    link.components = {
        "calls": [*seen.get("calls", []), *(c.id for c in new_calls)],
        "notes": [*seen.get("notes", []), *(n.id for n in new_notes)],
        "agencies": incoming.agencies,
    }
    incoming.unmapped = _bounded(unmapped)
    events.record(
        "eido.updated",
        ticket=ticket,
        actor=actor,
        data=_event_data(
            ticket,
            incoming,
            changed=sorted(diff),
            calls=len(new_calls),
            notes=len(new_notes),
        ),
    )
    db.session.commit()
    return ticket, "updated"
