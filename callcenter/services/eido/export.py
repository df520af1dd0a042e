"""A ticket as an EIDO document (NENA-STA-021): what another center needs to take it over.

The document carries the incident (its type: our category's APCO code, with our code and
label as the internal type; status, priority, location and summary), each call with its
caller (a person, and a call-back number), each unit sent with its assignment's history,
the notes, and the agencies: this center, those the ticket was handed to, and those an
imported incident came with. Every document is checked against NENA's schema before it
leaves: one that fails is a bug here, logged and answered with 500.

Ids are NENA's ``urn:emergency:uid:<kind>:<string>:<our agency id>``; an incident first
received as an EIDO keeps the id it came with, so that both centers name it alike.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from ...extensions import db
from ...models import Assignment, Call, EidoLink, Event, Handoff, Ticket, TicketNote, User
from .. import calls, catalog, events, handoffs, notes, tickets
from . import common, pidf, schema
from .common import prologue, ref, uid

log = logging.getLogger(__name__)

# Unit status words of NENA's Primary Unit Status registry, for an assignment's step.
UNIT_STATUS = {
    "offered": "Dispatched",
    "accepted": "Dispatched",
    "en_route": "Enroute",
    "on_scene": "OnScene",
}
# Agency kinds (models/agencies.py) as IANA emergency responder service types.
AGENCY_TYPES = {"fire": "fire", "medical": "ems", "police": "police"}
# Assignment events, and the unit's own steps, that make up a unit's history on a ticket.
UNIT_STEPS = ("en_route", "on_scene")


class ExportBroken(Exception):
    """A document we built fails NENA's schema: a bug in this module."""


def incident_id(ticket: Ticket, link: EidoLink | None) -> str:
    return link.eido_id if link is not None else uid("incidentid", ticket.number)


def _link(ticket_id: int) -> EidoLink | None:
    return db.session.scalars(
        db.select(EidoLink).where(EidoLink.ticket_id == ticket_id).order_by(EidoLink.id)
    ).first()


def _agent_id(user: User) -> str:
    return uid("agentid", f"user-{user.id}")


def _unit_agent_id(unit_id: int) -> str:
    return uid("agentid", f"unit-{unit_id}")


def _phone_uri(phone: str | None) -> str | None:
    return f"tel:{phone}" if phone else None


class _Builder:
    def __init__(self, ticket: Ticket, link: EidoLink | None, rows: list[Event]):
        self.ticket = ticket
        self.link = link
        self.rows = rows
        self.agents: dict[str, dict] = {}
        self.now = max([ticket.updated_at, *(e.at for e in rows)])
        self.doc: dict = {}

    # --- agents: the people and units who took calls, wrote notes, went -------------------

    def user_agent(self, user: User | None, role: str) -> str | None:
        if user is None:
            return None
        id_ = _agent_id(user)
        if id_ not in self.agents:
            self.agents[id_] = prologue(id_, self.now) | {
                "agentJcard": _jcard(user.full_name or user.username),
                "agentRoleRegistryText": [role],
                "agencyReference": ref(common.agency_id()),
            }
        return id_

    def unit_agent(self, unit) -> str:
        id_ = _unit_agent_id(unit.id)
        if id_ not in self.agents:
            self.agents[id_] = prologue(id_, self.now) | {
                "agentJcard": _jcard(unit.callsign),
                "agentRoleRegistryText": ["Responder"],
                "agencyReference": ref(common.agency_id()),
            }
        return id_

    # --- the parts of the document -----------------------------------------------------------

    def location(self) -> list[dict]:
        t = self.ticket
        if t.lat is None and not t.address:
            return []
        body = prologue(uid("locationid", t.number), t.updated_at) | {
            "locationTypeDescriptionRegistryText": "Incident",
        }
        if t.lat is not None and t.lon is not None:
            body["locationByValue"] = pidf.point_pidf(t.lat, t.lon, f"pres:{t.number}")
        if t.address:
            body["locationDescriptionText"] = t.address
        return [body]

    def calls(self, rows: list[Call], location_refs: list[dict]) -> tuple[list, list, list, list]:
        """callComponent, personComponent, callbackComponent, and the calls' notes."""
        out_calls, persons, callbacks, said = [], [], [], []
        for n, call in enumerate(rows):
            call_id = uid("callid", call.id)
            body = prologue(call_id, call.received_at) | {
                "standardPrimaryCallType": "emergency",
                "localCallType": call.channel,
                "direction": "incoming",
                "callStartTimestamp": common.iso(call.received_at),
                "callStateRegistryText": "callEnd",
            }
            if n == 0 and self.ticket.answered_at is not None:
                body["answerDate"] = common.iso(self.ticket.answered_at)
            agent = self.user_agent(call.taken_by, "Call Taking")
            if agent:
                body["agentReference"] = [ref(agent)]
            if location_refs and n == 0:
                body["locationReference"] = location_refs
            if call.text:
                note_id = uid("noteid", f"call-{call.id}")
                said.append(
                    prologue(note_id, call.received_at)
                    | {"notesActionComments": common.to_html(call.text)}
                )
                body["notesReference"] = [ref(note_id)]
            if call.caller_name or call.caller_phone:
                person_id = uid("personid", f"call-{call.id}")
                person = prologue(person_id, call.received_at) | {
                    "personIncidentRoleRegistryText": [common.CALLER_ROLE],
                    "callIdentifier": [call_id],
                }
                if call.caller_name:
                    person["ncPersonComponent"] = {
                        "name": [{"personFullName": [{"value": call.caller_name}]}]
                    }
                if call.caller_phone:
                    callback_id = uid("callbackid", f"call-{call.id}")
                    callbacks.append(
                        prologue(callback_id, call.received_at)
                        | {"callBackInformationUri": [_phone_uri(call.caller_phone)]}
                    )
                    person["callBackReference"] = ref(callback_id)
                    body["callBackReference"] = ref(callback_id)
                persons.append(person)
                body["personReference"] = [ref(person_id)]
            out_calls.append(body)
        return out_calls, persons, callbacks, said

    def notes(self, rows: list[TicketNote]) -> list[dict]:
        out = []
        t = self.ticket
        if t.summary:
            out.append(
                prologue(uid("noteid", f"{common.SUMMARY_KIND}-{t.number}"), t.updated_at)
                | {"notesActionComments": common.to_html(t.summary)}
            )
        for note in rows:
            body = prologue(uid("noteid", note.id), note.created_at) | {
                "notesActionComments": common.to_html(note.text)
            }
            if note.unit is not None:
                body["agentReference"] = ref(self.unit_agent(note.unit))
            elif note.author is not None:
                body["agentReference"] = ref(self.user_agent(note.author, "Dispatch"))
            out.append(body)
        return out

    def history(self, assignment: Assignment) -> list[tuple[str, datetime]]:
        """The assignment's steps, in order, from the ticket's events: the offer and what
        became of it, and the unit's own steps (en route, on scene) while it held the job."""
        end = assignment.ended_at
        steps = []
        for e in self.rows:
            data = e.data or {}
            if e.type.startswith("assignment.") and data.get("assignment_id") == assignment.id:
                steps.append((e.type.split(".", 1)[1], e.at))
            elif (
                e.type == "unit.status_changed"
                and e.unit_id == assignment.unit_id
                and data.get("to") in UNIT_STEPS
                and e.at >= assignment.offered_at
                and (end is None or e.at <= end)
            ):
                steps.append((data["to"], e.at))
        return steps

    def units(self, rows: list[Assignment]) -> tuple[list[dict], list[dict]]:
        """emergencyResourceComponent (a unit on the ticket, with its history) and
        dispatchComponent (the sending of it), one of each per assignment."""
        resources, dispatches = [], []
        for a in rows:
            steps = self.history(a)
            last = steps[-1][1] if steps else a.offered_at
            status = UNIT_STATUS.get(a.step, "Dispatched") if a.is_active else "Available"
            resource_id = uid("resourceid", f"assignment-{a.id}")
            resources.append(
                prologue(resource_id, last)
                | {
                    "emergencyResourceTypeCommonRegistryText": "police",
                    "emergencyResourceTypeInternalText": a.unit.kind,
                    "emergencyResourceName": a.unit.callsign,
                    "resourceAttributeRegistryText": [],
                    "primaryUnitStatusRegistryText": status,
                    "secondaryUnitStatusRegistryText": [],
                    # The local history: "<step>@<time>", oldest first; the last is now.
                    "unitStatusInternal": [f"{s}@{common.iso(at)}" for s, at in steps],
                    "agentReference": [ref(self.unit_agent(a.unit))],
                }
            )
            dispatches.append(
                prologue(uid("dispatchid", a.id), a.offered_at)
                | {
                    "agencyReference": ref(common.agency_id()),
                    "emergencyResourceReference": [ref(resource_id)],
                }
            )
        return resources, dispatches

    def agencies(self, rows: list[Handoff]) -> list[dict]:
        imported = self.link is not None
        ours = prologue(common.agency_id(), self.now) | {
            "agencyRoleDescriptionRegistryText": ["CallReceiving", "Dispatching"],
            "agencyType": ["police"],
            "incidentOwningAgencyIndicator": not imported,
        }
        out = {ours["$id"]: ours}
        for h in rows:
            agency = h.agency
            id_ = uid("agencyid", agency.code)
            if id_ in out:
                continue
            out[id_] = prologue(id_, h.acknowledged_at or h.created_at) | {
                "agencyJcard": _jcard(agency.name_id, agency.phone),
                "agencyRoleDescriptionRegistryText": ["Responding"],
                "agencyType": [AGENCY_TYPES.get(agency.kind, agency.kind)],
                "incidentOwningAgencyIndicator": False,
            }
        if imported:
            for body in (self.link.components or {}).get("agencies", []):
                out.setdefault(body["$id"], body)
        return list(out.values())

    def incident(self, location_refs: list[dict], note_refs: list[dict]) -> dict:
        t = self.ticket
        category = catalog.get(t.category)
        body = prologue(uid("incidentinfoid", t.number), t.updated_at) | {
            "incidentTypeCommonRegistryText": category.apco_code if category else "OTHER",
            "incidentTypeInternalCode": t.category,
            "incidentTypeInternalText": category.label_id if category else t.category,
            "incidentStatusInternalText": [t.status],
            "internalIncidentId": t.number,
            "incidentPriorityInternalText": str(t.priority),
            "incidentCommonPriorityNumber": t.priority,
        }
        if location_refs:
            body["locationReference"] = location_refs
        if note_refs:
            body["notesReference"] = note_refs
        return body


def _jcard(name: str, phone: str | None = None) -> str:
    """A jCard (RFC 7095) with a name, and a number when there is one, as JSON text."""
    props = [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]
    if phone:
        props.append(["tel", {}, "uri", f"tel:{phone}"])
    return json.dumps(["vcard", props], ensure_ascii=False)


def build(ticket: Ticket) -> dict:
    """The EIDO document of a ticket (not checked: ``document`` checks it)."""
    link = _link(ticket.id)
    rows = events.for_ticket(ticket.id)
    b = _Builder(ticket, link, rows)
    locations = b.location()
    location_refs = [ref(x["$id"]) for x in locations]
    call_rows, persons, callbacks, said = b.calls(calls.calls_of(ticket.id), location_refs)
    ticket_notes = b.notes(notes.notes_of(ticket.id))
    resources, dispatches = b.units(tickets.assignments_of(ticket.id))
    agencies = b.agencies(handoffs.of_ticket(ticket.id))
    incident = b.incident(location_refs, [ref(n["$id"]) for n in ticket_notes])
    doc = {
        "$id": incident_id(ticket, link),
        "lastUpdateTimeStamp": common.iso(b.now),
        "updatedByAgencyReference": ref(common.agency_id()),
        "eidoVersion": common.EIDO_VERSION,
        "issuingElementIdentification": f"cad.{common.agency_id()}",
        "incidentComponent": incident,
        "callComponent": call_rows,
        "callbackComponent": callbacks,
        "dispatchComponent": dispatches,
        "notesComponent": ticket_notes + said,
        "emergencyResourceComponent": resources,
        "agencyComponent": agencies,
        "agentComponent": list(b.agents.values()),
        "locationComponent": locations,
        "personComponent": persons,
        "@context": dict(common.CONTEXT),
    }
    return {k: v for k, v in doc.items() if v != []}


def document(ticket_id: int) -> dict:
    """The ticket's EIDO document, checked against NENA's schema (``NotFound`` for an
    unknown ticket; ``ExportBroken`` if the document fails the schema, which is a bug)."""
    ticket = tickets.get(ticket_id)
    doc = build(ticket)
    found = schema.problems(doc)
    if found:
        log.error("EIDO export of ticket %s fails the schema: %s", ticket.id, found)
        raise ExportBroken(f"ticket {ticket.id}: {found}")
    return doc
